import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { QueryError, createDriver, type ConnectionSettings, type Driver } from '../../src/drivers/index.js';
import { allRows, closedPort, drain, rejectionOf, silentServer, sleep } from './support.js';

const HOST = '127.0.0.1';
const PORT = 3306;
const dbName = `sl_drv_${randomBytes(5).toString('hex')}`;
const DIGITS =
  '(SELECT 0 n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)';

function settings(overrides: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return {
    databaseType: 'mariadb',
    host: HOST,
    port: PORT,
    username: 'root',
    password: null,
    database: dbName,
    requireSsl: false,
    verifySsl: false,
    dataTimeZone: 'UTC',
    connectTimeoutMs: 15_000, // generous: a loaded machine may take seconds to accept a connection
    ...overrides,
  };
}

let observer: mysql.Connection;
let driver: Driver;

/** The statement thread `id` still runs, from SHOW PROCESSLIST (null when idle or gone). */
async function activeStatement(id: number): Promise<string | null> {
  const [rows] = await observer.query<mysql.RowDataPacket[]>('SHOW FULL PROCESSLIST');
  const row = rows.find((r) => Number(r.Id) === id);
  return row && row.Command === 'Query' && row.Info ? String(row.Info) : null;
}

// The waits below are liveness bounds (generous, so a busy machine passes); how fast cancel and
// timeouts reach the server is a goal measured by `npm run bench`, never asserted in a test.
async function waitUntilGone(id: number, ms = 20_000): Promise<string | null> {
  const until = Date.now() + ms;
  let current = await activeStatement(id);
  while (current && Date.now() < until) {
    await sleep(25);
    current = await activeStatement(id);
  }
  return current;
}

/** Polls until thread `id` runs a statement (the query may still be in flight). */
async function waitUntilActive(id: number, ms = 20_000): Promise<string | null> {
  const until = Date.now() + ms;
  let current = await activeStatement(id);
  while (!current && Date.now() < until) {
    await sleep(20);
    current = await activeStatement(id);
  }
  return current;
}

beforeAll(async () => {
  observer = await mysql.createConnection({ host: HOST, port: PORT, user: 'root', multipleStatements: true });
  await observer.query(`CREATE DATABASE ${dbName} CHARACTER SET utf8mb4`);
  await observer.query(`USE ${dbName}`);
  await observer.query(`
    CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, amount DECIMAL(12,2), status ENUM('open','paid'), note TEXT,
      created_at DATETIME(6), updated_at TIMESTAMP NULL, due DATE, big BIGINT UNSIGNED, flag BIT(1), raw VARBINARY(16), doc JSON);
    INSERT INTO orders (amount, status) VALUES (1.5, 'open'), (2.5, 'paid'), (3.5, 'open');
    CREATE VIEW open_orders AS SELECT id, amount FROM orders WHERE status = 'open';
    ANALYZE TABLE orders;`);
  driver = createDriver(settings());
});

afterAll(async () => {
  await driver.close();
  await observer.query(`DROP DATABASE IF EXISTS ${dbName}`);
  await observer.end();
});

