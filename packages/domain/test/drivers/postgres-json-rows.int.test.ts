// The database-encoded row path (COPY of JSON rows, `jsonText`) against the cursor path: the same
// values and exactly the JSON text the result writer made from the cursor path's values, for every
// type the COPY path encodes and its edge values, in several data time zones.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDriver, rowJsonOf, type ConnectionSettings, type Driver, type RunningQuery } from '../../src/drivers/index.js';
import { wrappableSelect } from '../../src/drivers/postgres-json-rows.js';
import { pgAdminUrl, rejectionOf, sleep } from './support.js';

const admin = pgAdminUrl();
const dbName = `sl_jsonrows_${randomBytes(5).toString('hex')}`;

function settings(overrides: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return {
    databaseType: 'postgres',
    host: admin.hostname,
    port: Number(admin.port || 5432),
    username: decodeURIComponent(admin.username) || 'postgres',
    password: admin.password ? decodeURIComponent(admin.password) : null,
    database: dbName,
    requireSsl: false,
    verifySsl: false,
    dataTimeZone: 'UTC',
    connectTimeoutMs: 15_000,
    ...overrides,
  };
}

/** Every type the COPY path encodes, one column each, with edge values over the rows. */
const TYPES_SQL = `
  SELECT v.*
    FROM (VALUES
      (1::int2, 1::int4, 1::oid, 9007199254740991::int8, 12.50::numeric(10,2), 1.5::float4, 0.1::float8, true,
       'Zürich 東京 😀 "q" \\ back\\slash'::text, 'x'::varchar(5), 'x'::char(3), 'nm'::name, '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::uuid,
       '{"a": [1, 2.5, null], "b": "ü\\u0001"}'::jsonb, '[1,2,  {"x":1e400}]'::json, '\\x00ff10'::bytea, DATE '2024-02-29',
       TIME '13:14:15.25', TIMETZ '13:14:15+02', TIMESTAMP '2024-01-02 03:04:05.123456', TIMESTAMPTZ '2024-01-02 03:04:05.5+02',
       interval '1 year 2 mons 3 days 04:05:06.7', '10.0.0.1'::inet, '10.0.0.0/8'::cidr, '08:00:2b:01:02:03'::macaddr, 12.5::money,
       ARRAY[1, NULL, 3]::int4[], ARRAY[1]::int2[], ARRAY[true, NULL]::bool[], ARRAY['a,b', 'c"d', NULL, 'e\\f', '']::text[],
       ARRAY[['x', 'y'], ['z', '{w}']]::varchar[], ARRAY['6ba7b810-9dad-11d1-80b4-00c04fd430c8']::uuid[]),
      ('-32768'::int2, '-2147483648'::int4, 4294967295::oid, 9007199254740992::int8, 123456789012345678901234.5::numeric, 'NaN'::float4, 'Infinity'::float8, false,
       E'tab\\there\\nnew\\rline\\u0001\\u001f\\u007f \\u2028', '', '  '::char(3), ''::name, '00000000-0000-0000-0000-000000000000'::uuid,
       '"s"'::jsonb, 'null'::json, ''::bytea, DATE 'infinity',
       TIME '00:00', TIMETZ '23:59:59.999999-11:30', TIMESTAMP 'infinity', TIMESTAMPTZ '-infinity',
       interval '-1 days -00:00:00.000001', '::1'::inet, '2001:db8::/32'::cidr, '00:00:00:00:00:00'::macaddr, '-0.01'::money,
       '{}'::int4[], '[0:1]={5,6}'::int2[], '{}'::bool[], '{}'::text[], ARRAY['']::varchar[], '{}'::uuid[]),
      (NULL, NULL, NULL, '-9007199254740991'::int8, 'NaN'::numeric, '-Infinity'::float4, '-0'::float8, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, DATE '0044-03-15 BC', NULL, NULL, TIMESTAMP '0044-03-15 12:00 BC',
       TIMESTAMPTZ '0001-01-01 00:30:00+00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (0::int2, 0::int4, 0::oid, '-9223372036854775808'::int8, 0.0000001::numeric, 1e6::float4, 1e15::float8, NULL,
       ' ', ' ', NULL, NULL, NULL, '{"k": 1.000}'::jsonb, NULL, '\\x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f'::bytea,
       DATE '10000-01-01', NULL, NULL, TIMESTAMP '10000-01-01 00:00', TIMESTAMPTZ '1900-05-01 12:00:00+00', NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL),
      (1::int2, 2::int4, 3::oid, 42::int8, 0.000001::numeric, 0.0001::float4, 0.0001::float8, true,
       'a', 'b', 'c', 'd', NULL, NULL, NULL, NULL, NULL, NULL, NULL, TIMESTAMP '2024-06-30 23:59:59', TIMESTAMPTZ '9998-12-31 23:00:00+00',
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (2::int2, 3::int4, 4::oid, '-1'::int8, 999999999999999.9::numeric, 999999::float4, 999999999999999.9::float8, false,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, TIMESTAMPTZ '9999-06-01 00:00:00+00',
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (3::int2, 4::int4, 5::oid, 0::int8, 99999999999999.9::numeric, 0.00009::float4, 0.00009999::float8, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, TIMESTAMPTZ '2024-03-31 01:30:00.000001+00',
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (4::int2, 5::int4, 6::oid, 1::int8, '-1.50000000000000000000'::numeric, 3.4028235e38::float4, 1.7976931348623157e308::float8, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (5::int2, 6::int4, 7::oid, 2::int8, 0.1234567890123456789::numeric, 1.17549435e-38::float4, 5e-324::float8, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (6::int2, 7::int4, 8::oid, 3::int8, 123456789012345.0::numeric, 123456.7::float4, 123456789012345.6::float8, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (7::int2, 8::int4, 9::oid, 4::int8, 1e-6::numeric, 1.0::float4, 2.5e-5::float8, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (8::int2, 9::int4, 10::oid, 5::int8, '-0.0'::numeric, 100000.5::float4, 1e14::float8, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (9::int2, 10::int4, 11::oid, 6::int8, 'Infinity'::numeric, 0.3::float4, 1/3::float8, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
    ) AS v(i2, i4, o, i8, num, f4, f8, b, txt, vc, ch, nm, id, jb, js, bin, d, tm, tmtz, ts, tstz, iv, ip, net, mac, cash,
           a_i4, a_i2, a_b, a_txt, a_vc, a_id)
    ORDER BY i4 NULLS FIRST -- a trailing comment ;
  ;`;

