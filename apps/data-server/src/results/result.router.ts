import { gunzipSync } from 'node:zlib';
import { Readable, pipeline } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { Context } from 'koa';
import { Router } from '@koa/router';
import {
  BadRequestError,
  CachedResultStore,
  NotFoundError,
  type DataTokenGrant,
  type DataTokenKind,
  type DataTokens,
  type ResultStore,
  type StoredResult,
} from '@sightline/domain';
import { checkQueryParameters } from '@sightline/jsonapi';
import { sendNoContent, type RequestState } from '@sightline/http';
import { DEFAULT_CSV_FORMAT } from '@sightline/render/csv';
import { dataKeyFromPath } from './data-key.js';
import {
  allChunks,
  csvBody,
  documentBody,
  jsonBody,
  jsonGzipBody,
  ndjsonBody,
  sliceChunks,
  type ChunkSlice,
  type ResultFormat,
  type RowRange,
} from './result-body.js';

export interface ResultRoutesDeps {
  resultStore: ResultStore;
  tokens: DataTokens;
}

const RESULTS_PREFIX = '/results/';
const SCHEMAS_PREFIX = '/schemas/';
/** The key of one schema: the full schema key plus the hex of the schema name (see `schemaDataKey`). */
const SINGLE_SCHEMA_KEY = /^([^/]+\/schemas\/[^/]+)\/([0-9a-f]{2,512})$/;
const RESULT_PARAMETERS = ['format', 'offset', 'limit'] as const;
const FORMATS: readonly ResultFormat[] = ['json', 'csv', 'ndjson'];
const CONTENT_TYPES: Record<ResultFormat, string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
};
/** Transcoded formats (csv, ndjson) are compressed on the fly with a cheap level. */
const TRANSCODE_GZIP_LEVEL = 1;
const STREAM_HIGH_WATER_MARK = 64 * 1024;

interface ResultQuery {
  format: ResultFormat | undefined;
  range: RowRange | undefined;
}

function singleValue(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  if (Array.isArray(value)) throw new BadRequestError(`Query parameter "${name}" may be given once`, { source: { parameter: name } });
  return value;
}

function rowNumber(ctx: Context, name: string): number | undefined {
  const value = singleValue(ctx, name);
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new BadRequestError(`Query parameter "${name}" must be a non-negative integer`, { source: { parameter: name } });
  return Number(value);
}

/**
 * Parses `format`, `offset` and `limit`.
 * @throws BadRequestError (400) for an unknown parameter or a malformed value
 */
function parseResultQuery(ctx: Context): ResultQuery {
  checkQueryParameters(ctx.query, RESULT_PARAMETERS);
  const format = singleValue(ctx, 'format');
  if (format !== undefined && !FORMATS.includes(format as ResultFormat)) {
    throw new BadRequestError(`Query parameter "format" must be one of ${FORMATS.join(', ')}`, { source: { parameter: 'format' } });
  }
  const offset = rowNumber(ctx, 'offset');
  const limit = rowNumber(ctx, 'limit');
  const range = offset === undefined && limit === undefined ? undefined : { offset: offset ?? 0, limit };
  return { format: format as ResultFormat | undefined, range };
}

/** Whether the client takes a gzip body (`Accept-Encoding`, honouring `q=0`). */
function acceptsGzip(ctx: Context): boolean {
  return ctx.acceptsEncodings('gzip', 'identity') === 'gzip';
}

function authorize(ctx: Context, deps: ResultRoutesDeps, prefix: string, kind: DataTokenKind): { dataKey: string; grant: DataTokenGrant } {
  const dataKey = dataKeyFromPath(ctx.path, prefix);
  // the error handler names this scheme in `WWW-Authenticate` on a 401
  (ctx.state as RequestState & { authScheme?: string }).authScheme = 'Data';
  const grant = deps.tokens.verify(ctx.get('authorization') || undefined, dataKey, kind);
  return { dataKey, grant };
}

async function findResult(deps: ResultRoutesDeps, grant: DataTokenGrant, dataKey: string): Promise<StoredResult> {
  const result = await deps.resultStore.findLatest(grant.organizationId, dataKey);
  // unknown, expired and another organization's keys all read the same
  if (!result) throw new NotFoundError('No data for this data key; it may have expired', { code: 'data_not_found' });
  return result;
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

/** Bytes of a body read before its status line is sent (see `primed`). */
const PRIMED_BYTES = 64 * 1024;

/**
 * `source` with its first `PRIMED_BYTES` already read (whole pieces, so at least one stored chunk
 * when there is one): a failure to read the stored result (e.g. the database is unreachable) then
 * surfaces before the status line is sent, as a clean error answer (503), instead of a 200 cut
 * short. A small result is read whole before it is answered. HEAD reads nothing.
 */
async function primed(ctx: Context, source: AsyncIterable<Buffer>): Promise<AsyncIterable<Buffer>> {
  if (ctx.method === 'HEAD') return source;
  const iterator = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let bytes = 0;
  let done = false;
  while (bytes < PRIMED_BYTES) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    head.push(next.value);
    bytes += next.value.length;
  }
  return (async function* () {
    let finished = done;
    try {
      yield* head;
      head.length = 0;
      while (!finished) {
        const next = await iterator.next();
        if (next.done) finished = true;
        else yield next.value;
      }
    } finally {
      // the client went away: the source releases what it holds (reads in flight, prefetch budget)
      if (!finished) await iterator.return?.();
    }
  })();
}

