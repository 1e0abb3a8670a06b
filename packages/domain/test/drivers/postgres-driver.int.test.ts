import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { QueryError, createDriver, type ConnectionSettings, type Driver } from '../../src/drivers/index.js';
import { allRows, closedPort, drain, onPgAdmin, pgDatabaseUrl, pgTestSettings, rejectionOf, silentServer, sleep } from './support.js';

const dbName = `sl_drv_${randomBytes(5).toString('hex')}`;

const settings = (overrides: Partial<ConnectionSettings> = {}): ConnectionSettings => pgTestSettings(dbName, overrides);

let observer: pg.Client;
let driver: Driver;

/** Whether backend `pid` still runs a statement (the proof that cancel/timeout reached the server). */
async function activeStatement(pid: number): Promise<string | null> {
  const { rows } = await observer.query<{ state: string; query: string }>('SELECT state, query FROM pg_stat_activity WHERE pid = $1', [pid]);
  const row = rows[0];
  return row && row.state === 'active' ? row.query : null;
}

// The waits below are liveness bounds (generous, so a busy machine passes); how fast cancel and
// timeouts reach the server is a goal measured by `npm run bench`, never asserted in a test.
async function waitUntilGone(pid: number, ms = 20_000): Promise<string | null> {
  const until = Date.now() + ms;
  let current = await activeStatement(pid);
  while (current && Date.now() < until) {
    await sleep(25);
    current = await activeStatement(pid);
  }
  return current;
}

/** Polls until backend `pid` runs a statement (the query messages may still be in flight). */
async function waitUntilActive(pid: number, ms = 20_000): Promise<string | null> {
  const until = Date.now() + ms;
  let current = await activeStatement(pid);
  while (!current && Date.now() < until) {
    await sleep(20);
    current = await activeStatement(pid);
  }
  return current;
}

/** Polls until the session of backend `pid` has ended; returns whether it did. */
async function sessionEnds(pid: number, ms = 20_000): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    const { rows } = await observer.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
    if (rows.length === 0) return true;
    if (Date.now() > until) return false;
    await sleep(20);
  }
}

beforeAll(async () => {
  await onPgAdmin(`CREATE DATABASE ${dbName}`);
  observer = new pg.Client({ connectionString: pgDatabaseUrl(dbName) });
  await observer.connect();
  await observer.query(`
    CREATE SCHEMA shop;
    CREATE TYPE shop.status AS ENUM ('open', 'paid');
    CREATE DOMAIN shop.money_amount AS numeric(12,2);
    CREATE TABLE shop.orders (id serial PRIMARY KEY, amount shop.money_amount, status shop.status, tags text[], meta jsonb,
      created_at timestamptz NOT NULL DEFAULT now(), due date, big int8, flag boolean, raw bytea);
    INSERT INTO shop.orders (amount, status, tags) SELECT g, 'open', ARRAY['a'] FROM generate_series(1, 500) g;
    CREATE VIEW shop.open_orders AS SELECT id, amount FROM shop.orders WHERE status = 'open';
    CREATE TABLE public.notes (body text);
    CREATE TABLE public.parted (id int, at date) PARTITION BY RANGE (at);
    CREATE TABLE public.parted_2024 PARTITION OF public.parted FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    ANALYZE shop.orders;`);
  driver = createDriver(settings());
});

afterAll(async () => {
  await driver.close();
  await observer.end();
  await onPgAdmin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
});