let driver: Driver;
let observer: pg.Client;

beforeAll(async () => {
  const a = new pg.Client({ connectionString: admin.toString() });
  await a.connect();
  await a.query(`CREATE DATABASE ${dbName}`);
  await a.end();
  const u = new URL(admin.toString());
  u.pathname = `/${dbName}`;
  observer = new pg.Client({ connectionString: u.toString() });
  await observer.connect();
  await observer.query(`CREATE TYPE mood AS ENUM ('ok', 'sad'); CREATE TABLE t (id int, m mood); INSERT INTO t VALUES (1, 'ok'), (2, 'sad')`);
  driver = createDriver(settings());
});

afterAll(async () => {
  await driver.close();
  await observer.end();
  const a = new pg.Client({ connectionString: admin.toString() });
  await a.connect();
  await a.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await a.end();
});

interface Collected {
  columns: Awaited<ReturnType<RunningQuery['columns']>>;
  rows: unknown[][];
  /** Each row as the result writer stores it: the driver's JSON text, else `JSON.stringify`. */
  json: string[];
  /** Rows that came with the driver's own JSON text. */
  encodedRows: number;
}

async function collect(d: Driver, sql: string, jsonText: boolean, values: unknown[] = [], batchSize = 3): Promise<Collected> {
  const query = await d.query(sql, values, { timeoutMs: 60_000, batchSize, jsonText });
  const columns = await query.columns();
  const rows: unknown[][] = [];
  const json: string[] = [];
  let encodedRows = 0;
  for await (const batch of query.rows()) {
    const texts = rowJsonOf(batch);
    if (texts) encodedRows += texts.length;
    batch.forEach((row, i) => {
      rows.push(row);
      json.push(texts ? texts[i]! : JSON.stringify(row));
    });
  }
  return { columns, rows, json, encodedRows };
}

