// SQL-injection corpus: hostile selected_values are bound, never spliced, so on both real databases the
// target table survives and the match count equals the exact-match count; hostile zones are 422s.
import type mysql from 'mysql2/promise';
import { bindMysqlPlaceholders } from '../../src/drivers/mysql-values.js';
import { QueryCompileError, type SqlDialect } from '../../src/query/index.js';
import { compile, def, sel } from './helpers.js';
import { ensureMariadbTimeZones, openMariadb, openPgScratch, scratchName, type PgScratch } from './support/databases.js';

let pgs: PgScratch;
let my: mysql.Connection;
const table = scratchName('qc_inj');
const victim = scratchName('qc_victim');

const PAYLOADS: string[] = [
  "'",
  "''",
  '"',
  '\\',
  "\\'",
  "\\' OR 1=1 --",
  "' OR '1'='1",
  "' OR 1=1 --",
  "' OR 1=1 #",
  `'; DROP TABLE ${table}; --`,
  `'); DROP TABLE ${victim}; --`,
  `"; DROP TABLE ${victim}; --`,
  `\\'; DROP TABLE ${victim}; -- `,
  "1' UNION SELECT version() --",
  "' UNION SELECT NULL, NULL --",
  '/* comment */',
  '*/ OR 1=1 /*',
  '-- comment',
  '# comment',
  '$1',
  '$$ OR 1=1 $$',
  '$tag$ x $tag$',
  '?',
  '?, ?',
  '{x=y}',
  '{name=f}',
  '[CLUVIO_USER_EMAIL]',
  '\u2018 OR 1=1 \u2019',
  '\u02bc OR 1=1 --',
  '\uff07 OR 1=1 --',
  '\u201c\u201d\u00b4`',
  'a\u0001\u0002\u0003\u001f\u007f\u0080\u00ff',
  '\b\f\n\r\t\u000b',
  '\u202e gnp.exe',
  '😀 emoji \u{1f600}',
  "%' OR name LIKE '%",
  '%',
  '_',
  ' trailing space ',
  'trailing space',
  'Case',
  'case',
  "x' AND SLEEP(5) --",
  "x'; SELECT pg_sleep(5); --",
  '0x27 OR 1=1',
  'CHAR(39)',
  `'${'a'.repeat(5000)}`,
  "'".repeat(3000),
  '\\'.repeat(3001),
  'z'.repeat(100_000),
  "N'unicode'",
  "E'\\x27'",
  "U&'\\0027'",
  '',
];

const NUMBER_OK = ['1', '-0', '00012.500', '1e3', '.5', '+7', 12, 2.5e-3];
const NUMBER_BAD = ['1; DROP TABLE x', '1 OR 1=1', "1'", '0x10', 'NaN', 'Infinity', '1e', '--1', '1.2.3', '$1', '?', ' '];

