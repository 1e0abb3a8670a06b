// The database-encoded CSV path (COPY of the cells in FORMAT csv, `csv`) against the cursor path: the
// bytes `CsvRowEncoder` writes from the cursor path's values, byte for byte, for every type the
// COPY path encodes and its edge values, in every CSV format and several data time zones.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { CsvRowEncoder, type CsvFormat } from '@sightline/render/csv';
import { createDriver, csvPiecesOf, type ConnectionSettings, type Driver } from '../../src/drivers/index.js';
import { TYPES_SQL } from './encoded-types.js';
import { onPgAdmin, pgDatabaseUrl, pgTestSettings, rejectionOf, sleep } from './support.js';

const dbName = `sl_csvrows_${randomBytes(5).toString('hex')}`;

const settings = (overrides: Partial<ConnectionSettings> = {}): ConnectionSettings => pgTestSettings(dbName, overrides);

const FORMATS: CsvFormat[] = [
  { columnSeparator: ',', decimalSeparator: '.', quoteStyle: 'necessary' },
  { columnSeparator: ';', decimalSeparator: ',', quoteStyle: 'necessary' },
  { columnSeparator: ',', decimalSeparator: ',', quoteStyle: 'necessary' },
  { columnSeparator: '\t', decimalSeparator: '/', quoteStyle: 'necessary' },
  { columnSeparator: ',', decimalSeparator: '.', quoteStyle: 'always' },
  { columnSeparator: ';', decimalSeparator: ',', quoteStyle: 'always' },
];

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

interface Exported {
  /** The file as the unlimited CSV export writes it (header, then the lines). */
  csv: string;
  rows: number;
  /** Rows whose line the database wrote. */
  encodedRows: number;
  /** Rows the database sent as values (encoded here). */
  valueRows: number;
}

/** Exports `sql` as the CSV export sink does: with `csv` the driver may hand over the lines. */
async function exportCsv(d: Driver, sql: string, format: CsvFormat, viaDatabase: boolean, values: unknown[] = [], batchSize = 3): Promise<Exported> {
  const query = await d.query(sql, values, { timeoutMs: 60_000, batchSize, ...(viaDatabase ? { csv: format } : {}) });
  const columns = await query.columns();
  const encoder = new CsvRowEncoder(
    columns.map((c) => ({ name: c.name, data_type: c.dataType })),
    format,
  );
  const parts: Buffer[] = [Buffer.from(encoder.header())];
  let rows = 0;
  let encodedRows = 0;
  let valueRows = 0;
  for await (const batch of query.rows()) {
    rows += batch.length;
    const pieces = csvPiecesOf(batch);
    if (!pieces) {
      parts.push(Buffer.from(encoder.rows(batch)));
      continue;
    }
    for (const piece of pieces) {
      if (Buffer.isBuffer(piece)) parts.push(piece);
      else {
        valueRows++;
        parts.push(Buffer.from(encoder.row(piece)));
      }
    }
    encodedRows += batch.length;
  }
  return { csv: Buffer.concat(parts).toString('utf8'), rows, encodedRows: encodedRows - valueRows, valueRows };
}