describe('mysql/mariadb driver', () => {
  it('tests the connection and reports the server version', async () => {
    const { serverVersion } = await driver.testConnection();
    expect(serverVersion).toMatch(/^\d+\.\d+/);
  });

  it('streams 200k rows in batches with bounded memory', async () => {
    const started = Date.now();
    const query = await driver.query(
      `SELECT a.n + 10*b.n + 100*c.n + 1000*d.n + 10000*e.n + 100000*f.n AS g, REPEAT(MD5(a.n + 10*b.n), 16) AS payload
         FROM ${DIGITS} a, ${DIGITS} b, ${DIGITS} c, ${DIGITS} d, ${DIGITS} e, (SELECT 0 n UNION ALL SELECT 1) f`,
      [],
      { timeoutMs: 60_000, batchSize: 2000 },
    );
    expect(await query.columns()).toEqual([
      { name: 'g', dbType: 'BIGINT', dataType: 'BigInt' },
      { name: 'payload', dbType: 'VARCHAR', dataType: 'String' },
    ]);
    const seen = new Set<number>();
    const { rowCount, batches, peakHeapGrowth } = await drain(query, (rows) => {
      for (const r of rows) seen.add(r[0] as number);
    });
    const seconds = (Date.now() - started) / 1000;
    expect(rowCount).toBe(200_000);
    expect(seen.size).toBe(200_000);
    expect(batches).toHaveLength(100);
    expect(Math.max(...batches)).toBe(2000);
    expect(peakHeapGrowth).toBeLessThan(16 * 1024 * 1024);
    console.log(
      `mariadb: streamed 200000 rows (512-char payload) in ${seconds.toFixed(2)} s = ${Math.round(200_000 / seconds)} rows/s, peak live heap growth ${(peakHeapGrowth / 1048576).toFixed(1)} MB`,
    );
  });

  it('converts every common type to exact JSON-safe values', async () => {
    await observer.query(`INSERT INTO orders (amount, status, note, created_at, updated_at, due, big, flag, raw, doc)
      VALUES (12.50, 'paid', 'Zürich São Paulo 東京 😀', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05', '2024-02-29', 18446744073709551615, b'1', x'00ff10', '{"a":[1,2.5,null]}')`);
    const query = await driver.query(
      `SELECT amount, status, note, created_at, updated_at, due, big, flag, raw, doc,
              CAST(1 AS SIGNED) AS one, 9007199254740991 AS safe, 123456789012345678901234.5 AS bigdec, 1.5e0 AS dbl,
              CAST(1.25 AS FLOAT) AS flt, TIME '13:14:15' AS tm, NULL AS nothing, TRUE AS yes, ? AS p_text, ? AS p_num, ? AS p_bool
         FROM orders WHERE note IS NOT NULL`,
      ["it's \\ ü", 42, true],
      { timeoutMs: 10_000 },
    );
    const columns = await query.columns();
    const rows = await allRows(query);
    expect(rows).toHaveLength(1);
    const got = Object.fromEntries(columns.map((c, i) => [c.name, { value: rows[0]![i], dataType: c.dataType }]));
    expect(got).toEqual({
      amount: { value: 12.5, dataType: 'Float' },
      status: { value: 'paid', dataType: 'String' },
      note: { value: 'Zürich São Paulo 東京 😀', dataType: 'String' },
      created_at: { value: '2024-01-02T03:04:05.123456', dataType: 'DateTime' },
      updated_at: { value: '2024-01-02T03:04:05', dataType: 'DateTime' },
      due: { value: '2024-02-29', dataType: 'Date' },
      big: { value: '18446744073709551615', dataType: 'BigInt' },
      flag: { value: true, dataType: 'Boolean' },
      raw: { value: Buffer.from([0, 255, 16]).toString('base64'), dataType: 'Binary' },
      // MariaDB's JSON is LONGTEXT: the text arrives as a string (MySQL's JSON type is parsed).
      doc: { value: '{"a":[1,2.5,null]}', dataType: 'String' },
      one: { value: 1, dataType: 'Integer' },
      safe: { value: 9007199254740991, dataType: 'BigInt' },
      bigdec: { value: '123456789012345678901234.5', dataType: 'Float' },
      dbl: { value: 1.5, dataType: 'Float' },
      flt: { value: 1.25, dataType: 'Float' },
      tm: { value: '13:14:15', dataType: 'Time' },
      nothing: { value: null, dataType: 'Other' },
      yes: { value: 1, dataType: 'Integer' },
      p_text: { value: "it's \\ ü", dataType: 'String' },
      p_num: { value: 42, dataType: 'Integer' },
      p_bool: { value: 1, dataType: 'Integer' },
    });
    expect(JSON.parse(JSON.stringify(rows))).toEqual(rows);
  });

  it('binds hostile values as data, never as SQL', async () => {
    const hostile = "x' OR 1=1 -- \\'; DROP TABLE orders; #";
    const rows = await allRows(await driver.query('SELECT COUNT(*) FROM orders WHERE note = ?', [hostile], { timeoutMs: 5000 }));
    expect(rows).toEqual([[0]]);
    const echoed = await allRows(await driver.query('SELECT ?', [hostile], { timeoutMs: 5000 }));
    expect(echoed).toEqual([[hostile]]);
  });

  it('runs every query in the data time zone (NOW(), TIMESTAMP columns)', async () => {
    const tokyo = createDriver(settings({ dataTimeZone: 'Asia/Tokyo' }));
    const [row] = await allRows(
      await tokyo.query(`SELECT @@session.time_zone, NOW(), UTC_TIMESTAMP(), CONVERT_TZ('2024-01-01 12:00:00', '+00:00', @@session.time_zone)`, [], {
        timeoutMs: 5000,
      }),
    );
    const [zone, now, utcNow, converted] = row as string[];
    expect(zone).toBe('Asia/Tokyo');
    expect(Math.round((Date.parse(`${now}Z`) - Date.parse(`${utcNow}Z`)) / 1000)).toBe(9 * 3600);
    expect(converted).toBe('2024-01-01T21:00:00');
    // A TIMESTAMP (an instant) written in UTC reads as Tokyo wall-clock time; DATETIME is naive and unchanged.
    await observer.query(`SET time_zone = '+00:00'`);
    await observer.query(`INSERT INTO orders (status, updated_at, created_at, note) VALUES ('open', '2024-01-01 12:00:00', '2024-01-01 12:00:00', 'tz-check')`);
    const [stamps] = await allRows(await tokyo.query(`SELECT updated_at, created_at FROM orders WHERE note = ?`, ['tz-check'], { timeoutMs: 5000 }));
    expect(stamps).toEqual(['2024-01-01T21:00:00', '2024-01-01T12:00:00.000000']);
    await tokyo.close();
  });

  it('times out a long statement and stops it in the database', async () => {
    const query = await driver.query('SELECT SLEEP(30)', [], { timeoutMs: 800 });
    expect(await waitUntilActive(query.backendId)).toContain('SLEEP(30)');
    const err = await rejectionOf(allRows(query));
    expect(err).toBeInstanceOf(QueryError);
    expect(err.kind).toBe('timed_out');
    expect(await waitUntilGone(query.backendId)).toBeNull();
  });

  it('times out a slowly consumed stream (wall-clock limit across batches)', async () => {
    const query = await driver.query(`SELECT a.n FROM ${DIGITS} a, ${DIGITS} b, ${DIGITS} c, ${DIGITS} d, ${DIGITS} e, ${DIGITS} f`, [], {
      timeoutMs: 700,
      batchSize: 100,
    });
    const err = await rejectionOf(drain(query, () => sleep(100)));
    expect(err.kind).toBe('timed_out');
    expect(await waitUntilGone(query.backendId)).toBeNull();
  });

  it('cancels a running statement in the database', async () => {
    const query = await driver.query('SELECT SLEEP(30)', [], { timeoutMs: 60_000 });
    const iteration = rejectionOf(allRows(query));
    expect(await waitUntilActive(query.backendId)).toContain('SLEEP(30)');
    await query.cancel();
    const err = await iteration;
    expect(err).toBeInstanceOf(QueryError);
    expect(err.kind).toBe('cancelled');
    expect(await waitUntilGone(query.backendId)).toBeNull();
    await query.close();
  });

  it('a cancel while the stream is paused stops the statement too', async () => {
    const query = await driver.query(`SELECT a.n FROM ${DIGITS} a, ${DIGITS} b, ${DIGITS} c, ${DIGITS} d, ${DIGITS} e, ${DIGITS} f, ${DIGITS} g`, [], {
      timeoutMs: 60_000,
      batchSize: 10,
    });
    const iterator = query.rows()[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toHaveLength(10);
    await sleep(200);
    await query.cancel();
    const err = await rejectionOf(iterator.next());
    expect(err.kind).toBe('cancelled');
    expect(await waitUntilGone(query.backendId)).toBeNull();
  });

  it('reports query errors with the database message and code', async () => {
    const query = await driver.query('SELECT * FROM no_such_table', [], { timeoutMs: 5000 });
    const err = await rejectionOf(allRows(query));
    expect(err).toBeInstanceOf(QueryError);
    expect(err.kind).toBe('query_error');
    expect(err.code).toBe('ER_NO_SUCH_TABLE');
    expect(err.message).toContain(`Table '${dbName}.no_such_table' doesn't exist`);
    const mismatch = await rejectionOf(driver.query('SELECT ?, ?', [1], { timeoutMs: 5000 }));
    expect(mismatch.kind).toBe('query_error');
  });

  it('returns the first result set of a procedure', async () => {
    await observer.query(`CREATE PROCEDURE two_sets() BEGIN SELECT 1 AS a, 'x' AS b; SELECT NOW(); END`);
    const query = await driver.query('CALL two_sets()', [], { timeoutMs: 5000 });
    expect((await query.columns()).map((c) => c.name)).toEqual(['a', 'b']);
    expect(await allRows(query)).toEqual([[1, 'x']]);
  });

  it('handles statements without a result set', async () => {
    const query = await driver.query("UPDATE orders SET note = 'touched' WHERE id = 1", [], { timeoutMs: 5000 });
    expect(await query.columns()).toEqual([]);
    expect(await allRows(query)).toEqual([]);
  });

  it('reports connection errors without credentials, within the connect timeout', async () => {
    const port = await closedPort();
    let err = await rejectionOf(createDriver(settings({ port, password: 'very-secret-pw' })).testConnection());
    expect(err.kind).toBe('connection_error');
    expect(err.message).toContain(`127.0.0.1:${port}`);

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

    err = await rejectionOf(createDriver(settings({ username: 'no_such_user', password: 'very-secret-pw' })).testConnection());
    expect(err.kind).toBe('connection_error');
    expect(err.message).toContain("Access denied for user 'no_such_user'");
    expect(err.message).not.toContain('very-secret-pw');
  });

  it('honours require_ssl: a clear error against a server without SSL, and plain works', async () => {
    const err = await rejectionOf(createDriver(settings({ requireSsl: true, verifySsl: false })).testConnection());
    expect(err.kind).toBe('connection_error');
    expect(err.message).toMatch(/not support secure connection|SSL/i);
    await expect(createDriver(settings({ requireSsl: false })).testConnection()).resolves.toHaveProperty('serverVersion');
  });

  it('introspects schemas, tables, views and column data types', async () => {
    const info = await driver.introspect({ timeoutMs: 10_000 });
    expect(info.default_schema_name).toBe(dbName);
    expect(info.server_version).toMatch(/MariaDB|^\d/);
    const schema = info.schemas.find((s) => s.name === dbName)!;
    expect(schema.tables.map((t) => t.name)).toEqual(['open_orders', 'orders']);
    const orders = schema.tables.find((t) => t.name === 'orders')!;
    expect(orders.type).toBe('table');
    expect(typeof orders.row_count).toBe('number');
    expect(orders.columns).toEqual([
      { name: 'id', db_type: 'int(11)', data_type: 'Integer' },
      { name: 'amount', db_type: 'decimal(12,2)', data_type: 'Float' },
      { name: 'status', db_type: "enum('open','paid')", data_type: 'String' },
      { name: 'note', db_type: 'text', data_type: 'String' },
      { name: 'created_at', db_type: 'datetime(6)', data_type: 'DateTime' },
      { name: 'updated_at', db_type: 'timestamp', data_type: 'DateTime' },
      { name: 'due', db_type: 'date', data_type: 'Date' },
      { name: 'big', db_type: 'bigint(20) unsigned', data_type: 'BigInt' },
      { name: 'flag', db_type: 'bit(1)', data_type: 'Boolean' },
      { name: 'raw', db_type: 'varbinary(16)', data_type: 'Binary' },
      { name: 'doc', db_type: 'longtext', data_type: 'String' },
    ]);
    expect(schema.tables.find((t) => t.name === 'open_orders')).toMatchObject({ type: 'view', row_count: null });
    expect(info.schemas.map((s) => s.name)).not.toContain('mysql');
  });
});
