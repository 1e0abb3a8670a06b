// Contract test from the description (issue 10): the API and data servers are started as their own
// processes (`npm run start:api`, `start:data`) on a fresh PostgreSQL database, and for every operation
// of GET /openapi.json fast-check generates requests from the document itself: valid ones, and ones
// with exactly one deliberate defect (a foreign, unknown or malformed id; a bad or absent
// Authorization; an unknown or invalid query parameter; a body with a wrong type, an unknown
// attribute, a missing field, an oversized string, broken JSON, the wrong media type). Every answer
// must be below 500 and match what the document says for its status; every error must be a JSON:API
// error document (JSON:API 1.0 schema) of the status class the defect calls for, and a request the
// document calls invalid must never succeed.
//
// Reproducing: the seed is fixed (CONTRACT_SEED overrides it) and printed with every failure, with
// the request that failed; CONTRACT_RUNS multiplies the runs for a deeper local search.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { createDomainServices } from '@sightline/domain';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { TEST_ENCRYPTION_KEY } from './support/context.js';
import { expectValidJsonApi } from './support/jsonapi-schema.js';
import { killAppProcesses, startAppProcess, type AppProcess } from './support/processes.js';
import { propertyPaths, resolve, valueArbitrary, withProperty, type Schema } from './support/openapi-arbitraries.js';

const SEED = Number(process.env.CONTRACT_SEED ?? 20_261_203);
/** Multiplies the runs of every operation (see `defectGroups`). */
const RUNS = Math.max(1, Number(process.env.CONTRACT_RUNS ?? 1));

type Document = { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, Schema> } };

/** One documented operation, with what the test needs of it. */
interface Operation {
  method: string;
  path: string;
  server: 'api' | 'data';
  access: 'Api' | 'Data' | 'Viewer' | 'FileToken' | 'none';
  query: Array<{ name: string; required: boolean; schema: Schema; description: string }>;
  body?: { required: boolean; mediaTypes: string[]; schema: Schema };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}

/** The one thing wrong with a generated request, if any. */
type Defect =
  | 'auth-absent'
  | 'auth-malformed'
  | 'auth-unknown'
  | 'id-foreign'
  | 'id-unknown'
  | 'id-malformed'
  | 'query-unknown'
  | 'query-invalid'
  | 'body-wrong-type'
  | 'body-out-of-range'
  | 'body-unknown-attribute'
  | 'body-missing-field'
  | 'body-oversized-string'
  | 'body-malformed-json'
  | 'body-not-object'
  | 'body-type-mismatch'
  | 'body-id-mismatch'
  | 'media-type';

interface GeneratedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** The defect the request was meant to have. */
  intended?: Defect;
  /** The defect the request was built with (undefined: valid as far as the document can tell). */
  defect?: Defect;
  /** The statuses the defect calls for (undefined: any error; the test holds no credential the operation takes). */
  expected?: number[];
  note: string;
}

/** Statuses an error may have (the contract's error model; 405, 413 and 429 from the HTTP layer). */
const ERROR_STATUSES = new Set([400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 429]);
/** What a request with exactly this defect must be answered with (when the defect is the only thing wrong). */
const EXPECTED: Record<Defect, number[]> = {
  'auth-absent': [401],
  'auth-malformed': [401],
  'auth-unknown': [401],
  'id-foreign': [404],
  'id-unknown': [404],
  'id-malformed': [400, 404],
  'query-unknown': [400],
  'query-invalid': [400],
  'body-wrong-type': [400, 422],
  'body-out-of-range': [400, 422],
  'body-unknown-attribute': [400, 422],
  'body-missing-field': [400, 422],
  'body-oversized-string': [400, 413, 422],
  'body-malformed-json': [400],
  'body-not-object': [400, 422],
  'body-type-mismatch': [409],
  'body-id-mismatch': [409],
  'media-type': [415],
};