describe('postgres driver', () => {
  it('tests the connection and reports the server version', async () => {
    const { serverVersion } = await driver.testConnection();
    expect(serverVersion).toMatch(/^\d+(\.\d+)?/);
  });

  it('streams 200k rows in batches with bounded memory', async () => {
    const started = Date.now();
    const query = await driver.query(`SELECT g, repeat(md5(g::text), 16) AS payload FROM generate_series(1, 200000) g`, [], {
      timeoutMs: 60_000,
      batchSize: 2000,
    });
    expect(await query.columns()).toEqual([
      { name: 'g', dbType: 'int4', dataType: 'Integer' },
      { name: 'payload', dbType: 'text', dataType: 'String' },
    ]);
    let last = 0;
    const { rowCount, batches, peakHeapGrowth } = await drain(query, (rows) => {
      expect(rows[0]![0]).toBe(last + 1);
      last = rows[rows.length - 1]![0] as number;
    });
    const seconds = (Date.now() - started) / 1000;
    expect(rowCount).toBe(200_000);
    expect(batches).toHaveLength(100);
    expect(Math.max(...batches)).toBe(2000);
    // The whole result is ~110 MB of strings; a streaming reader keeps only a few batches alive.
    expect(peakHeapGrowth).toBeLessThan(16 * 1024 * 1024);
    console.log(
      `postgres: streamed 200000 rows (512-char payload) in ${seconds.toFixed(2)} s = ${Math.round(200_000 / seconds)} rows/s, peak live heap growth ${(peakHeapGrowth / 1048576).toFixed(1)} MB`,
    );
  });

  it('converts every common type to exact JSON-safe values', async () => {
    const query = await driver.query(
      `SELECT 1::int2 AS i2, 2::int4 AS i4, 9007199254740991::int8 AS safe8, 9223372036854775807::int8 AS big8,
              12.50::numeric(10,2) AS num, 123456789012345678901234.5::numeric AS bignum, 1.5::float4 AS f4, 0.1::float8 AS f8,
              'Infinity'::float8 AS inf, true AS t, false AS f, NULL::int AS nothing,
              'Zürich 東京 😀'::text AS txt, 'x'::char(3) AS ch, '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::uuid AS id,
              '{"a": [1, 2.5, null], "b": "ü"}'::jsonb AS jb, '[1,2]'::json AS js, '\\x00ff10'::bytea AS bin,
              DATE '2024-02-29' AS d, TIME '13:14:15' AS tm, TIME '13:14:15.25' AS tm_frac,
              TIMESTAMP '2024-01-02 03:04:05.123456' AS ts, TIMESTAMPTZ '2024-01-02 03:04:05.5+02' AS tstz,
              ARRAY[1, NULL, 3] AS int_arr, ARRAY['a,b', 'c"d'] AS txt_arr, ARRAY[DATE '2024-01-01'] AS date_arr,
              ARRAY[TIMESTAMPTZ '2024-01-02 00:00:00+00'] AS tstz_arr, ARRAY[true, false] AS bool_arr,
              ARRAY[[1.5, 2], [3, 4]]::numeric[] AS num_matrix, ARRAY['{"k":1}'::jsonb] AS jb_arr, ROW(1, 'a') AS rec,
              ARRAY[1, 9223372036854775807]::int8[] AS big_arr, int4range(1, 5) AS range,
              '1 day 02:00:00'::interval AS iv, 'open'::shop.status AS enum_value, $1::text AS param_text, $2::int AS param_int`,
      ['bound ü', 42],
      { timeoutMs: 10_000 },
    );
    const columns = await query.columns();
    const rows = await allRows(query);
    expect(rows).toHaveLength(1);
    const got = Object.fromEntries(columns.map((c, i) => [c.name, { value: rows[0]![i], dataType: c.dataType }]));
    expect(got).toEqual({
      i2: { value: 1, dataType: 'Integer' },
      i4: { value: 2, dataType: 'Integer' },
      safe8: { value: 9007199254740991, dataType: 'BigInt' },
      big8: { value: '9223372036854775807', dataType: 'BigInt' },
      num: { value: 12.5, dataType: 'Float' },
      bignum: { value: '123456789012345678901234.5', dataType: 'Float' },
      f4: { value: 1.5, dataType: 'Float' },
      f8: { value: 0.1, dataType: 'Float' },
      inf: { value: 'Infinity', dataType: 'Float' },
      t: { value: true, dataType: 'Boolean' },
      f: { value: false, dataType: 'Boolean' },
      nothing: { value: null, dataType: 'Integer' },
      txt: { value: 'Zürich 東京 😀', dataType: 'String' },
      ch: { value: 'x  ', dataType: 'String' },
      id: { value: '6ba7b810-9dad-11d1-80b4-00c04fd430c8', dataType: 'String' },
      // Non-scalar values travel as text (the contract allows only number, string, boolean, null in
      // rows): JSON as the database's JSON text, arrays as JSON array text, data_type says which.
      jb: { value: '{"a": [1, 2.5, null], "b": "ü"}', dataType: 'JSON' },
      js: { value: '[1,2]', dataType: 'JSON' },
      bin: { value: Buffer.from([0, 255, 16]).toString('base64'), dataType: 'Binary' },
      d: { value: '2024-02-29', dataType: 'Date' },
      tm: { value: '13:14:15', dataType: 'Time' },
      tm_frac: { value: '13:14:15.25', dataType: 'Time' },
      ts: { value: '2024-01-02T03:04:05.123456', dataType: 'DateTime' },
      tstz: { value: '2024-01-02T01:04:05.5Z', dataType: 'DateTime' },
      int_arr: { value: '[1,null,3]', dataType: 'IntegerArray' },
      txt_arr: { value: '["a,b","c\\"d"]', dataType: 'StringArray' },
      date_arr: { value: '["2024-01-01"]', dataType: 'DateArray' },
      tstz_arr: { value: '["2024-01-02T00:00:00Z"]', dataType: 'DateTimeArray' },
      bool_arr: { value: '[true,false]', dataType: 'BooleanArray' },
      num_matrix: { value: '[[1.5,2],[3,4]]', dataType: 'FloatArray' },
      jb_arr: { value: '[{"k": 1}]', dataType: 'JSONArray' },
      big_arr: { value: '[1,"9223372036854775807"]', dataType: 'BigIntArray' },
      range: { value: '[1,5)', dataType: 'Other' },
      rec: { value: '(1,a)', dataType: 'Record' },
      iv: { value: '1 day 02:00:00', dataType: 'String' },
      enum_value: { value: 'open', dataType: 'Other' },
      param_text: { value: 'bound ü', dataType: 'String' },
      param_int: { value: 42, dataType: 'Integer' },
    });
    // Every value is a scalar and survives a JSON round trip unchanged.
    expect(rows[0]!.every((v) => v === null || ['number', 'string', 'boolean'].includes(typeof v))).toBe(true);
    expect(JSON.parse(JSON.stringify(rows))).toEqual(rows);
  });

  it('leaves the global pg type parsers untouched', async () => {
    const before = pg.types.getTypeParser(1114);
    await allRows(await driver.query('SELECT now()::timestamp', [], { timeoutMs: 5000 }));
    expect(pg.types.getTypeParser(1114)).toBe(before);
    const plain = await observer.query("SELECT TIMESTAMP '2024-01-02 03:04:05' AS ts");
    expect(plain.rows[0].ts).toBeInstanceOf(Date);
  });

  it('runs every query in the data time zone (now(), naive timestamps)', async () => {
    const tokyo = createDriver(settings({ dataTimeZone: 'Asia/Tokyo' }));
    const query = await tokyo.query(
      `SELECT current_setting('TimeZone'), now(), now()::timestamp, TIMESTAMPTZ '2024-01-01 12:00:00+00'::timestamp,
              TIMESTAMP '2024-01-01 12:00:00'::timestamptz, date_trunc('day', TIMESTAMPTZ '2024-01-01 20:00:00+00')`,
      [],
      { timeoutMs: 5000 },
    );
    const [row] = await allRows(query);
    const [zone, now, localNow, naive, fromNaive, dayStart] = row as string[];
    expect(zone).toBe('Asia/Tokyo');
    // The naive local time is the UTC instant + 9 h.
    expect(Date.parse(`${localNow}Z`) - Date.parse(now!)).toBe(9 * 3600 * 1000);
    expect(naive).toBe('2024-01-01T21:00:00');
    expect(fromNaive).toBe('2024-01-01T03:00:00Z');
    // Day boundaries follow the data zone: 20:00 UTC is already Jan 2 in Tokyo.
    expect(dayStart).toBe('2024-01-01T15:00:00Z');
    await tokyo.close();
  });

  it('rejects an unknown data time zone with the database message', async () => {
    const bad = createDriver(settings({ dataTimeZone: 'Mars/Olympus' }));
    const err = await rejectionOf(bad.query('SELECT 1', [], { timeoutMs: 5000 }));
    expect(err).toBeInstanceOf(QueryError);
    expect(err.kind).toBe('query_error');
    expect(err.message).toMatch(/time ?zone/i);
  });

  it('times out a long statement and stops it in the database', async () => {
    const query = await driver.query('SELECT pg_sleep(30)', [], { timeoutMs: 800 });
    expect(await waitUntilActive(query.backendId)).toContain('pg_sleep');
    const err = await rejectionOf(allRows(query));
    expect(err).toBeInstanceOf(QueryError);
    expect(err.kind).toBe('timed_out');
    expect(await waitUntilGone(query.backendId)).toBeNull();
  });

  it('times out a slowly consumed stream (wall-clock limit across batches)', async () => {
    const query = await driver.query('SELECT g FROM generate_series(1, 1000000) g', [], { timeoutMs: 700, batchSize: 100 });
    const err = await rejectionOf(drain(query, () => sleep(100)));
    expect(err.kind).toBe('timed_out');
    expect(await waitUntilGone(query.backendId)).toBeNull();
    expect(await sessionEnds(query.backendId)).toBe(true);
  });

  it('cancels a running statement in the database', async () => {
    const query = await driver.query('SELECT count(*) FROM generate_series(1, 1e10)', [], { timeoutMs: 60_000 });
    const iteration = rejectionOf(allRows(query));
    expect(await waitUntilActive(query.backendId)).toContain('generate_series');
    await query.cancel();
    const err = await iteration;
    expect(err).toBeInstanceOf(QueryError);
    expect(err.kind).toBe('cancelled');
    expect(await waitUntilGone(query.backendId)).toBeNull();
    await query.close();
    await query.close();
  });

  it('a cancel between batches makes the next read throw cancelled', async () => {
    const query = await driver.query('SELECT g FROM generate_series(1, 100000) g', [], { timeoutMs: 60_000, batchSize: 10 });
    const iterator = query.rows()[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toHaveLength(10);
    await query.cancel();
    const err = await rejectionOf(iterator.next());
    expect(err.kind).toBe('cancelled');
    expect(await sessionEnds(query.backendId)).toBe(true);
  });

  it('reports query errors with the database message and SQLSTATE', async () => {
    const query = await driver.query('SELECT * FROM no_such_table', [], { timeoutMs: 5000 });
    const err = await rejectionOf(query.columns());
    expect(err).toBeInstanceOf(QueryError);
    expect(err.kind).toBe('query_error');
    expect(err.code).toBe('42P01');
    expect(err.message).toContain('relation "no_such_table" does not exist');
    await query.close();
    const divide = await driver.query('SELECT 1 / 0', [], { timeoutMs: 5000 });
    const err2 = await rejectionOf(allRows(divide));
    expect(err2.code).toBe('22012');
    expect(err2.message).toContain('division by zero');
  });

  it('describes the columns as soon as the row description arrives, before any row', async () => {
    // The statement waits for a lock the test holds: it cannot produce a row before the test says so.
    const lock = 7_161_000 + (process.pid % 1000);
    await observer.query('SELECT pg_advisory_lock($1)', [lock]);
    let query: Awaited<ReturnType<Driver['query']>>;
    try {
      query = await driver.query(`SELECT pg_advisory_xact_lock(${lock})::text AS waited, 1::int8 AS n`, [], { timeoutMs: 60_000 });
      expect(await query.columns()).toEqual([
        { name: 'waited', dbType: 'text', dataType: 'String' },
        { name: 'n', dbType: 'int8', dataType: 'BigInt' },
      ]);
      // the columns arrived while the statement still waits for the lock: before any row
      expect(await waitUntilActive(query.backendId)).toContain('pg_advisory_xact_lock');
    } finally {
      await observer.query('SELECT pg_advisory_unlock($1)', [lock]);
    }
    expect(await allRows(query)).toEqual([['', 1]]);
  });

  it('handles statements without a result set', async () => {
    const query = await driver.query('CREATE TEMP TABLE scratch (x int)', [], { timeoutMs: 5000 });
    expect(await query.columns()).toEqual([]);
    expect(await allRows(query)).toEqual([]);
  });

  it('reports connection errors without credentials, within the connect timeout', async () => {
    const port = await closedPort();
    let err = await rejectionOf(createDriver(settings({ port, password: 'very-secret-pw' })).testConnection());
    expect(err.kind).toBe('connection_error');
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.message).not.toContain('very-secret-pw');

    // A server that never answers: the connect timeout ends the attempt (a slow machine only waits longer).
    const silent = await silentServer();
    try {
      const started = Date.now();
      err = await rejectionOf(createDriver(settings({ port: silent.port, connectTimeoutMs: 1000 })).testConnection());
      expect(err.kind).toBe('connection_error');
      expect(err.message).toContain('within 1000 ms');
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    } finally {
      await silent.close();
    }

    err = await rejectionOf(createDriver(settings({ database: 'no_such_db_here', password: 'very-secret-pw' })).testConnection());
    expect(err.kind).toBe('connection_error');
    expect(err.message).toContain('"no_such_db_here" does not exist');
    expect(err.message).not.toContain('very-secret-pw');
  });

  it('honours require_ssl: a clear error against a server without SSL, and plain works', async () => {
    const err = await rejectionOf(createDriver(settings({ requireSsl: true, verifySsl: true })).testConnection());
    expect(err.kind).toBe('connection_error');
    expect(err.message).toMatch(/does not support SSL/i);
    await expect(createDriver(settings({ requireSsl: false })).testConnection()).resolves.toHaveProperty('serverVersion');
  });

  it('introspects schemas, tables, views and column data types', async () => {
    const info = await driver.introspect({ timeoutMs: 10_000 });
    expect(info.default_schema_name).toBe('public');
    expect(info.server_version).toMatch(/^\d+/);
    expect(info.schemas.map((s) => s.name)).toEqual(['public', 'shop']);
    const shop = info.schemas.find((s) => s.name === 'shop')!;
    const orders = shop.tables.find((t) => t.name === 'orders')!;
    expect(orders.type).toBe('table');
    expect(orders.row_count).toBe(500);
    expect(orders.columns).toEqual([
      { name: 'id', db_type: 'integer', data_type: 'Integer' },
      { name: 'amount', db_type: 'shop.money_amount', data_type: 'Float' },
      { name: 'status', db_type: 'shop.status', data_type: 'String' },
      { name: 'tags', db_type: 'text[]', data_type: 'StringArray' },
      { name: 'meta', db_type: 'jsonb', data_type: 'JSON' },
      { name: 'created_at', db_type: 'timestamp with time zone', data_type: 'DateTime' },
      { name: 'due', db_type: 'date', data_type: 'Date' },
      { name: 'big', db_type: 'bigint', data_type: 'BigInt' },
      { name: 'flag', db_type: 'boolean', data_type: 'Boolean' },
      { name: 'raw', db_type: 'bytea', data_type: 'Binary' },
    ]);
    const view = shop.tables.find((t) => t.name === 'open_orders')!;
    expect(view).toMatchObject({ type: 'view', row_count: null });
    expect(view.columns.map((c) => c.name)).toEqual(['id', 'amount']);
    const publicTables = info.schemas.find((s) => s.name === 'public')!.tables.map((t) => t.name);
    // Partitions are listed through their parent only.
    expect(publicTables).toEqual(['notes', 'parted']);
  });

  it('close() stops the queries still running on the driver', async () => {
    const own = createDriver(settings());
    const query = await own.query('SELECT pg_sleep(30)', [], { timeoutMs: 60_000 });
    const iteration = rejectionOf(allRows(query));
    expect(await waitUntilActive(query.backendId)).toContain('pg_sleep');
    await own.close();
    expect((await iteration).kind).toBe('cancelled');
    expect(await waitUntilGone(query.backendId)).toBeNull();
  });
});
