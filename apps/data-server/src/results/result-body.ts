import { promisify } from 'node:util';
import { constants as zlibConstants, crc32, createGunzip, deflateRawSync, gunzip as gunzipCallback } from 'node:zlib';
import {
  FINAL_DEFLATE_BLOCK,
  GZIP_HEADER,
  crc32Combine,
  deflateRun,
  gzipTrailer,
  spliceableRun,
  type CsvOptions,
  type DeflateRun,
  type ResultField,
  type ResultStore,
  type StoredChunk,
  type StoredResult,
} from '@sightline/domain';
import { CsvRowEncoder } from '@sightline/render/csv';
import { readAhead } from './read-ahead.js';

const gunzip = promisify(gunzipCallback);

/** Output formats of `GET /results/<dataKey>`. */
export type ResultFormat = 'json' | 'csv' | 'ndjson';

/** A row window: rows `offset .. offset + limit - 1` (limit undefined = to the end). */
export interface RowRange {
  offset: number;
  limit: number | undefined;
}

/** One chunk to send, with the rows of it that fall inside the requested range. */
export interface ChunkSlice {
  seq: number;
  /** Rows of the chunk to skip / keep; a slice with `skip === 0 && keep === rowCount` is whole. */
  skip: number;
  keep: number;
  whole: boolean;
}

const GZ_LEVEL = 4;
/** Converted pieces (csv, ndjson; each about 1 MiB) made ahead of the one being sent. */
const READ_AHEAD = 1;
/**
 * Output piece size of inflating a stored chunk for an identity response: a download holds one
 * piece of text, not a whole 1 MiB chunk (the store fetches the next chunks meanwhile). Each piece
 * is one thread-pool round trip (measured on one chunk: 383 MB/s with 16 KiB pieces, 744 MB/s with
 * 256 KiB); 256 KiB pieces measured no faster per download here and above glibc's mmap threshold.
 */
const INFLATE_PIECE_BYTES = 64 * 1024;

/**
 * Which chunks hold `range`, and which rows of the edge chunks to keep. Whole chunks are sent as
 * stored; only the (at most two) edge chunks are decompressed and re-encoded.
 */
export function sliceChunks(index: ReadonlyArray<{ seq: number; firstRow: number; rowCount: number }>, range: RowRange): ChunkSlice[] {
  const start = range.offset;
  const end = range.limit === undefined ? Number.POSITIVE_INFINITY : range.offset + range.limit;
  const out: ChunkSlice[] = [];
  for (const c of index) {
    const chunkEnd = c.firstRow + c.rowCount;
    if (chunkEnd <= start || c.firstRow >= end || c.rowCount === 0) continue;
    const skip = Math.max(0, start - c.firstRow);
    const keep = Math.min(c.rowCount, end - c.firstRow) - skip;
    out.push({ seq: c.seq, skip, keep, whole: skip === 0 && keep === c.rowCount });
  }
  return out;
}

/** The JSON text before the rows: every `ResultData` member, then `"rows":[`. */
export function jsonHeader(result: StoredResult, range: RowRange | undefined): string {
  const meta: Record<string, unknown> = {
    execution_id: result.executionId,
    data_timestamp: Math.floor(result.dataTimestamp.getTime() / 1000),
    sql_rows: result.sqlRows,
    sql_columns: result.sqlColumns,
    size_in_bytes: result.sizeInBytes,
    time_zone: result.timeZone,
    row_limit_reached: result.rowLimitReached,
  };
  if (range) {
    meta.offset = range.offset;
    meta.limit = range.limit ?? null;
  }
  meta.fields = result.fields;
  const text = JSON.stringify(meta);
  return `${text.slice(0, -1)},"rows":[`;
}

const JSON_TRAILER = ']}';

function syncDeflateRun(text: string): DeflateRun {
  const bytes = Buffer.from(text);
  return { deflate: deflateRawSync(bytes, { finishFlush: zlibConstants.Z_SYNC_FLUSH }), crc: crc32(bytes), length: bytes.length };
}
const COMMA = Buffer.from(',');
// deflate runs reused on every response
const COMMA_RUN = syncDeflateRun(',');
const TRAILER_RUN = syncDeflateRun(JSON_TRAILER);

