// The database-encoded row path (COPY of JSON rows, `jsonText`) against the cursor path: the same
// values and exactly the JSON text the result writer made from the cursor path's values, for every
// type the COPY path encodes and its edge values, in several data time zones.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDriver, rowJsonOf, type ConnectionSettings, type Driver, type RunningQuery } from '../../src/drivers/index.js';
import { wrappableSelect } from '../../src/drivers/postgres-json-rows.js';
import { TYPES_SQL } from './encoded-types.js';
import { onPgAdmin, pgDatabaseUrl, pgTestSettings, rejectionOf, sleep } from './support.js';

const dbName = `sl_jsonrows_${randomBytes(5).toString('hex')}`;

const settings = (overrides: Partial<ConnectionSettings> = {}): ConnectionSettings => pgTestSettings(dbName, overrides);

let driver: Driver;
let observer: pg.Client;

beforeAll(async () => {
  await onPgAdmin(`CREATE DATABASE ${dbName}`);
  observer = new pg.Client({ connectionString: pgDatabaseUrl(dbName) });
  await observer.connect();
  await observer.query(`CREATE TYPE mood AS ENUM ('ok', 'sad'); CREATE TABLE t (id int, m mood); INSERT INTO t VALUES (1, 'ok'), (2, 'sad')`);
  driver = createDriver(settings());
});

afterAll(async () => {
  await driver.close();
  await observer.end();
  await onPgAdmin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
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
    const direct = (await observer.query({
      text: `SET TimeZone = 'UTC'; ${TYPES_SQL}`,
      rowMode: 'array',
      types: { getTypeParser: () => (text: string) => text },
    } as pg.QueryConfig)) as unknown as pg.QueryResult[];
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
    const query = await driver.query('SELECT g, length(pg_sleep(0.01)::text) AS s FROM generate_series(1, 100000) g', [], {
      timeoutMs: 60_000,
      batchSize: 10,
      jsonText: true,
    });
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
    const err = await rejectionOf(
      (async () => {
        for await (const batch of query.rows()) void batch;
      })(),
    );
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