let database: TestDatabase;
let data: AppProcess;
/** The data server's URL as the API server (and so the document) names it. */
let dataUrl: string;
let api: AppProcess;
let document: Document;
let secret: string;
let otherSecret: string;
/** Real ids of the test organization, by resource type (the first path segment). */
const own: Record<string, string[]> = {};
/** Ids of the same types in another organization. */
const foreign: Record<string, string[]> = {};

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
const validators = new Map<string, ValidateFunction>();

/** A validator of `schema` with the document's components (for `$ref`), compiled once per key. */
function validator(key: string, schema: Schema): ValidateFunction {
  let v = validators.get(key);
  if (!v) {
    v = ajv.compile({ $id: `https://sightline.test/contract/${validators.size}`, components: document.components, ...schema });
    validators.set(key, v);
  }
  return v;
}

async function call(base: string, method: string, path: string, key: string, body?: unknown): Promise<any> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Api ${key}`, ...(body ? { 'Content-Type': 'application/vnd.api+json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`seeding: ${method} ${path} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** Calls `request` until it answers 200 (within 60 s); returns the parsed body. */
async function poll(request: () => Promise<Response>): Promise<any> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await request();
    if (res.status === 200) return res.json();
    if (res.status >= 300 || Date.now() > deadline) throw new Error(`seeding: still ${res.status}: ${await res.text()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Creates one of each resource in an organization through the live API; returns the ids by path segment. */
async function seed(key: string): Promise<Record<string, string[]>> {
  const base = api.url!;
  const ids: Record<string, string[]> = {};
  const add = (type: string, id: string) => (ids[type] ??= []).push(id);
  const create = async (type: string, attributes: Record<string, unknown>, relationships?: Record<string, unknown>) => {
    const doc = await call(base, 'POST', `/${type}`, key, { data: { type, attributes, ...(relationships ? { relationships } : {}) } });
    add(type, doc.data.id);
    return doc.data.id as string;
  };
  const rel = (type: string, id: string) => ({ data: { type, id } });
  const datasource = await create('datasources', {
    name: 'Warehouse',
    database_type: 'postgres',
    connection_mode: 'direct',
    host: '127.0.0.1',
    port: 5432,
    username: 'postgres',
    database: database.name,
    require_ssl: false,
  });
  const dashboard = await create('dashboards', { name: 'Sales' });
  const report = await create(
    'reports',
    { name: 'Revenue', sql_query: 'SELECT 1 AS one' },
    { dashboard: rel('dashboards', dashboard), datasource: rel('datasources', datasource) },
  );
  await create(
    'filters',
    { variable_name: 'region', control_type: 'dropdown_dynamic', value_type: 'TEXT', sql_query: 'SELECT 1' },
    { datasource: rel('datasources', datasource) },
  );
  await create('sql_snippets', { name: 'snip', text: 'SELECT 1' }, { datasource: rel('datasources', datasource) });
  await create('dashboard_groups', { name: 'Group' });
  await create('user_groups', { name: 'Team' });
  await create('datasource_agents', { name: 'agent' });
  await create('api_keys', { name: 'disposable' });
  await create('dashboard_sharing_links', {}, { dashboard: rel('dashboards', dashboard) });
  await create(
    'dashboard_schedules',
    { name: 'Weekly', emails: 'a@example.com', attach_as: '', schedule: 'disabled' },
    { dashboard: rel('dashboards', dashboard) },
  );
  await create(
    'sql_alerts',
    { name: 'Alert', sql_query: 'SELECT 1', run_schedule: 'disabled', email_condition: 'all' },
    { datasource: rel('datasources', datasource) },
  );
  const invited = await fetch(`${base}/users/invite`, {
    method: 'POST',
    headers: { Authorization: `Api ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: `invited-${Date.now()}@example.com`, role: 'viewer' }),
  });
  expect(invited.status).toBe(201);
  add('users', ((await invited.json()) as { data: { id: string } }).data.id);
  // results, schema data and an export file through the worker, for the data server's operations
  const execution = await call(base, 'POST', `/datasources/${datasource}/executions`, key, { sql_query: 'SELECT 1 AS one' });
  add('executions', execution.data.id);
  const result = await poll(() => fetch(`${base}/executions/${execution.data.id}/data`, { headers: { Authorization: `Api ${key}` } }));
  add('results', result.data_key);
  (ids.resultTokens ??= []).push(result.data_access_token);
  await call(base, 'POST', `/datasources/${datasource}/refresh`, key);
  const schema = await poll(async () => {
    const res = await fetch(`${base}/datasources/${datasource}/schema`, { headers: { Authorization: `Api ${key}` } });
    const body = (await res.clone().json()) as { data_key: string; data_access_token: string };
    const stored = await fetch(`${data.url}/schemas/${body.data_key}`, { headers: { Authorization: `Data ${body.data_access_token}` } });
    return stored.status === 200 ? res : stored;
  });
  add('schemas', schema.data_key);
  (ids.schemaTokens ??= []).push(schema.data_access_token);
  await call(base, 'PATCH', `/reports/${report}`, key, { data: { type: 'reports', id: report, attributes: { unlimited_csv_export_enabled: true } } });
  const exportJob = await call(base, 'POST', `/reports/${report}/export_csv`, key, {});
  add('export_jobs', exportJob.job_id);
  const done = await poll(async () => {
    const res = await fetch(`${base}/export_jobs/${exportJob.job_id}`, { headers: { Authorization: `Api ${key}` } });
    const job = (await res.clone().json()) as { job_status: string };
    return ['success', 'failed', 'error', 'cancelled'].includes(job.job_status) ? res : new Response(null, { status: 204 });
  });
  if (!done.file_url) throw new Error(`seeding: the export job ended without a file: ${JSON.stringify(done)}`);
  (ids.exportTokens ??= []).push(new URL(done.file_url).searchParams.get('token')!);
  return ids;
}