interface BodyInput {
  store: ResultStore;
  result: StoredResult;
  /** The chunks to send (all of them, or the slices of a row range). */
  slices: ChunkSlice[];
}

/** Fetches the chunks of `slices` in order (consecutive runs in one read each). */
async function* chunksOf(store: ResultStore, executionId: string, slices: ChunkSlice[]): AsyncGenerator<[StoredChunk, ChunkSlice]> {
  if (!slices.length) return;
  const from = slices[0]!.seq;
  const to = slices[slices.length - 1]!.seq;
  let i = 0;
  for await (const chunk of store.readChunks(executionId, from, to)) {
    const slice = slices[i];
    if (!slice || slice.seq !== chunk.seq) throw new Error(`result ${executionId}: expected chunk ${slice?.seq}, store returned ${chunk.seq}`);
    i++;
    yield [chunk, slice];
  }
  if (i !== slices.length) throw new Error(`result ${executionId}: store returned ${i} of ${slices.length} chunks`);
}

/** The rows of one chunk that a slice keeps, as parsed arrays. */
async function sliceRows(chunk: StoredChunk, slice: ChunkSlice): Promise<unknown[][]> {
  const text = (await gunzip(chunk.bytes, { chunkSize: INFLATE_PIECE_BYTES })).toString('utf8');
  const rows = JSON.parse(`[${text}]`) as unknown[][];
  return slice.whole ? rows : rows.slice(slice.skip, slice.skip + slice.keep);
}

/** Row JSON text of an edge slice: the rows kept, re-encoded. */
async function sliceText(chunk: StoredChunk, slice: ChunkSlice): Promise<Buffer> {
  const rows = await sliceRows(chunk, slice);
  return Buffer.from(rows.map((r) => JSON.stringify(r)).join(','));
}

/**
 * The text of a stored gzip member, inflated as it is sent: pieces of `INFLATE_PIECE_BYTES`, the
 * next one made only when the previous one was taken (back-pressure of the zlib stream).
 */
async function* inflatedPieces(member: Buffer): AsyncGenerator<Buffer> {
  const inflater = createGunzip({ chunkSize: INFLATE_PIECE_BYTES });
  inflater.end(member);
  // an early return destroys the stream (and frees its zlib state)
  for await (const piece of inflater) yield piece as Buffer;
}

/**
 * `ResultData` JSON as ONE gzip member built around the stored chunks without decompressing them:
 * gzip header, deflate(header JSON), the stored deflate run of each whole chunk untouched (a
 * deflated `,` between them), re-compressed edge chunks, deflate(trailer), the final block, and a
 * trailer whose CRC-32 is combined from the chunks' stored CRCs. One member, so every gzip decoder
 * (curl included, which stops after the first member) reads it whole.
 */
export async function* jsonGzipBody(input: BodyInput, range: RowRange | undefined): AsyncGenerator<Buffer> {
  const head = await deflateRun(Buffer.from(jsonHeader(input.result, range)), GZ_LEVEL);
  let crc = head.crc;
  let length = head.length;
  yield GZIP_HEADER;
  yield head.deflate;
  const runs = async function* (): AsyncGenerator<DeflateRun> {
    for await (const [chunk, slice] of chunksOf(input.store, input.result.executionId, input.slices)) {
      // a chunk stored in another gzip shape is recompressed (correct, only slower)
      const stored = slice.whole ? spliceableRun(chunk.bytes) : undefined;
      yield stored ?? (await deflateRun(slice.whole ? await gunzip(chunk.bytes, { chunkSize: INFLATE_PIECE_BYTES }) : await sliceText(chunk, slice), GZ_LEVEL));
    }
  };
  let first = true;
  // the store fetches the next chunks while these are sent (within its prefetch budget)
  for await (const run of runs()) {
    if (!first) {
      yield COMMA_RUN.deflate;
      crc = crc32Combine(crc, COMMA_RUN.crc, COMMA_RUN.length);
      length += COMMA_RUN.length;
    }
    first = false;
    yield run.deflate;
    crc = crc32Combine(crc, run.crc, run.length);
    length += run.length;
  }
  yield TRAILER_RUN.deflate;
  crc = crc32Combine(crc, TRAILER_RUN.crc, TRAILER_RUN.length);
  length += TRAILER_RUN.length;
  yield FINAL_DEFLATE_BLOCK;
  yield gzipTrailer(crc, length);
}