describe('database-encoded rows (COPY of JSON rows)', () => {
  for (const zone of ['UTC', 'Europe/Amsterdam', 'America/St_Johns', 'Asia/Kathmandu']) {
    it(`encodes every type exactly as the cursor path does (data time zone ${zone})`, async () => {
      const d = createDriver(settings({ dataTimeZone: zone }));
      try {
        const viaCursor = await collect(d, TYPES_SQL, false);
        const viaCopy = await collect(d, TYPES_SQL, true);
        expect(viaCopy.encodedRows).toBe(viaCursor.rows.length);
        expect(viaCursor.encodedRows).toBe(0);
        expect(viaCopy.columns).toEqual(viaCursor.columns);
        expect(viaCopy.json).toEqual(viaCursor.json);
        // the same values, but for -0 (float8 '-0'), which JSON stores as 0 in both paths
        expect(viaCopy.rows).toEqual(JSON.parse(JSON.stringify(viaCursor.rows)));
        for (const text of viaCopy.json) expect(JSON.stringify(JSON.parse(text))).toBe(text);
      } finally {
        await d.close();
      }
    });
  }

  it('gives the values the database returns (checked against its own text output)', async () => {
    const { rows, encodedRows } = await collect(driver, TYPES_SQL, true);
    expect(encodedRows).toBe(rows.length);
    const direct = await observer.query({ text: `SET TimeZone = 'UTC'; ${TYPES_SQL}`, rowMode: 'array', types: { getTypeParser: () => (text: string) => text } } as pg.QueryConfig) as unknown as pg.QueryResult[];
    const raw = direct[1]!.rows as string[][];
    const names = direct[1]!.fields.map((f) => f.name);
    const col = (name: string) => names.indexOf(name);
    expect(rows).toHaveLength(raw.length);
    rows.forEach((row, r) => {
      const text = raw[r]!;
      // the database's own text, as is
      for (const name of ['txt', 'vc', 'ch', 'nm', 'id', 'jb', 'js', 'd', 'tm', 'tmtz', 'iv', 'ip', 'net', 'mac', 'cash']) {
        expect(row[col(name)]).toBe(text[col(name)] ?? null);
      }
      for (const name of ['i2', 'i4', 'o']) expect(row[col(name)]).toBe(text[col(name)] === null ? null : Number(text[col(name)]));
      const i8 = text[col('i8')]!;
      expect(row[col('i8')]).toBe(Number.isSafeInteger(Number(i8)) ? Number(i8) : i8);
      expect(row[col('b')]).toBe(text[col('b')] === null ? null : text[col('b')] === 't');
      const bin = text[col('bin')];
      expect(row[col('bin')]).toBe(bin === null ? null : Buffer.from(bin!.slice(2), 'hex').toString('base64'));
    });
    const byI4 = (i4: number) => rows.find((row) => row[col('i4')] === i4)!;
    expect(byI4(1)[col('num')]).toBe(12.5);
    expect(byI4(1)[col('tstz')]).toBe('2024-01-02T01:04:05.5Z');
    expect(byI4(1)[col('ts')]).toBe('2024-01-02T03:04:05.123456');
    expect(byI4(1)[col('a_txt')]).toBe(JSON.stringify(['a,b', 'c"d', null, 'e\\f', '']));
    expect(byI4(1)[col('ch')]).toBe('x  ');
    expect(byI4(1)[col('ip')]).toBe('10.0.0.1');
    expect(byI4(-2147483648)[col('num')]).toBe('123456789012345678901234.5');
    expect(byI4(-2147483648)[col('f4')]).toBe('NaN');
    expect(byI4(-2147483648)[col('i8')]).toBe('9007199254740992');
    expect(byI4(0)[col('i8')]).toBe('-9223372036854775808');
    expect(byI4(0)[col('num')]).toBe(1e-7);
  });

  it('encodes a large result in the database and keeps the order', async () => {
    const sql = `SELECT g AS id, md5(g::text) AS label, (g % 1000) * 1.25 AS amount, g % 3 = 0 AS flag,
                        timestamptz '2024-01-01' + g * interval '1 second' AS at, date '2024-01-01' + (g % 365) AS day,
                        CASE WHEN g % 11 = 0 THEN NULL ELSE 'note ' || g END AS note, g::float8 / 3 AS ratio
                   FROM generate_series(1, 20000) AS g ORDER BY g DESC`;
    const viaCursor = await collect(driver, sql, false, [], 2000);
    const viaCopy = await collect(driver, sql, true, [], 2000);
    expect(viaCopy.encodedRows).toBe(20_000);
    expect(viaCopy.json).toEqual(viaCursor.json);
  });

  it('takes the cursor path for statements it cannot wrap, with the same results and errors', async () => {
    const cases: Array<[string, unknown[]]> = [
      ['SHOW TimeZone', []],
      ['SELECT 1 AS a; SELECT 2 AS b', []],
      ['SELECT id, m FROM t ORDER BY id', []], // enum: not encoded by the database
      ['SELECT $1::int AS p', [7]], // COPY takes no parameters
      ['WITH ins AS (INSERT INTO t VALUES (3, NULL) RETURNING id) SELECT id FROM ins', []], // not allowed in a subquery
      ['VALUES (1, 2)', []],
      ['SELECT FROM t', []],
    ];
    for (const [sql, values] of cases) {
      const viaCopy = await collect(driver, sql, true, values).catch((err: Error) => err);
      const viaCursor = await collect(driver, sql, false, values).catch((err: Error) => err);
      if (viaCursor instanceof Error) {
        expect(viaCopy).toBeInstanceOf(Error);
        expect((viaCopy as Error).message).toBe(viaCursor.message);
      } else {
        expect(viaCopy).not.toBeInstanceOf(Error);
        expect((viaCopy as Collected).json).toEqual(viaCursor.json);
        expect((viaCopy as Collected).columns).toEqual(viaCursor.columns);
      }
    }
    // the data-modifying CTE ran once per query (the COPY attempt failed before running it)
    expect((await observer.query('SELECT count(*)::int AS n FROM t WHERE id = 3')).rows[0].n).toBe(2);
    expect((await collect(driver, 'VALUES (1, 2)', true)).encodedRows).toBe(1);
  });

  it('reports errors of the statement itself, as the cursor path does', async () => {
    const viaCopy = await rejectionOf(collect(driver, 'SELECT 1 / (g - 3) AS x FROM generate_series(1, 5) g', true));
    const viaCursor = await rejectionOf(collect(driver, 'SELECT 1 / (g - 3) AS x FROM generate_series(1, 5) g', false));
    expect(viaCopy.message).toBe(viaCursor.message);
    expect(viaCopy.kind).toBe('query_error');
    const missing = await rejectionOf(collect(driver, 'SELECT nope FROM t', true));
    expect(missing.message).toBe('column "nope" does not exist');
  });

  it('cancels a running COPY in the database and reuses nothing of it', async () => {
    const query = await driver.query('SELECT g, length(pg_sleep(0.01)::text) AS s FROM generate_series(1, 100000) g', [], { timeoutMs: 60_000, batchSize: 10, jsonText: true });
    const pid = query.backendId;
    const iterator = query.rows()[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(rowJsonOf(first.value as unknown[][])).toBeDefined();
    await query.cancel();
    const err = await rejectionOf(iterator.next());
    expect((err as { kind?: string }).kind).toBe('cancelled');
    for (let i = 0; i < 400; i++) {
      const { rows } = await observer.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'`, [pid]);
      if (rows.length === 0) break;
      await sleep(25);
    }
    expect((await observer.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'`, [pid])).rows).toHaveLength(0);
  });

  it('times out a COPY like any statement', async () => {
    const query = await driver.query('SELECT g, length(pg_sleep(0.01)::text) AS s FROM generate_series(1, 100000) g', [], { timeoutMs: 300, jsonText: true });
    const err = await rejectionOf((async () => {
      for await (const batch of query.rows()) void batch;
    })());
    expect((err as { kind?: string }).kind).toBe('timed_out');
  });

  it('recognises one reading statement (comments, literals and a final semicolon allowed)', () => {
    expect(wrappableSelect('  -- c\n/* x */ select 1; -- end')).toBe('select 1');
    expect(wrappableSelect("SELECT ';' AS s;")).toBe("SELECT ';' AS s");
    expect(wrappableSelect('WITH a AS (SELECT 1) SELECT * FROM a')).toBe('WITH a AS (SELECT 1) SELECT * FROM a');
    expect(wrappableSelect('(SELECT 1) UNION (SELECT 2)')).toBe('(SELECT 1) UNION (SELECT 2)');
    expect(wrappableSelect('SELECT 1; SELECT 2')).toBeUndefined();
    expect(wrappableSelect("SELECT 1; 'x'")).toBeUndefined();
    expect(wrappableSelect('SHOW TimeZone')).toBeUndefined();
    expect(wrappableSelect('INSERT INTO t VALUES (1)')).toBeUndefined();
    expect(wrappableSelect('selection')).toBeUndefined();
  });
});