/** The operations of the document, the data server's marked as such. */
function operationsOf(doc: Document, dataUrl: string): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    const servers = ((item.servers as Array<{ url: string }> | undefined) ?? [{ url: '/' }]).map((s) => s.url);
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
      const op = item[method];
      if (!op) continue;
      const security = (op.security as Array<Record<string, unknown>>)[0];
      const access = (security ? Object.keys(security)[0] : 'none') as Operation['access'];
      const requestBody = op.requestBody as { required: boolean; content: Record<string, { schema: Schema }> } | undefined;
      const common = {
        method: method.toUpperCase(),
        path,
        access,
        query: ((op.parameters ?? []) as Array<{ in: string; name: string; required: boolean; schema: Schema; description: string }>).filter(
          (p) => p.in === 'query',
        ),
        ...(requestBody
          ? { body: { required: requestBody.required, mediaTypes: Object.keys(requestBody.content), schema: Object.values(requestBody.content)[0]!.schema } }
          : {}),
        responses: op.responses,
      };
      if (servers.includes('/')) out.push({ ...common, server: 'api' });
      if (servers.includes(dataUrl)) out.push({ ...common, server: 'data' });
    }
  }
  // deletions last, so the other operations see the seeded resources
  return out.sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
}

/** The pool a path's parameter takes real ids from. */
function poolOf(op: Operation, name: string): string {
  if (name === 'data_key') return op.path.startsWith('/schemas') ? 'schemas' : 'results';
  if (op.path.startsWith('/exports')) return 'export_jobs';
  return op.path.split('/')[1]!;
}

/** The resource type a relationship linkage names, when the schema says (`type: {const}`). */
function linkageType(schema: Schema): string | undefined {
  const props = schema.properties as Record<string, Schema> | undefined;
  return props?.type && typeof props.type.const === 'string' && props.id ? props.type.const : undefined;
}

/** The include names an operation's description lists. */
const includeNames = (description: string) => [...description.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!);

/** A well-formed id (the API's `xxxx-xxxx-xxxx`) that names nothing. */
const UNKNOWN_ID = 'zzzz-zzzz-zzzz';