/** Sets the streaming body: `source` with back-pressure, optionally gzip-compressed on the way. */
function sendStream(ctx: Context, source: AsyncIterable<Buffer>, compress: boolean): void {
  const readable = Readable.from(source, { objectMode: false, highWaterMark: STREAM_HIGH_WATER_MARK });
  if (!compress) {
    ctx.body = readable;
    return;
  }
  const gz = createGzip({ level: TRANSCODE_GZIP_LEVEL });
  // an error on either side destroys both, and Koa's own pipeline then aborts the response
  pipeline(readable, gz, () => {});
  ctx.body = gz;
}

function commonHeaders(ctx: Context, result: StoredResult, contentType: string, gzipped: boolean): void {
  ctx.status = 200;
  ctx.set('Content-Type', contentType);
  ctx.set('Cache-Control', 'private, no-store');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Vary', 'Accept-Encoding');
  ctx.set('Last-Modified', result.dataTimestamp.toUTCString());
  if (gzipped) ctx.set('Content-Encoding', 'gzip');
}

async function sendDocument(ctx: Context, deps: ResultRoutesDeps, result: StoredResult): Promise<void> {
  const gzipped = acceptsGzip(ctx);
  const body = await primed(ctx, documentBody({ store: deps.resultStore, result, slices: allChunks(result) }, gzipped));
  commonHeaders(ctx, result, CONTENT_TYPES.json, gzipped);
  sendStream(ctx, body, false);
}

/**
 * `GET /results/<dataKey>` (contract row 90) and `GET /schemas/<dataKey>` (row 91; 204 until the
 * schema is stored). HEAD answers the same status and headers without reading any chunk.
 */
export function resultRoutes(deps: ResultRoutesDeps): Router<RequestState> {
  const router = new Router<RequestState>();

  // A RegExp route: the key is read from the raw path (`ctx.path` is never URL-decoded).
  router.get(/^\/results\/.*$/, async (ctx) => {
    const { dataKey, grant } = authorize(ctx, deps, RESULTS_PREFIX, 'result');
    const query = parseResultQuery(ctx);
    const result = await findResult(deps, grant, dataKey);
    if (result.kind === 'document') {
      if (query.format !== undefined && query.format !== 'json')
        throw new BadRequestError('This data key holds a JSON document; only format=json applies', { source: { parameter: 'format' } });
      if (query.range)
        throw new BadRequestError('This data key holds a JSON document, which has no rows to page', {
          source: { parameter: query.range.limit === undefined ? 'offset' : 'limit' },
        });
      await sendDocument(ctx, deps, result);
      return;
    }

    const format: ResultFormat = query.format ?? grant.format;
    const slices: ChunkSlice[] = query.range ? sliceChunks(await deps.resultStore.chunkIndex(result.executionId), query.range) : allChunks(result);
    const input = { store: deps.resultStore, result, slices };
    const gzipped = acceptsGzip(ctx);
    const make = () =>
      format === 'json'
        ? gzipped
          ? jsonGzipBody(input, query.range)
          : jsonBody(input, query.range)
        : format === 'csv'
          ? csvBody(input, grant.csv ?? DEFAULT_CSV_FORMAT)
          : ndjsonBody(input);
    // a small result held in memory: its whole JSON body, made once (the same bytes as streamed)
    const whole =
      format === 'json' && !query.range && ctx.method !== 'HEAD' && deps.resultStore instanceof CachedResultStore
        ? await deps.resultStore.body(result.executionId, gzipped ? 'json.gz' : 'json', () => collect(make()))
        : undefined;
    // the first piece is read before any header is set (see `primed`)
    const body = whole ? undefined : await primed(ctx, make());
    commonHeaders(ctx, result, CONTENT_TYPES[format], gzipped);
    ctx.set('X-Sql-Rows', String(result.sqlRows));
    if (format === 'csv') ctx.set('Content-Disposition', `attachment; filename="result-${result.executionId}.csv"`);
    if (whole) ctx.body = whole;
    // json bodies are built gzipped (or not) already; csv and ndjson are compressed on the way
    else sendStream(ctx, body!, format !== 'json' && gzipped);
  });

  router.get(/^\/schemas\/.*$/, async (ctx) => {
    const { dataKey, grant } = authorize(ctx, deps, SCHEMAS_PREFIX, 'schema');
    checkQueryParameters(ctx.query, []);
    const single = SINGLE_SCHEMA_KEY.exec(dataKey);
    // Get Datasource Schema hands out the key at once and starts a refresh when none is stored:
    // until the schema exists, 204 (poll again), as Get Execution Data does for running queries.
    const stored = await deps.resultStore.findLatest(grant.organizationId, single ? single[1]! : dataKey);
    if (!stored) {
      sendNoContent(ctx);
      return;
    }
    if (single) {
      // `<org>/schemas/<datasource>/<hex name>`: one schema out of the stored full document.
      const parent = stored;
      if (parent.kind !== 'document') throw new NotFoundError('No schema data for this data key', { code: 'data_not_found' });
      const name = Buffer.from(single[2]!, 'hex').toString('utf8');
      let text = '';
      for await (const chunk of deps.resultStore.readChunks(parent.executionId, 0, Math.max(0, parent.chunkCount - 1)))
        text += gunzipSync(chunk.bytes).toString('utf8');
      const schema = (JSON.parse(text) as { schemas?: Array<{ name: string }> }).schemas?.find((x) => x.name === name);
      if (!schema) throw new NotFoundError(`No schema named "${name}" in this datasource`, { code: 'schema_not_found' });
      commonHeaders(ctx, parent, CONTENT_TYPES.json, false);
      ctx.body = JSON.stringify(schema);
      return;
    }
    if (stored.kind !== 'document') throw new NotFoundError('No schema data for this data key', { code: 'data_not_found' });
    await sendDocument(ctx, deps, stored);
  });

  return router;
}