beforeAll(async () => {
  pgs = await openPgScratch('UTC');
  await pgs.client.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, name text, amount numeric)`);
  await pgs.client.query(`CREATE TABLE ${victim} (id int)`);
  if (!(await ensureMariadbTimeZones())) throw new Error('MariaDB time zone tables are missing');
  my = await openMariadb('UTC');
  // nopad_bin: exact, case- and trailing-space-sensitive comparison, like JavaScript ===
  await my.query(`CREATE TABLE ${table} (id int AUTO_INCREMENT PRIMARY KEY, name MEDIUMTEXT COLLATE utf8mb4_nopad_bin, amount decimal(30,6))`);
  await my.query(`CREATE TABLE ${victim} (id int)`);
  const rows: Array<[string, string]> = PAYLOADS.map((p, i) => [p, String(i % 5)]);
  rows.push(['control', '1000'], ["it's", '12'], ['1', '0.5'], ['1', '0.0025']);
  for (const [name, amount] of rows) {
    await pgs.client.query(`INSERT INTO ${table} (name, amount) VALUES ($1, $2)`, [name, amount]);
    await my.execute(`INSERT INTO ${table} (name, amount) VALUES (?, ?)`, [name, amount]);
  }
});

afterAll(async () => {
  await pgs?.close();
  if (my) {
    await my.query(`DROP TABLE IF EXISTS ${table}`);
    await my.query(`DROP TABLE IF EXISTS ${victim}`);
    await my.end();
  }
});

async function count(dialect: SqlDialect, sql: string, values: unknown[]): Promise<number> {
  if (dialect === 'postgres') return Number((await pgs.client.query(sql, values)).rows[0].n);
  const [rows] = await my.execute<mysql.RowDataPacket[]>(sql, values as never[]);
  const n = Number(rows[0]!.n);
  // The MySQL datasource driver binds client-side (escaped literals): the same statement through that
  // path must give the same answer, in both backslash modes.
  for (const noBackslashEscapes of [false, true]) {
    await my.query(
      `SET SESSION sql_mode = ${noBackslashEscapes ? "CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')" : "REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '')"}`,
    );
    try {
      const [literalRows] = await my.query<mysql.RowDataPacket[]>(bindMysqlPlaceholders(sql, values, { noBackslashEscapes, timeZone: 'UTC' }));
      expect(Number(literalRows[0]!.n)).toBe(n);
    } finally {
      await my.query("SET SESSION sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '')");
    }
  }
  return n;
}

async function tablesIntact(dialect: SqlDialect): Promise<void> {
  expect(await count(dialect, `SELECT COUNT(*) AS n FROM ${table}`, [])).toBe(PAYLOADS.length + 4);
  expect(await count(dialect, `SELECT COUNT(*) AS n FROM ${victim}`, [])).toBe(0);
}

async function allNames(dialect: SqlDialect): Promise<string[]> {
  if (dialect === 'postgres') return (await pgs.client.query(`SELECT name FROM ${table}`)).rows.map((r) => r.name as string);
  const [rows] = await my.query<mysql.RowDataPacket[]>(`SELECT name FROM ${table}`);
  return rows.map((r) => r.name as string);
}

describe.each(['postgres', 'mysql'] as const)('%s', (dialect) => {
  it(`stores the ${PAYLOADS.length} payloads verbatim (precondition)`, async () => {
    const names = await allNames(dialect);
    for (const p of PAYLOADS) expect(names.filter((n) => n === p).length).toBe(1);
  });

  it.each(PAYLOADS.map((p, i) => [i, p.length > 40 ? `${p.slice(0, 40)}… (${p.length} chars)` : p, p] as const))(
    'TEXT payload #%i %j matches literally',
    async (_i, _label, payload) => {
      const expected = PAYLOADS.filter((p) => p === payload).length;
      for (const sql of [
        `SELECT COUNT(*) AS n FROM ${table} WHERE {name=f}`,
        `SELECT COUNT(*) AS n FROM ${table} WHERE {[name]=f} AND name = {one.value}`,
        `SELECT COUNT(*) AS n FROM ${table} WHERE name IN ({f.values}) AND {f.count} = 1 AND {f.selected}`,
      ]) {
        const withValue = (v: string) =>
          compile(sql, { dialect, filters: [def('one', 'input', 'TEXT')], parameters: { filters: [sel('f', v), sel('one', v)] } });
        const q = withValue(payload);
        // The SQL text does not depend on the value at all; the payload only travels as a bind value.
        expect(q.sql).toBe(withValue('neutral').sql);
        expect(q.values).toContain(payload);
        expect(await count(dialect, q.sql, q.values)).toBe(expected);
      }
      await tablesIntact(dialect);
    },
  );

  it('all payloads at once (multi-select IN list) match exactly the payload rows', async () => {
    const q = compile(`SELECT COUNT(*) AS n FROM ${table} WHERE {name=f}`, { dialect, parameters: { filters: [sel('f', ...PAYLOADS)] } });
    expect(await count(dialect, q.sql, q.values)).toBe(PAYLOADS.length);
    await tablesIntact(dialect);
  });

  it('NUMBER filter: numeric strings bind as numbers, everything else is a clean 422', async () => {
    const filters = [def('n', 'input_multi', 'NUMBER')];
    for (const v of NUMBER_OK) {
      const q = compile(`SELECT COUNT(*) AS n FROM ${table} WHERE {amount=n}`, { dialect, filters, parameters: { filters: [sel('n', v)] } });
      const direct = await count(
        dialect,
        `SELECT COUNT(*) AS n FROM ${table} WHERE amount = ${dialect === 'postgres' ? '$1::numeric' : 'CAST(? AS DECIMAL(65,30))'}`,
        [String(Number(v))],
      );
      expect({ v, n: await count(dialect, q.sql, q.values) }).toEqual({ v, n: direct });
    }
    for (const v of [...NUMBER_BAD, ...PAYLOADS.filter((p) => !/^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(p))]) {
      expect(() => compile(`SELECT COUNT(*) AS n FROM ${table} WHERE {amount=n}`, { dialect, filters, parameters: { filters: [sel('n', v)] } })).toThrow(
        QueryCompileError,
      );
    }
    await tablesIntact(dialect);
  });
});

describe('hostile time zones', () => {
  const ZONES = [
    "UTC'; DROP TABLE x; --",
    "Europe/Berlin'",
    "Europe/Berlin' OR '1'='1",
    'Europe/Berlin; DROP TABLE x',
    "'",
    '\\',
    '',
    ' UTC',
    'UTC ',
    'utc',
    'europe/berlin',
    '../../etc/passwd',
    'Europe/Berlin\u0000',
    '+01:00',
    'GMT+1; --',
    '$1',
    '?',
    '{tz}',
    'Europe/Berl\u0131n',
    'Z'.repeat(10_000),
    'SYSTEM',
    'Mars/Olympus_Mons',
  ];
  it.each(ZONES.map((z) => [z.length > 40 ? `${z.slice(0, 40)}…` : z, z] as const))('tz %j → QueryCompileError (422)', (_label, zone) => {
    for (const over of [{ parameters: { tz: zone } }, { dashboardTimeZone: zone }, { dataTimeZone: zone }]) {
      if (zone === '' && 'parameters' in over) continue; // an empty tz input means "not given"
      let err: unknown;
      try {
        compile('SELECT {[ts]:tz}, {ts:aggregation}', over);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(QueryCompileError);
      expect((err as QueryCompileError).status).toBe(422);
      expect((err as QueryCompileError).detail).toMatch(/must be an IANA time zone name/);
    }
  });
  it('an empty tz input is "not given"', () => {
    expect(compile('SELECT {[ts]:tz}', { dashboardTimeZone: undefined, parameters: { tz: '' } }).sql).toBe('SELECT (ts)');
  });
});
