import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createPlatformTestContext, waitForExecution, type PlatformTestContext } from '../../../test/support/platform.js';
import { expectValidJsonApi } from '../../../test/support/jsonapi-schema.js';

let t: PlatformTestContext;
let pgDs: string;
let mariaDs: string;
/** Datasources with the default statement timeout (5 min): a query held open by a test stays open. */
let pgLong: string;
let mariaLong: string;
let admin: pg.Client;
const MARKER = `sl_exec_test_${process.pid}`;

const auth = (secret: string) => `Api ${secret}`;
const run = (datasourceId: string, body: Record<string, unknown>, secret = t.adminSecret) =>
  t.api.post(`/datasources/${datasourceId}/executions`).set('Authorization', auth(secret)).set('Content-Type', 'application/json').send(JSON.stringify(body));

/** Polls `check` until it returns true (fails after `timeoutMs`: a liveness bound, not a speed goal). */
async function eventually(label: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${label}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A fresh advisory-lock key: the test holds the lock, a query waiting for it stays open until released. */
let lockCounter = 0;
const newLockKey = () => 7_160_000 + (process.pid % 1000) * 100 + ++lockCounter;

/** Polls `GET /executions/{id}` until it has `status` (an execution held open by the test gets there at any machine speed). */
async function waitForStatus(id: string, status: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = (await t.api.get(`/executions/${id}`).set('Authorization', auth(t.adminSecret))).body.data.attributes.execution_status as string;
    if (current === status) return;
    if (Date.now() > deadline) throw new Error(`execution ${id} is ${current}, not ${status}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function fetchRows(
  secret: string,
  executionId: string,
): Promise<{ fields: Array<{ name: string; data_type: string }>; rows: unknown[][]; [k: string]: unknown }> {
  const data = await t.api.get(`/executions/${executionId}/data`).set('Authorization', auth(secret));
  expect(data.status).toBe(200);
  expect(data.body).toEqual({ data_key: expect.any(String), data_access_token: expect.any(String), data_timestamp: expect.any(Number) });
  const res = await t.data.get(`/results/${data.body.data_key}`).set('Authorization', `Data ${data.body.data_access_token}`);
  expect(res.status).toBe(200);
  return JSON.parse(res.text);
}

beforeAll(async () => {
  // R_SCRIPT_PATH names no program: this worker has no R (r-query.int.test.ts covers R itself)
  t = await createPlatformTestContext({ env: { RESULT_ROW_LIMIT: '5000', R_SCRIPT_PATH: '/nonexistent/Rscript' } });
  const mk = async (attributes: Record<string, unknown>) => {
    const res = await t.api.post('/datasources').set('Authorization', auth(t.adminSecret)).send({ data: { attributes } });
    expect(res.status).toBe(201);
    return res.body.data.id as string;
  };
  pgDs = await mk({
    name: 'PG',
    database_type: 'postgres',
    connection_mode: 'direct',
    host: '127.0.0.1',
    port: 5432,
    username: 'postgres',
    database: t.database.name,
    require_ssl: false,
    query_timeout_seconds: 2,
  });
  mariaDs = await mk({
    name: 'Maria',
    database_type: 'mariadb',
    connection_mode: 'direct',
    host: '127.0.0.1',
    port: 3306,
    username: 'root',
    database: 'test',
    require_ssl: false,
    query_timeout_seconds: 2,
  });
  pgLong = await mk({
    name: 'PG held',
    database_type: 'postgres',
    connection_mode: 'direct',
    host: '127.0.0.1',
    port: 5432,
    username: 'postgres',
    database: t.database.name,
    require_ssl: false,
  });
  mariaLong = await mk({
    name: 'Maria held',
    database_type: 'mariadb',
    connection_mode: 'direct',
    host: '127.0.0.1',
    port: 3306,
    username: 'root',
    database: 'test',
    require_ssl: false,
  });
  admin = new pg.Client({ connectionString: t.database.url });
  await admin.connect();
  await admin.query(`CREATE TABLE ${MARKER}_hits (at timestamptz DEFAULT now())`);
  await admin.query(`CREATE FUNCTION ${MARKER}_hit() RETURNS int LANGUAGE sql VOLATILE AS $$ INSERT INTO ${MARKER}_hits DEFAULT VALUES RETURNING 1 $$`);
});

afterAll(async () => {
  await admin?.end();
  await t?.close();
});

describe('run execution → poll → data server', () => {
  const SQL = `SELECT g AS id, 'row ' || g AS label, CASE WHEN g % 7 = 0 THEN NULL ELSE g * 1.5 END AS amount,
    (g % 2 = 0) AS even, DATE '2024-01-01' + g AS day, 'Zürich 東京 ' || g AS city
    FROM generate_series(1, 2500) AS g ORDER BY g`;

  it('returns exactly what PostgreSQL returns', async () => {
    const res = await run(pgDs, { sql_query: SQL });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toContain('application/vnd.api+json');
    expectValidJsonApi(res.body);
    expect(res.body.data.type).toBe('executions');
    expect(res.body.data.attributes).toMatchObject({ execution_id: res.body.data.id, execution_type: 'sql_query' });
    const done = await waitForExecution(t, t.adminSecret, res.body.data.id);
    expect(done).toMatchObject({ execution_status: 'success', result_rows: 2500, result_columns: 6 });
    const result = await fetchRows(t.adminSecret, res.body.data.id);
    const direct = await admin.query({ text: SQL, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
    expect(result.rows).toHaveLength(2500);
    expect(result.fields.map((f) => [f.name, f.data_type])).toEqual([
      ['id', 'Integer'],
      ['label', 'String'],
      ['amount', 'Float'],
      ['even', 'Boolean'],
      ['day', 'Date'],
      ['city', 'String'],
    ]);
    result.rows.forEach((row, i) => {
      const d = direct.rows[i] as Array<string | null>;
      expect(row[0]).toBe(Number(d[0]));
      expect(row[1]).toBe(d[1]);
      expect(row[2]).toBe(d[2] === null ? null : Number(d[2]));
      expect(row[3]).toBe(d[3] === 't');
      expect(row[4]).toBe(d[4]);
      expect(row[5]).toBe(d[5]);
    });
    expect(result).toMatchObject({ execution_id: res.body.data.id, sql_rows: 2500, sql_columns: 6, time_zone: 'UTC' });
    const amount = result.fields[2] as unknown as Record<string, unknown>;
    expect(amount).toMatchObject({ idx: 2, human_name: 'Amount', min_value: 1.5, max_value: 3750, group_by: false });
  });

  it('sends JSON, arrays, ranges and composites as text, never as objects (rows hold only scalars)', async () => {
    const sql = `SELECT '{"a": [1, 12345678901234567890123], "b": "ü"}'::jsonb AS doc, ARRAY[1, NULL, 3] AS ints,
      ARRAY[['x', 'y"z']] AS words, int4range(1, 5) AS span, ROW(1, 'a b') AS pair, '{"k": [true]}'::json AS raw`;
    const res = await run(pgDs, { sql_query: sql });
    expect(await waitForExecution(t, t.adminSecret, res.body.data.id)).toMatchObject({ execution_status: 'success' });
    const result = await fetchRows(t.adminSecret, res.body.data.id);
    const direct = (await admin.query({ text: sql, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } })).rows[0] as string[];
    expect(result.fields.map((f) => [f.name, f.data_type])).toEqual([
      ['doc', 'JSON'],
      ['ints', 'IntegerArray'],
      ['words', 'StringArray'],
      ['span', 'Other'],
      ['pair', 'Record'],
      ['raw', 'JSON'],
    ]);
    expect(result.rows).toEqual([[direct[0], '[1,null,3]', '[["x","y\\"z"]]', direct[3], direct[4], direct[5]]]);
    expect(result.rows[0]!.every((v) => typeof v === 'string')).toBe(true);
  });

  it('returns exactly what MariaDB returns', async () => {
    const sql = "SELECT seq AS id, CONCAT('r', seq) AS label, IF(seq % 5 = 0, NULL, seq / 4) AS q FROM seq_1_to_1200 ORDER BY seq";
    const res = await run(mariaDs, { sql_query: sql });
    expect(res.status).toBe(201);
    expect(await waitForExecution(t, t.adminSecret, res.body.data.id)).toMatchObject({ execution_status: 'success', result_rows: 1200 });
    const result = await fetchRows(t.adminSecret, res.body.data.id);
    const conn = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' });
    const [direct] = await conn.query({ sql, rowsAsArray: true });
    await conn.end();
    expect(result.rows.map((r) => [r[0], r[1], r[2] === null ? null : Number(r[2])])).toEqual(
      (direct as unknown[][]).map((r) => [Number(r[0]), r[1], r[2] === null ? null : Number(r[2])]),
    );
  });

  it('binds parameters instead of splicing them', async () => {
    const res = await run(pgDs, {
      sql_query: "SELECT count(*) AS n FROM (VALUES ('a'), ('b'), ('c'), ('x''); DROP TABLE executions; --')) v(name) WHERE {name=letters}",
      parameters: { filters: [{ variable_name: 'letters', selected_values: ['a', "x'); DROP TABLE executions; --"] }] },
    });
    expect(res.status).toBe(201);
    expect(await waitForExecution(t, t.adminSecret, res.body.data.id)).toMatchObject({ execution_status: 'success' });
    const result = await fetchRows(t.adminSecret, res.body.data.id);
    expect(result.rows).toEqual([[2]]);
    expect((await admin.query('SELECT count(*) FROM executions')).rows[0].count).not.toBeUndefined();
  });

  it('reports query errors with the database message and answers 204 for their data', async () => {
    const res = await run(pgDs, { sql_query: 'SELECT * FROM no_such_table_here' });
    const done = await waitForExecution(t, t.adminSecret, res.body.data.id);
    expect(done.execution_status).toBe('query_error');
    expect(done.error_message).toMatch(/no_such_table_here/);
    const data = await t.api.get(`/executions/${res.body.data.id}/data`).set('Authorization', auth(t.adminSecret));
    expect(data.status).toBe(204);
  });

  it('says so when the row limit cuts a result', async () => {
    const res = await run(pgDs, { sql_query: 'SELECT g FROM generate_series(1, 20000) g' });
    expect(await waitForExecution(t, t.adminSecret, res.body.data.id)).toMatchObject({ execution_status: 'success', result_rows: 5000 });
    const result = await fetchRows(t.adminSecret, res.body.data.id);
    expect(result.rows).toHaveLength(5000);
    expect(result.row_limit_reached).toBe(true);
  });
});

describe('timeouts and cancel reach the database', () => {
  const activeQueries = async (needle: string) =>
    (await admin.query("SELECT pid FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid() AND state = 'active'", [`%${needle}%`])).rowCount ?? 0;

  it('ends a query over the datasource timeout as timed_out, and the query is gone', async () => {
    const res = await run(pgDs, { sql_query: 'SELECT pg_sleep(10) /* timeout-probe */' });
    const done = await waitForExecution(t, t.adminSecret, res.body.data.id);
    expect(done.execution_status).toBe('timed_out');
    await eventually('the timed-out query leaves the database', async () => (await activeQueries('timeout-probe')) === 0);
  });

  // A query waiting for an advisory lock the test holds runs until cancelled, at any machine speed.
  // (How fast cancel reaches the database is a goal measured by `npm run bench`, not asserted here.)
  it('cancels a running PostgreSQL query in the database', async () => {
    const lock = newLockKey();
    await admin.query('SELECT pg_advisory_lock($1)', [lock]);
    try {
      const res = await run(pgLong, { sql_query: `SELECT pg_advisory_xact_lock(${lock}) /* cancel-probe */` });
      const id = res.body.data.id;
      await eventually('the query runs', async () => (await activeQueries('cancel-probe')) === 1);
      expect((await t.api.post(`/executions/${id}/cancel`).set('Authorization', auth(t.adminSecret))).status).toBe(204);
      await eventually('cancel reaches the database', async () => (await activeQueries('cancel-probe')) === 0);
      expect((await waitForExecution(t, t.adminSecret, id)).execution_status).toBe('cancelled');
      // cancelling a finished execution has no effect
      expect((await t.api.post(`/executions/${id}/cancel`).set('Authorization', auth(t.adminSecret))).status).toBe(204);
      expect((await waitForExecution(t, t.adminSecret, id)).execution_status).toBe('cancelled');
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [lock]);
    }
  });

  it('cancels a running MariaDB query (KILL QUERY)', async () => {
    const conn = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
    const lock = `sightline_cancel_${process.pid}_${newLockKey()}`;
    const probe = async () =>
      (
        (
          await conn.query("SELECT id FROM information_schema.PROCESSLIST WHERE INFO LIKE '%maria-cancel-probe%' AND INFO NOT LIKE '%PROCESSLIST%'")
        )[0] as unknown[]
      ).length;
    await conn.query('SELECT GET_LOCK(?, 10)', [lock]);
    try {
      const res = await run(mariaLong, { sql_query: `SELECT GET_LOCK('${lock}', 3600) /* maria-cancel-probe */` });
      await eventually('the query runs', async () => (await probe()) === 1);
      await t.api.post(`/executions/${res.body.data.id}/cancel`).set('Authorization', auth(t.adminSecret));
      await eventually('KILL QUERY reaches the server', async () => (await probe()) === 0);
      expect((await waitForExecution(t, t.adminSecret, res.body.data.id)).execution_status).toBe('cancelled');
    } finally {
      await conn.query('SELECT RELEASE_LOCK(?)', [lock]);
      await conn.end();
    }
  });
});

describe('single flight', () => {
  it('50 concurrent identical executions reach the database once', async () => {
    // The query waits for a lock the test holds, so it cannot end before the last of the 50
    // requests is answered: the property is proven at any machine speed.
    const lock = newLockKey();
    const sql = `SELECT ${MARKER}_hit() AS hit, pg_advisory_xact_lock(${lock})::text AS held`;
    await admin.query('SELECT pg_advisory_lock($1)', [lock]);
    let id: string;
    try {
      const responses = await Promise.all(Array.from({ length: 50 }, () => run(pgLong, { sql_query: sql })));
      expect(responses.map((r) => r.status)).toEqual(Array(50).fill(201));
      const ids = new Set(responses.map((r) => r.body.data.id as string));
      expect(ids.size).toBe(1);
      id = [...ids][0]!;
      // still unfinished while the lock is held: every request joined the one execution
      const status = (await t.api.get(`/executions/${id}`).set('Authorization', auth(t.adminSecret))).body.data.attributes.execution_status;
      expect(['starting', 'waiting', 'running']).toContain(status);
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [lock]);
    }
    expect((await waitForExecution(t, t.adminSecret, id)).execution_status).toBe('success');
    expect(Number((await admin.query(`SELECT count(*) FROM ${MARKER}_hits`)).rows[0].count)).toBe(1);
    // a fresh result is reused when the caller allows it
    const again = await run(pgLong, { sql_query: sql, reuse_seconds: 60 });
    expect(again.body.data.id).toBe(id);
    const fresh = await run(pgLong, { sql_query: sql });
    expect(fresh.body.data.id).not.toBe(id);
    await waitForExecution(t, t.adminSecret, fresh.body.data.id);
    expect(Number((await admin.query(`SELECT count(*) FROM ${MARKER}_hits`)).rows[0].count)).toBe(2);
  });
});

describe('access rules and hostile input', () => {
  it('rejects bad bodies with clear errors', async () => {
    for (const [body, status] of [
      [{}, 422],
      [{ sql_query: 5 }, 422],
      [{ sql_query: 'SELECT 1', extra: 1 }, 422],
      [{ sql_query: 'SELECT 1', parameters: { aggregation: 'fortnight' } }, 422],
      [{ sql_query: 'SELECT 1', parameters: { tz: "UTC'; DROP TABLE x;--" } }, 422],
      [{ sql_query: 'SELECT {x:nope}' }, 422],
      [{ sql_query: 'SELECT 1', parameters: { timerange: 'yesterday-ish' } }, 422],
    ] as Array<[Record<string, unknown>, number]>) {
      const res = await run(pgDs, body);
      expect([res.status, body]).toEqual([status, body]);
      expectValidJsonApi(res.body);
    }
    const text = await t.api
      .post(`/datasources/${pgDs}/executions`)
      .set('Authorization', auth(t.adminSecret))
      .set('Content-Type', 'text/plain')
      .send('SELECT 1');
    expect(text.status).toBe(415);
    expect((await t.api.get('/executions/not-a-uuid').set('Authorization', auth(t.adminSecret))).status).toBe(404);
    expect((await t.api.get('/executions/00000000-0000-0000-0000-000000000000').set('Authorization', auth(t.adminSecret))).status).toBe(404);
  });

  it('keeps executions and data keys inside their organization and datasource scope', async () => {
    const res = await run(pgDs, { sql_query: 'SELECT 42 AS answer' });
    await waitForExecution(t, t.adminSecret, res.body.data.id);
    const other = await t.services.organizations.create('Other');
    const secret = other.adminKey.secret;
    expect((await t.api.get(`/executions/${res.body.data.id}`).set('Authorization', auth(secret))).status).toBe(404);
    expect((await t.api.get(`/executions/${res.body.data.id}/data`).set('Authorization', auth(secret))).status).toBe(404);
    expect((await t.api.post(`/executions/${res.body.data.id}/cancel`).set('Authorization', auth(secret))).status).toBe(404);
    expect((await run(pgDs, { sql_query: 'SELECT 1' }, secret)).status).toBe(404);
    const scoped = await t.api
      .post('/api_keys')
      .set('Authorization', auth(t.adminSecret))
      .send({ data: { attributes: { name: 'maria only', permissions: [{ name: 'Manage Dashboards', datasource_ids: [mariaDs] }] } } });
    const scopedSecret = scoped.body.data.attributes.secret as string;
    expect((await run(pgDs, { sql_query: 'SELECT 1' }, scopedSecret)).status).toBe(404);
    expect((await t.api.get(`/executions/${res.body.data.id}`).set('Authorization', auth(scopedSecret))).status).toBe(404);
    // a token of another organization's key does not open this result
    const data = await t.api.get(`/executions/${res.body.data.id}/data`).set('Authorization', auth(t.adminSecret));
    const foreign = t.services.tokens.sign({ organizationId: other.organization.id, dataKey: data.body.data_key, kind: 'result', format: 'json' });
    expect((await t.data.get(`/results/${data.body.data_key}`).set('Authorization', `Data ${foreign}`)).status).toBe(404);
  });
});

describe('schemas', () => {
  it('refreshes a datasource schema and serves it through the data server', async () => {
    await admin.query(`CREATE TABLE ${MARKER}_orders (id int PRIMARY KEY, placed_at timestamptz, note text)`);
    const refresh = await t.api.post(`/datasources/${pgDs}/refresh`).set('Authorization', auth(t.adminSecret));
    expect(refresh.status).toBe(200);
    expect(await waitForExecution(t, t.adminSecret, refresh.body.execution_id)).toMatchObject({
      execution_status: 'success',
      execution_type: 'almanach_query',
    });
    const key = await t.api.get(`/datasources/${pgDs}/schema`).set('Authorization', auth(t.adminSecret));
    expect(key.status).toBe(200);
    const schema = await t.data.get(`/schemas/${key.body.data_key}`).set('Authorization', `Data ${key.body.data_access_token}`);
    expect(schema.status).toBe(200);
    const doc = JSON.parse(schema.text) as {
      schemas: Array<{ name: string; tables: Array<{ name: string; columns: Array<{ name: string; data_type: string }> }> }>;
    };
    const table = doc.schemas.find((s) => s.name === 'public')!.tables.find((tb) => tb.name === `${MARKER}_orders`)!;
    expect(table.columns.map((c) => [c.name, c.data_type])).toEqual([
      ['id', 'Integer'],
      ['placed_at', 'DateTime'],
      ['note', 'String'],
    ]);
    const one = await t.api.get(`/datasources/${pgDs}/schema?name=public`).set('Authorization', auth(t.adminSecret));
    const publicOnly = await t.data.get(`/schemas/${one.body.data_key}`).set('Authorization', `Data ${one.body.data_access_token}`);
    expect(publicOnly.status).toBe(200);
    expect(JSON.parse(publicOnly.text)).toMatchObject({
      name: 'public',
      tables: expect.arrayContaining([expect.objectContaining({ name: `${MARKER}_orders` })]),
    });
    const none = await t.api.get(`/datasources/${pgDs}/schema?name=nope`).set('Authorization', auth(t.adminSecret));
    expect((await t.data.get(`/schemas/${none.body.data_key}`).set('Authorization', `Data ${none.body.data_access_token}`)).status).toBe(404);
    const ds = await t.api.get(`/datasources/${pgDs}`).set('Authorization', auth(t.adminSecret));
    expect(ds.body.data.attributes.schema_updated_at).not.toBeNull();
    expect(ds.body.data.attributes.default_schema_name).toBe('public');
  });
});

describe('Get Datasource Schema before any refresh', () => {
  it('answers the data key at once and starts the refresh; the data server says 204 until the schema is stored', async () => {
    const created = await t.api
      .post('/datasources')
      .set('Authorization', auth(t.adminSecret))
      .send({
        data: {
          attributes: {
            name: 'No schema yet',
            database_type: 'postgres',
            connection_mode: 'direct',
            host: '127.0.0.1',
            port: 5432,
            username: 'postgres',
            database: t.database.name,
            require_ssl: false,
            max_concurrent_executions: 1,
          },
        },
      });
    const ds = created.body.data.id as string;
    const viewer = await t.api
      .post('/api_keys')
      .set('Authorization', auth(t.adminSecret))
      .send({ data: { attributes: { name: 'schema viewer', permissions: [{ name: 'View Datasources', datasource_ids: [ds] }] } } });
    const viewerSecret = viewer.body.data.attributes.secret as string;
    // A query holding the datasource's only slot keeps the refresh waiting for as long as the test needs.
    const lock = 7_160_010;
    await admin.query('SELECT pg_advisory_lock($1)', [lock]);
    let key: { data_key: string; data_access_token: string };
    try {
      const blocker = await run(ds, { sql_query: `SELECT pg_advisory_xact_lock(${lock}) /* schema-slot-holder */` });
      await waitForStatus(blocker.body.data.id, 'running');
      const res = await t.api.get(`/datasources/${ds}/schema`).set('Authorization', auth(viewerSecret));
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toContain('application/json');
      expect(res.body).toEqual({ data_key: expect.stringContaining(`/schemas/${ds}`), data_access_token: expect.any(String) });
      key = res.body;
      const early = await t.data.get(`/schemas/${key.data_key}`).set('Authorization', `Data ${key.data_access_token}`);
      expect(early.status).toBe(204);
      // asking again joins the same refresh (single flight): still one refresh execution
      expect((await t.api.get(`/datasources/${ds}/schema`).set('Authorization', auth(viewerSecret))).status).toBe(200);
      const refreshes = await admin.query("SELECT count(*) FROM executions WHERE datasource_id = $1 AND execution_type = 'almanach_query'", [ds]);
      expect(Number(refreshes.rows[0].count)).toBe(1);
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [lock]);
    }
    // a liveness bound (the refresh takes well under a second alone), generous for a loaded machine
    const deadline = Date.now() + 90_000;
    let schema = await t.data.get(`/schemas/${key.data_key}`).set('Authorization', `Data ${key.data_access_token}`);
    while (schema.status === 204 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      schema = await t.data.get(`/schemas/${key.data_key}`).set('Authorization', `Data ${key.data_access_token}`);
    }
    expect(schema.status).toBe(200);
    expect((JSON.parse(schema.text) as { schemas: Array<{ name: string }> }).schemas.map((x) => x.name)).toContain('public');
  }, 150_000);

  it('answers 422 when the datasource can never be refreshed by this build', async () => {
    const oracle = await t.api
      .post('/datasources')
      .set('Authorization', auth(t.adminSecret))
      .send({ data: { attributes: { name: 'o', database_type: 'oracle', connection_mode: 'direct', host: 'h' } } });
    const res = await t.api.get(`/datasources/${oracle.body.data.id}/schema`).set('Authorization', auth(t.adminSecret));
    expect(res.status).toBe(422);
    expectValidJsonApi(res.body);
  });
});

describe('concurrency, retention, R', () => {
  it('honours max_concurrent_executions: a second query waits for the first', async () => {
    const one = await t.api
      .post('/datasources')
      .set('Authorization', auth(t.adminSecret))
      .send({
        data: {
          attributes: {
            name: 'One at a time',
            database_type: 'postgres',
            connection_mode: 'direct',
            host: '127.0.0.1',
            port: 5432,
            username: 'postgres',
            database: t.database.name,
            require_ssl: false,
            max_concurrent_executions: 1,
          },
        },
      });
    // The first query holds the only slot until the test releases its lock: the second must wait.
    const lock = newLockKey();
    await admin.query('SELECT pg_advisory_lock($1)', [lock]);
    let first: string;
    let second: string;
    try {
      first = (await run(one.body.data.id, { sql_query: `SELECT pg_advisory_xact_lock(${lock})::text AS held, 1 AS first` })).body.data.id;
      await waitForStatus(first, 'running');
      second = (await run(one.body.data.id, { sql_query: 'SELECT 2 AS second' })).body.data.id;
      await waitForStatus(second, 'waiting');
      expect((await t.api.get(`/executions/${first}`).set('Authorization', auth(t.adminSecret))).body.data.attributes.execution_status).toBe('running');
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [lock]);
    }
    const a = await waitForExecution(t, t.adminSecret, first);
    const b = await waitForExecution(t, t.adminSecret, second);
    expect([a.execution_status, b.execution_status]).toEqual(['success', 'success']);
    expect(Date.parse(b.started_at as string)).toBeGreaterThanOrEqual(Date.parse(a.completed_at as string) - 5);
  });

  it('forgets executions 24 hours after they started', async () => {
    const res = await run(pgDs, { sql_query: 'SELECT 24' });
    await waitForExecution(t, t.adminSecret, res.body.data.id);
    await t.database
      .db('executions')
      .where({ id: res.body.data.id })
      .update({ created_at: t.database.db.raw("now() - interval '25 hours'") });
    expect((await t.api.get(`/executions/${res.body.data.id}`).set('Authorization', auth(t.adminSecret))).status).toBe(404);
    expect((await t.api.get(`/executions/${res.body.data.id}/data`).set('Authorization', auth(t.adminSecret))).status).toBe(404);
  });

  it('fails r_query with a clear query_error on a worker without R', async () => {
    const res = await run(pgDs, { sql_query: 'SELECT 1 AS x', r_query: 'result <- data' });
    const done = await waitForExecution(t, t.adminSecret, res.body.data.id);
    expect(done.execution_status).toBe('query_error');
    expect(done.error_message).toBe('R post-processing (r_query) is not available: this worker has no R runtime');
  });
});

describe('crash safety', () => {
  it('ends an execution whose worker stopped sending heartbeats as internal_error', async () => {
    const res = await run(pgDs, { sql_query: 'SELECT 7' });
    await waitForExecution(t, t.adminSecret, res.body.data.id);
    // Simulate a worker killed mid-query: running, last heartbeat long ago.
    await t.database
      .db('executions')
      .where({ id: res.body.data.id })
      .update({ execution_status: 'running', heartbeat_at: t.database.db.raw("now() - interval '1 minute'"), completed_at: null });
    const deadline = Date.now() + 45_000;
    let status = '';
    while (Date.now() < deadline) {
      status = (await t.database.db('executions').where({ id: res.body.data.id }).first()).execution_status;
      if (status !== 'running') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe('internal_error');
  });
});