/** Arbitrary of a request to `op` with the given defect (or none). */
function requestArbitrary(op: Operation, defect: Defect | undefined): fc.Arbitrary<GeneratedRequest> {
  const pathNames = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  const idKind = defect?.startsWith('id-') ? defect : 'id-real';
  const pathValues = fc.tuple(
    ...pathNames.map((name) => {
      const pool = poolOf(op, name);
      const real = own[pool] ?? [];
      const other = foreign[pool] ?? [];
      if (name === 'name') return fc.constantFrom('file.csv', 'a b.pdf');
      switch (idKind) {
        case 'id-foreign':
          return fc.constantFrom(...(other.length ? other : [UNKNOWN_ID]));
        case 'id-unknown':
          return fc.oneof(fc.constant(UNKNOWN_ID), fc.stringMatching(/^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/), fc.uuid());
        case 'id-malformed':
          return fc.oneof(
            fc.string({ minLength: 1, maxLength: 12 }).map(encodeURIComponent),
            fc.constantFrom('x'.repeat(3000), '%00', '..%2F..%2Fetc', "'%20OR%201=1", '%F0%9F%92%A9', '-1'),
          );
        default:
          return real.length ? fc.constantFrom(...real) : fc.constant(UNKNOWN_ID);
      }
    }),
  );

  const context = (ids: Record<string, string[]>) => ({
    root: document,
    override: (name: string | undefined, schema: Schema): fc.Arbitrary<unknown> | undefined => {
      const s = resolve(schema, { root: document });
      // connection tests reach only this machine
      if (name && /host$/.test(name)) return fc.constantFrom('127.0.0.1', 'localhost');
      const type = linkageType(s);
      if (type) return fc.record({ type: fc.constant(type), id: fc.constantFrom(...(ids[type]?.length ? ids[type]! : [UNKNOWN_ID])) });
      if (!name) return undefined;
      if (name === 'report_id' || name === 'dashboard_id' || name === 'datasource_id')
        return fc.constantFrom(...(ids[`${name.replace('_id', '')}s`] ?? [UNKNOWN_ID]));
      if (name === 'user_group_ids') return fc.array(fc.constantFrom(...(ids.user_groups ?? [UNKNOWN_ID])), { maxLength: 2 });
      return undefined;
    },
  });

  const queryValues = fc.tuple(
    ...op.query.map((q) => {
      if (q.name === 'include')
        return fc.option(
          fc.subarray(includeNames(q.description), { minLength: 1 }).map((n) => n.join(',')),
          { nil: undefined },
        );
      if (q.name === 'token') return fc.constant(own.exportTokens![0]!);
      const value = valueArbitrary(q.schema, { root: document }).map((v) => (v === null ? undefined : String(v)));
      return q.required ? value : fc.option(value, { nil: undefined });
    }),
  );

  // an optional body is left out now and then, unless the defect is in the body
  const bodyDefect = defect?.startsWith('body-') || defect === 'media-type';
  const validBody = !op.body
    ? fc.constant(undefined)
    : op.body.required || bodyDefect
      ? valueArbitrary(op.body.schema, context(own))
      : fc.option(valueArbitrary(op.body.schema, context(own)), { nil: undefined, freq: 4 });
  const auth = (): fc.Arbitrary<string | undefined> => {
    switch (defect) {
      case 'auth-absent':
        return fc.constant(undefined);
      case 'auth-malformed':
        return fc.constantFrom(
          'Api',
          'Api  ',
          'Bearer x',
          `Basic ${Buffer.from('a:b').toString('base64')}`,
          'Data x.y.z',
          'Viewer',
          `api ${secret}x`,
          'Api \u00e9\u00e8',
        );
      case 'auth-unknown':
        return fc
          .string({ minLength: 20, maxLength: 60, unit: 'grapheme-ascii' })
          .map((s) => `${op.access === 'Data' ? 'Data' : op.access === 'Viewer' ? 'Viewer' : 'Api'} ${s.replace(/\s/g, 'x')}`);
      default:
        if (op.access === 'Api') return fc.constant(`Api ${secret}`);
        if (op.access === 'Data') return fc.constant(`Data ${(op.path.startsWith('/schemas') ? own.schemaTokens : own.resultTokens)![0]}`);
        return fc.constant(undefined);
    }
  };
  const defectArbitrary = fc.record({
    pick: fc.nat(),
    other: fc.constantFrom<unknown>(42, 'a string', true, [1, 'x'], { nested: 'object' }, null),
    number: fc.constantFrom(1e308, -1e308, 2 ** 63, -(2 ** 31) - 1, 2 ** 31, -1, 0, 0.5),
    size: fc.constantFrom(300, 5_000, 100_000, 2_000_000),
    mediaType: fc.constantFrom(
      'text/plain',
      'application/xml',
      'application/vnd.api+json; ext="https://example.com/ext"',
      'multipart/form-data; boundary=x',
      '',
    ),
    junkQuery: fc.constantFrom('zz_unknown', 'page[nope]', 'filter[zz]', 'fields[zz]', 'sort'),
  });

  return fc.tuple(pathValues, queryValues, validBody, auth(), defectArbitrary).map(([ids, query, body, authorization, d]): GeneratedRequest => {
    let path = op.path;
    pathNames.forEach((name, i) => {
      const raw = ids[i] as string;
      // data keys contain `/` and are sent as they are; malformed ids are sent raw, the rest encoded
      path = path.replace(`{${name}}`, name === 'data_key' || idKind === 'id-malformed' ? raw : encodeURIComponent(raw));
    });
    const params = new URLSearchParams();
    op.query.forEach((q, i) => query[i] !== undefined && params.append(q.name, query[i] as string));
    let effective: Defect | undefined = defect;
    let expected = defect && EXPECTED[defect];
    if (defect === 'query-unknown') params.append(d.junkQuery, '1');
    if (defect === 'query-invalid') {
      const q = op.query[d.pick % op.query.length]!;
      params.delete(q.name);
      const schema = resolve(q.schema, { root: document });
      const bad =
        q.name === 'include'
          ? 'zz_no_such_relation'
          : q.name === 'token'
            ? `${own.exportTokens![0]!}x`
            : schema.type === 'integer'
              ? '-1.5x'
              : 'zz_not_allowed';
      params.append(q.name, bad);
      // the signed file token is the credential: a broken one is a 401
      if (q.name === 'token') expected = [401];
      // a string parameter without an enum takes anything the document can tell
      else if (!schema.enum && schema.type !== 'integer' && q.name !== 'include') effective = undefined;
    }
    const search = params.toString();
    const headers: Record<string, string> = {};
    if (authorization !== undefined) headers.Authorization = authorization;
    let payload: string | Uint8Array | undefined;
    let json: unknown = body;
    if (op.body) {
      const schema = op.body.schema;
      const paths = propertyPaths(json);
      if (defect === 'body-wrong-type' && paths.length) {
        const target = paths[d.pick % paths.length]!;
        json = withProperty(json, target, d.other);
        // a wrong `data.type` or `data.id` is a mismatch with the URL's resource (409) as much as a wrong type
        if (target.length === 2 && target[0] === 'data' && ['type', 'id'].includes(target[1]!)) expected = [400, 409, 422];
      }
      if (defect === 'body-wrong-type' && !paths.length) json = d.other;
      if (defect === 'body-out-of-range') {
        const numbers = paths.filter((p) => typeof p.reduce<any>((n, k) => n?.[k], json) === 'number');
        if (numbers.length) json = withProperty(json, numbers[d.pick % numbers.length]!, d.number);
      }
      if (defect === 'body-unknown-attribute') {
        const target = isObject(dataOf(json)?.attributes) ? ['data', 'attributes', 'zz_unknown'] : ['zz_unknown'];
        json = isObject(json) ? withProperty(json, target, 'x') : { zz_unknown: 'x' };
      }
      if (defect === 'body-missing-field') {
        const required = requiredPaths(json, schema);
        if (required.length) json = withProperty(json, required[d.pick % required.length]!, undefined, true);
      }
      if (defect === 'body-oversized-string') {
        const strings = paths.filter((p) => typeof p.reduce<any>((n, k) => n?.[k], json) === 'string' && !['type', 'id'].includes(p[p.length - 1]!));
        json = strings.length ? withProperty(json, strings[d.pick % strings.length]!, 'x'.repeat(d.size)) : json;
      }
      if (defect === 'body-not-object') json = d.other === null || typeof d.other !== 'object' || Array.isArray(d.other) ? d.other : [d.other];

      if (defect === 'body-type-mismatch' && dataOf(json)?.type) json = withProperty(json, ['data', 'type'], 'zz_wrong_type');
      if (op.method === 'PATCH' && dataOf(json) && 'id' in dataOf(json)!) {
        // an Update document names the resource of the URL, unless that is the defect
        json = withProperty(json, ['data', 'id'], defect === 'body-id-mismatch' ? UNKNOWN_ID : decodeURIComponent(String(ids[0])));
      }
      // JSON `null` where a body is optional counts as no body
      if (json === null && !op.body.required && defect !== 'body-malformed-json') effective = undefined;
      payload = defect === 'body-malformed-json' ? `${JSON.stringify(json ?? {}).slice(0, -1)},"` : json === undefined ? undefined : JSON.stringify(json);
      if (payload !== undefined) headers['Content-Type'] = defect === 'media-type' ? d.mediaType : op.body.mediaTypes[d.pick % op.body.mediaTypes.length]!;
      if (payload !== undefined && headers['Content-Type'] === '') {
        delete headers['Content-Type'];
        payload = new TextEncoder().encode(payload);
      }
      if (op.body.mediaTypes[0] === 'application/x-www-form-urlencoded' && defect !== 'media-type') payload = 'password=x';
      // a mutation that left the body valid (e.g. a wrong type where anything goes) is no defect
      if (defect?.startsWith('body-') && !['body-malformed-json', 'body-type-mismatch', 'body-id-mismatch'].includes(defect)) {
        if (validator(`${op.method} ${op.path} request`, schema)(json)) effective = undefined;
      }
      if ((defect === 'body-type-mismatch' && !dataOf(json)?.type) || (defect === 'body-id-mismatch' && op.method !== 'PATCH')) effective = undefined;
    }
    // a body is validated before the resource is looked up on some routes: a 422 for it is no leak
    if (effective?.startsWith('id-') && payload !== undefined) expected = [...expected!, 400, 409, 422];
    // a data token or file token is issued for one data key or file: another one is forbidden to it
    if (effective?.startsWith('id-') && (op.access === 'Data' || op.access === 'FileToken')) expected = [...expected!, 401, 403];
    return {
      intended: defect,
      expected: effective && !withoutCredential(op) ? expected : undefined,
      url: `${op.server === 'data' ? data.url : api.url}${path}${search ? `?${search}` : ''}`,
      method: op.method,
      headers,
      body: payload,
      defect: effective,
      note: `${op.method} ${path}${search ? `?${search}` : ''} ${JSON.stringify(headers)} ${typeof payload === 'string' ? payload.slice(0, 300) : payload ? '<bytes>' : ''}`,
    };
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** The `data` member of a JSON:API document, when it is an object. */
const dataOf = (json: unknown): Record<string, unknown> | undefined => (isObject(json) && isObject(json.data) ? json.data : undefined);

/** Paths of properties `value` has that `schema` requires (following `properties`, `$ref` and `anyOf`'s first object). */
function requiredPaths(value: unknown, schema: Schema, prefix: string[] = []): string[][] {
  const s = resolve(schema, { root: document });
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  const out: string[][] = [];
  const props = (s.properties ?? {}) as Record<string, Schema>;
  for (const name of (s.required ?? []) as string[]) if (name in (value as object)) out.push([...prefix, name]);
  for (const [name, p] of Object.entries(props)) if (name in (value as object)) out.push(...requiredPaths((value as any)[name], p, [...prefix, name]));
  return out;
}

/** Checks one answer against the document; returns what is wrong, or undefined. */
function checkResponse(op: Operation, req: GeneratedRequest, status: number, contentType: string, text: string): string | undefined {
  if (status >= 500) return `answered ${status}: ${text.slice(0, 500)}`;
  const mediaType = contentType.split(';')[0]!.trim();
  const documented = op.responses[String(status)];
  const parse = () => {
    try {
      return { ok: true as const, value: JSON.parse(text) as unknown };
    } catch {
      return { ok: false as const };
    }
  };
  if (documented && status < 400) {
    if (req.defect) return `accepted a request with defect ${req.defect}: ${status} ${text.slice(0, 300)}`;
    if (!documented.content) return text.length ? `${status} has no documented body but answered ${text.slice(0, 200)}` : undefined;
    const content = documented.content[mediaType];
    if (!content) return `${status} answered ${mediaType || '(no media type)'}, documented ${Object.keys(documented.content).join(', ')}`;
    if (!/json$/.test(mediaType) || mediaType === 'application/x-ndjson') return undefined;
    const body = parse();
    if (!body.ok) return `${status} ${mediaType} body is not JSON: ${text.slice(0, 200)}`;
    const validate = validator(`${op.method} ${op.path} ${status} ${mediaType}`, content.schema);
    if (!validate(body.value)) return `${status} body does not match its schema: ${ajv.errorsText(validate.errors)}\n${text.slice(0, 1500)}`;
    if (mediaType === 'application/vnd.api+json') {
      try {
        expectValidJsonApi(body.value);
      } catch (err) {
        return (err as Error).message;
      }
    }
    return undefined;
  }
  if (status < 400) return `${status} is not documented for ${op.method} ${op.path}`;
  if (!ERROR_STATUSES.has(status)) return `error status ${status} is not one of the error model's`;
  if (req.expected && !req.expected.includes(status))
    return `defect ${req.defect} answered ${status}, expected ${req.expected.join(' or ')}: ${text.slice(0, 300)}`;
  // the shared page and the reference page answer their visitors with HTML
  const html = Object.values(op.responses['200']?.content ?? {}).length && Object.keys(op.responses['200']!.content!).includes('text/html');
  if (html && mediaType === 'text/html') return undefined;
  if (mediaType !== 'application/vnd.api+json')
    return `error ${status} answered ${mediaType || '(no media type)'}, not application/vnd.api+json: ${text.slice(0, 200)}`;
  const body = parse();
  if (!body.ok) return `error ${status} body is not JSON: ${text.slice(0, 200)}`;
  const validate = validator('error_document', { $ref: '#/components/schemas/error_document' });
  if (!validate(body.value)) return `error ${status} does not match error_document: ${ajv.errorsText(validate.errors)}`;
  try {
    expectValidJsonApi(body.value);
  } catch (err) {
    return (err as Error).message;
  }
  const statuses = (body.value as { errors: Array<{ status?: string }> }).errors.map((e) => e.status);
  if (statuses.some((s) => s === undefined || s[0] !== String(status)[0])) return `error ${status} carries errors of status ${statuses.join(', ')}`;
  return undefined;
}

/**
 * Operations whose credential this test cannot hold (a shared page's viewer token or password, an
 * export file's signed URL, an invitation e-mail's token): every request to them fails for that
 * already, so a defect is only checked to be refused, not for which status.
 */
function withoutCredential(op: Operation): boolean {
  return op.access === 'Viewer' || op.path.startsWith('/dashboards/{id}/shared') || op.path.startsWith('/invitations/');
}

/**
 * The defects that make sense for an operation, in groups; each run of a group draws one of its
 * defects. `runs` per group and operation: across the hundred-odd operations every kind is drawn
 * many times while the whole file stays within its time.
 */
function defectGroups(op: Operation): Array<{ name: string; defects: Array<Defect | undefined>; runs: number }> {
  const groups: Array<{ name: string; defects: Array<Defect | undefined>; runs: number }> = [{ name: 'valid', defects: [undefined], runs: 2 }];
  if (op.access !== 'none' && op.access !== 'FileToken') groups.push({ name: 'auth', defects: ['auth-absent', 'auth-malformed', 'auth-unknown'], runs: 1 });
  if (/\{[^}]+\}/.test(op.path) && op.access !== 'none') groups.push({ name: 'id', defects: ['id-foreign', 'id-unknown', 'id-malformed'], runs: 1 });
  // health checks answer probes whatever they add (cache busters); everything else rejects unknown parameters
  const query: Defect[] = [...(op.path === '/health' ? [] : ['query-unknown' as const]), ...(op.query.length ? ['query-invalid' as const] : [])];
  if (query.length) groups.push({ name: 'query', defects: query, runs: 1 });
  if (op.body && op.body.mediaTypes.some((m) => /json$/.test(m))) {
    const body: Defect[] = [
      'body-wrong-type',
      'body-out-of-range',
      'body-unknown-attribute',
      'body-missing-field',
      'body-oversized-string',
      'body-malformed-json',
      'body-not-object',
      'media-type',
    ];
    if (op.body.mediaTypes.includes('application/vnd.api+json')) body.push('body-type-mismatch');
    if (op.method === 'PATCH' && op.body.mediaTypes.includes('application/vnd.api+json')) body.push('body-id-mismatch');
    groups.push({ name: 'body', defects: body, runs: 2 });
  }
  return groups.map((g) => ({ ...g, runs: g.runs * RUNS }));
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  const services = createDomainServices({ db: database.db, encryptionKey: TEST_ENCRYPTION_KEY });
  secret = (await services.organizations.create('Contract Org')).adminKey.secret;
  otherSecret = (await services.organizations.create('Other Org')).adminKey.secret;
  // many requests without a valid key on purpose: the failed-authentication limit is out of reach
  const env = { LOG_LEVEL: 'warn', AUTH_FAILURE_LIMIT: '1000000' };
  // the three start side by side: the API server learns the data server's URL from its port
  const dataPort = await freePort();
  dataUrl = `http://127.0.0.1:${dataPort}`;
  // the worker runs only while seeding (results, a schema, an export file): the generated requests
  // would otherwise start queries and renderings that load the machine without adding to the contract
  let worker: AppProcess;
  [data, api, worker] = await Promise.all([
    startAppProcess('data', database.url, { ...env, DATA_PORT: String(dataPort) }),
    startAppProcess('api', database.url, { ...env, DATA_BASE_URL: dataUrl }),
    startAppProcess('worker', database.url, env),
  ]);
  const res = await fetch(`${api.url}/openapi.json`);
  expect(res.status).toBe(200);
  document = (await res.json()) as Document;
  Object.assign(own, await seed(secret));
  Object.assign(foreign, await seed(otherSecret));
  await worker.stop();
}, 180_000);

afterAll(async () => {
  await killAppProcesses();
  await database?.drop();
});

describe('every documented operation, from the description', () => {
  it(
    'answers valid and invalid requests as documented (never a 5xx)',
    async () => {
      const operations = operationsOf(document, dataUrl);
      expect(operations.length).toBeGreaterThan(100);
      const failures: string[] = [];
      const started = Date.now();
      let index = 0;
      let sent = 0;
      for (const op of operations) {
        for (const group of defectGroups(op)) {
          const seed = SEED + index++;
          const requests = fc.constantFrom(...group.defects).chain((defect) => requestArbitrary(op, defect));
          const result = await fc.check(
            fc.asyncProperty(requests, async (req) => {
              sent++;
              const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body, redirect: 'manual' });
              const text = await res.text();
              const problem = checkResponse(op, req, res.status, res.headers.get('content-type') ?? '', text);
              if (problem) throw new Error(problem);
            }),
            { seed, numRuns: group.runs, endOnFailure: true },
          );
          if (result.failed) {
            const req = result.counterexample?.[0] as GeneratedRequest | undefined;
            failures.push(
              `${op.server} ${op.method} ${op.path} [${req?.intended ?? group.name}] seed ${seed}: ${(result.errorInstance as Error | undefined)?.message ?? String(result.errorInstance)}\n  request: ${req?.note}`,
            );
          }
        }
      }
      if (process.env.CONTRACT_TIMING) console.log(`${sent} requests in ${Date.now() - started} ms`);
      if (failures.length)
        console.log(
          `contract failures (CONTRACT_SEED=${SEED}, ${sent} requests):\n${failures.join('\n')}\n--- api output (tail) ---\n${api.output().slice(-4000)}`,
        );
      expect(failures).toEqual([]);
    },
    120_000 * RUNS,
  );
});