describe('database-encoded CSV lines (COPY … FORMAT csv)', () => {
  for (const zone of ['UTC', 'America/St_Johns', 'Asia/Kathmandu']) {
    it(`writes every type exactly as the cursor path and the encoder do, in every format (data time zone ${zone})`, async () => {
      const d = createDriver(settings({ dataTimeZone: zone }));
      try {
        for (const format of FORMATS) {
          const viaCursor = await exportCsv(d, TYPES_SQL, format, false);
          const viaCopy = await exportCsv(d, TYPES_SQL, format, true);
          expect(viaCursor.encodedRows + viaCursor.valueRows).toBe(0);
          expect(viaCopy.rows).toBe(viaCursor.rows);
          // most rows encoded by the database, the edge values (NaN, 1e-7, BC, …) in JS
          expect(viaCopy.encodedRows).toBeGreaterThan(0);
          expect(viaCopy.valueRows).toBeGreaterThan(0);
          expect(viaCopy.csv).toBe(viaCursor.csv);
        }
      } finally {
        await d.close();
      }
    });
  }

  it('writes what the database returns (literal expectations)', async () => {
    const sql = `SELECT 1 AS "a,b", 'x,y' AS s, NULL::text AS n, '' AS e, 1.50::numeric AS num, true AS t, 'q"uote' AS q,
                        E'multi\\r\\nline' AS ml, 0.25::float8 AS f, 9007199254740993::int8 AS big,
                        timestamptz '2024-01-02 03:04:05+02' AS tz, timestamp '2024-01-02 03:04:05.5' AS ts, date '2024-02-29' AS d,
                        'ab '::char(4) AS ch, '\\x0001ff'::bytea AS bin, ARRAY['a', NULL]::text[] AS arr`;
    const expected =
      'a,b;s;n;e;num;t;q;ml;f;big;tz;ts;d;ch;bin;arr\r\n' +
      `1;x,y;;;1,5;true;"q""uote";"multi\r\nline";0,25;9007199254740993;2024-01-02T01:04:05Z;2024-01-02T03:04:05.5;2024-02-29;ab  ;AAH/;"[""a"",null]"\r\n`;
    const format: CsvFormat = { columnSeparator: ';', decimalSeparator: ',', quoteStyle: 'necessary' };
    const viaCopy = await exportCsv(driver, sql, format, true);
    expect(viaCopy.encodedRows).toBe(1);
    expect(viaCopy.csv).toBe(expected);
    expect((await exportCsv(driver, sql, format, false)).csv).toBe(expected);
    // empty values stay unquoted (COPY would quote them); a lone `\.` is no end marker here
    const edges = `SELECT '\\.' AS x, ''::bpchar AS b, '  '::bpchar AS s, ''::name AS nm, ''::bytea AS bin, ''::varchar AS v`;
    for (const f of FORMATS) {
      const edge = await exportCsv(driver, edges, f, true);
      expect(edge.encodedRows).toBe(1);
      expect(edge.csv).toBe((await exportCsv(driver, edges, f, false)).csv);
    }
    expect((await exportCsv(driver, edges, FORMATS[0]!, true)).csv).toBe('x,b,s,nm,bin,v\r\n\\.,,  ,,,\r\n');
    expect((await exportCsv(driver, `SELECT '\\.' AS x`, FORMATS[0]!, true)).csv).toBe('x\r\n\\.\r\n');
  });

  it('prints numerics at the digit and range limits as JS does', async () => {
    const sql = `SELECT x, -x AS neg, x::numeric(40, 20) AS wide FROM (VALUES (999999999999999::numeric), (1000000000000000), (99999999999999.9), (999999999999999.9),
                        (9999999999999.99), (99999999999999.99), (0.999999999999999), (0.1234567890123456), (123.4500), (1.000000000000000),
                        (0.000001), (0.00000099), (0.0000010), (999999999999999.0), (12345678901234.5), (1234567890123456), (0.5), (7)) v(x)`;
    for (const format of [FORMATS[0]!, FORMATS[2]!]) {
      const viaCopy = await exportCsv(driver, sql, format, true);
      expect(viaCopy.encodedRows).toBeGreaterThan(0);
      expect(viaCopy.valueRows).toBeGreaterThan(0);
      expect(viaCopy.csv).toBe((await exportCsv(driver, sql, format, false)).csv);
    }
  });

  it('keeps order and bytes over many chunks, with raw rows in between', async () => {
    const sql = `SELECT g AS id, md5(g::text) || CASE WHEN g % 7 = 0 THEN ', "x"' ELSE '' END AS label, (g % 1000) * 1.25 AS amount,
                        g % 3 = 0 AS flag, timestamptz '2024-01-01' + g * interval '1 second' AS at, date '2024-01-01' + (g % 365) AS day,
                        CASE WHEN g % 11 = 0 THEN NULL ELSE repeat('é', g % 50) END AS note,
                        CASE WHEN g % 997 = 0 THEN g::float8 * 1e20 ELSE g::float8 / 3 END AS ratio
                   FROM generate_series(1, 30000) AS g ORDER BY g DESC`;
    for (const format of [FORMATS[0]!, FORMATS[5]!]) {
      const viaCursor = await exportCsv(driver, sql, format, false, [], 2000);
      const viaCopy = await exportCsv(driver, sql, format, true, [], 2000);
      expect(viaCopy.rows).toBe(30_000);
      expect(viaCopy.valueRows).toBe(30);
      expect(viaCopy.encodedRows).toBe(30_000 - 30);
      expect(viaCopy.csv).toBe(viaCursor.csv);
    }
  });

  it('takes the cursor path for statements or types it cannot encode, with the same bytes and errors', async () => {
    const cases: Array<[string, unknown[]]> = [
      ['SHOW TimeZone', []],
      ['SELECT id, m FROM t ORDER BY id', []], // enum
      ['SELECT point(1, 2) AS p', []],
      ['SELECT $1::int AS p', [7]], // COPY takes no parameters
      ['WITH ins AS (INSERT INTO t VALUES (3, NULL) RETURNING id) SELECT id FROM ins', []], // not allowed in a subquery
      ['SELECT FROM t', []],
    ];
    for (const [sql, values] of cases) {
      const viaCopy = await exportCsv(driver, sql, FORMATS[0]!, true, values).catch((err: Error) => err);
      const viaCursor = await exportCsv(driver, sql, FORMATS[0]!, false, values).catch((err: Error) => err);
      if (viaCursor instanceof Error) {
        expect(viaCopy).toBeInstanceOf(Error);
        expect((viaCopy as Error).message).toBe(viaCursor.message);
      } else {
        expect(viaCopy).not.toBeInstanceOf(Error);
        expect((viaCopy as Exported).encodedRows).toBe(0);
        expect((viaCopy as Exported).csv).toBe(viaCursor.csv);
      }
    }
    // the data-modifying CTE ran once per export (the COPY attempt failed before running it)
    expect((await observer.query('SELECT count(*)::int AS n FROM t WHERE id = 3')).rows[0].n).toBe(2);
  });

  it('reports errors of the statement itself, as the cursor path does', async () => {
    const sql = 'SELECT 1 / (g - 3) AS x FROM generate_series(1, 5) g';
    const viaCopy = await rejectionOf(exportCsv(driver, sql, FORMATS[0]!, true));
    const viaCursor = await rejectionOf(exportCsv(driver, sql, FORMATS[0]!, false));
    expect(viaCopy.message).toBe(viaCursor.message);
    expect(viaCopy.kind).toBe('query_error');
  });

  it('cancels a running COPY in the database', async () => {
    const query = await driver.query('SELECT g, length(pg_sleep(0.01)::text) AS s FROM generate_series(1, 100000) g', [], {
      timeoutMs: 60_000,
      batchSize: 10,
      csv: FORMATS[0]!,
    });
    const pid = query.backendId;
    const iterator = query.rows()[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(csvPiecesOf(first.value as unknown[][])).toBeDefined();
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
    const query = await driver.query('SELECT g, length(pg_sleep(0.01)::text) AS s FROM generate_series(1, 100000) g', [], { timeoutMs: 300, csv: FORMATS[0]! });
    const err = await rejectionOf(
      (async () => {
        for await (const batch of query.rows()) void batch;
      })(),
    );
    expect((err as { kind?: string }).kind).toBe('timed_out');
  });
});