/**
 * `ResultData` JSON, decompressed on the fly: each stored chunk is inflated in small pieces as the
 * socket takes them, while the store fetches the next chunks, so a download holds a few compressed
 * chunks and one piece of text at a time.
 */
export async function* jsonBody(input: BodyInput, range: RowRange | undefined): AsyncGenerator<Buffer> {
  yield Buffer.from(jsonHeader(input.result, range));
  let first = true;
  for await (const [chunk, slice] of chunksOf(input.store, input.result.executionId, input.slices)) {
    // chunks are joined by a comma (each chunk's text starts with a row, not a separator)
    if (!first) yield COMMA;
    first = false;
    if (slice.whole) yield* inflatedPieces(chunk.bytes);
    else yield await sliceText(chunk, slice);
  }
  yield Buffer.from(JSON_TRAILER);
}

/** CSV: a header line of field names, then one line per row (`CsvRowEncoder` of `@sightline/render`, the one CSV encoder). */
export async function* csvBody(input: BodyInput, options: CsvOptions): AsyncGenerator<Buffer> {
  const encoder = new CsvRowEncoder(input.result.fields, options);
  yield Buffer.from(encoder.header());
  const pieces = async function* (): AsyncGenerator<Buffer> {
    for await (const [chunk, slice] of chunksOf(input.store, input.result.executionId, input.slices)) {
      yield Buffer.from(encoder.rows(await sliceRows(chunk, slice)));
    }
  };
  yield* readAhead(pieces(), READ_AHEAD);
}

/**
 * Object keys of NDJSON lines: the field names; a name that repeats (`SELECT 1 AS a, 2 AS a`) gets
 * its column index appended (`a_1`) so no value is lost.
 */
export function ndjsonKeys(fields: readonly ResultField[]): string[] {
  const seen = new Set<string>();
  return fields.map((f) => {
    const key = seen.has(f.name) ? `${f.name}_${f.idx}` : f.name;
    seen.add(key);
    return key;
  });
}

/** NDJSON: one JSON object per row, keyed by field name (see `ndjsonKeys`), `\n` after each. */
export async function* ndjsonBody(input: BodyInput): AsyncGenerator<Buffer> {
  // JSON.stringify of each key once; lines are assembled from the encoded pieces
  const keys = ndjsonKeys(input.result.fields).map((k, i) => (i === 0 ? '{' : ',') + JSON.stringify(k) + ':');
  const pieces = async function* (): AsyncGenerator<Buffer> {
    for await (const [chunk, slice] of chunksOf(input.store, input.result.executionId, input.slices)) {
      let out = '';
      for (const row of await sliceRows(chunk, slice)) {
        let line = keys.length ? '' : '{';
        for (let i = 0; i < keys.length; i++) line += keys[i] + JSON.stringify(row[i] ?? null);
        out += line + '}\n';
      }
      yield Buffer.from(out);
    }
  };
  yield* readAhead(pieces(), READ_AHEAD);
}

/** A stored JSON document (schemas): the stored gzip member(s) as they are, or decompressed. */
export async function* documentBody(input: BodyInput, gzipped: boolean): AsyncGenerator<Buffer> {
  for await (const [chunk] of chunksOf(input.store, input.result.executionId, input.slices)) {
    yield gzipped ? chunk.bytes : await gunzip(chunk.bytes, { chunkSize: INFLATE_PIECE_BYTES });
  }
}

/** Slices covering every chunk of a result, without reading the chunk index. */
export function allChunks(result: StoredResult): ChunkSlice[] {
  return Array.from({ length: result.chunkCount }, (_, seq) => ({ seq, skip: 0, keep: 0, whole: true }));
}
