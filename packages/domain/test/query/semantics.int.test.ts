// Executes compiled queries on the real PostgreSQL and MariaDB to prove the rendered SQL means what
// the spec says: inclusive timerange bounds, bucket boundaries, zone day boundaries, NULL, multi-select.
import type mysql from 'mysql2/promise';
import {
  AGGREGATION_OPTIONS,
  assertMysqlTimeZoneProbe,
  mysqlTimeZoneProbeSql,
  type CompileInput,
  type CompiledQuery,
  type SqlDialect,
} from '../../src/query/index.js';
import { compile, def, sel } from './helpers.js';
import { ensureMariadbTimeZones, openMariadb, openPgScratch, scratchName, type PgScratch } from './support/databases.js';

let pgs: PgScratch;
let my: mysql.Connection;
const myTable = scratchName('qc_events');

// id, ts (UTC wall time), time of day, name, amount, flag
const ROWS: Array<[number, string, string, string | null, string | null, boolean | null]> = [
  [1, '2023-03-15 23:59:59', '23:30:00', 'a', '1.5', true],
  [2, '2023-03-16 00:00:00', '01:00:00', 'b', '2', false],
  [3, '2023-03-22 23:59:59', '12:00:00', null, '10', null],
  [4, '2023-03-22 23:59:59.5', '22:00:00', 'a', null, true],
  [5, '2023-03-23 00:00:00', '02:00:00', 'c', '2.0', false],
  [6, '2023-01-01 10:00:00', '02:00:01', "it's", '-3', true], // Sunday
  [7, '2023-01-02 00:00:00', '21:59:59', 'b', '7', false], // Monday
  [8, '2023-03-31 23:59:59', '23:59:59', null, '8', true],
  [9, '2023-04-01 00:00:00', '00:00:00', 'A', '9', false],
  [10, '2023-04-11 21:59:59', '11:00:00', 'x', '1', true], // Berlin 2023-04-11 23:59:59
  [11, '2023-04-11 22:00:00', '11:00:00', 'x', '1', true], // Berlin 2023-04-12 00:00:00
  [12, '2023-04-12 21:59:59', '11:00:00', 'x', '1', true], // Berlin 2023-04-12 23:59:59
  [13, '2023-04-12 22:00:00', '11:00:00', 'x', '1', true], // Berlin 2023-04-13 00:00:00
  [14, '2023-03-26 01:30:15', '11:00:00', 'x', '1', true], // Berlin 03:30:15 CEST (DST day)
];

beforeAll(async () => {
  pgs = await openPgScratch('UTC');
  await pgs.client.query(
    `CREATE TABLE events (id int PRIMARY KEY, ts timestamp(6), tstz timestamptz, ts_text text, d date, t time, name text, amount numeric, flag boolean)`,
  );
  for (const [id, ts, t, name, amount, flag] of ROWS) {
    await pgs.client.query('INSERT INTO events VALUES ($1, $2::text::timestamp, $2::text::timestamptz, $3, $2::text::date, $4, $5, $6, $7)', [
      id,
      ts,
      ts.replace(' ', 'T'),
      t,
      name,
      amount,
      flag,
    ]);
  }
  if (!(await ensureMariadbTimeZones())) throw new Error('MariaDB time zone tables are missing and could not be loaded');
  my = await openMariadb('UTC');
  await my.query(
    `CREATE TABLE ${myTable} (id int PRIMARY KEY, ts datetime(6), d date, t time(6), name varchar(50) COLLATE utf8mb4_nopad_bin, amount decimal(20,4), flag tinyint(1))`,
  );
  for (const [id, ts, t, name, amount, flag] of ROWS) {
    await my.execute(`INSERT INTO ${myTable} VALUES (?, ?, DATE(?), ?, ?, ?, ?)`, [id, ts, ts, t, name, amount, flag === null ? null : flag ? 1 : 0]);
  }
});

afterAll(async () => {
  await pgs?.close();
  if (my) {
    await my.query(`DROP TABLE IF EXISTS ${myTable}`);
    await my.end();
  }
});

async function run(dialect: SqlDialect, q: CompiledQuery): Promise<Array<Record<string, unknown>>> {
  if (dialect === 'postgres') return (await pgs.client.query(q.sql, q.values)).rows;
  const [rows] = await my.execute<mysql.RowDataPacket[]>(q.sql, q.values as never[]);
  return rows;
}

/** Compiles `sql` (with `events` → the dialect's table) and returns the ids of the rows. */
async function ids(dialect: SqlDialect, where: string, over: Partial<CompileInput> = {}, column = 'ts'): Promise<number[]> {
  const table = dialect === 'postgres' ? 'events' : myTable;
  const sql = `SELECT id FROM ${table} WHERE ${where.replaceAll('COL', column)} ORDER BY id`;
  return (await run(dialect, compile(sql, { dialect, ...over }))).map((r) => Number(r.id));
}

it('MariaDB knows named zones (probe passes after the idempotent loader)', async () => {
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York'];
  const [rows] = await my.query<mysql.RowDataPacket[]>(mysqlTimeZoneProbeSql(zones));
  expect(() => assertMysqlTimeZoneProbe(rows[0], zones)).not.toThrow();
  expect(await ensureMariadbTimeZones()).toBe(true);
});

describe.each(['postgres', 'mysql'] as const)('%s', (dialect) => {
  it('timerange bounds are inclusive at second granularity (incl. fractional seconds of the end second)', async () => {
    const p = { parameters: { timerange: '1678924800~1679529599' } };
    expect(await ids(dialect, '{COL=timerange}', p)).toEqual([2, 3, 4]);
    expect(await ids(dialect, '{COL=timerange}', { parameters: { timerange: '~1678924799' } })).toEqual([1, 6, 7]);
    expect(await ids(dialect, '{COL=timerange}', { parameters: { timerange: '1680307200~' } })).toEqual([9, 10, 11, 12, 13]);
    if (dialect === 'postgres') {
      expect(await ids(dialect, '{COL=timerange}', p, 'tstz')).toEqual([2, 3, 4]);
      expect(await ids(dialect, '{COL=timerange}', p, 'ts_text')).toEqual([2, 3, 4]);
    }
  });

  it('a Berlin day on a Berlin dashboard selects 22:00–22:00 UTC rows', async () => {
    const p = { parameters: { timerange: '1681250400~1681336799' }, dashboardTimeZone: 'Europe/Berlin' };
    expect(await ids(dialect, '{COL=timerange}', p)).toEqual([11, 12]);
    if (dialect === 'postgres') expect(await ids(dialect, '{COL=timerange}', p, 'tstz')).toEqual([11, 12]);
    const rel = { parameters: { timerange: 'thisfull_day' }, dashboardTimeZone: 'Europe/Berlin', now: new Date('2023-04-12T12:00:00Z') };
    expect(await ids(dialect, '{COL=timerange}', rel)).toEqual([11, 12]);
  });

  it('week, week_sunday and quarter buckets start on Monday, Sunday and the quarter start', async () => {
    const table = dialect === 'postgres' ? 'events' : myTable;
    const q = compile(`SELECT id, {ts:week} AS w, {ts:week_sunday} AS ws, {ts:quarter} AS q FROM ${table} WHERE id IN (6, 7, 8, 9) ORDER BY id`, { dialect });
    const rows = (await run(dialect, q)).map((r) => [Number(r.id), String(r.w), String(r.ws), String(r.q)]);
    expect(rows).toEqual([
      [6, '2022-12-26', '2023-01-01', '2023-01-01'],
      [7, '2023-01-02', '2023-01-01', '2023-01-01'],
      [8, '2023-03-27', '2023-03-26', '2023-01-01'],
      [9, '2023-03-27', '2023-03-26', '2023-04-01'],
    ]);
  });

  it('every aggregation option, without and with a dashboard zone (day boundary and DST)', async () => {
    const table = dialect === 'postgres' ? 'events' : myTable;
    const expectPlain: Record<string, [string, string]> = {
      // [row 10 (2023-04-11 21:59:59 UTC), row 14 (2023-03-26 01:30:15 UTC)]
      second: ['2023-04-11 21:59:59', '2023-03-26 01:30:15'],
      minute: ['2023-04-11 21:59:00', '2023-03-26 01:30:00'],
      hour: ['2023-04-11 21:00:00', '2023-03-26 01:00:00'],
      day: ['2023-04-11', '2023-03-26'],
      week: ['2023-04-10', '2023-03-20'],
      week_sunday: ['2023-04-09', '2023-03-26'],
      month: ['2023-04-01', '2023-03-01'],
      quarter: ['2023-04-01', '2023-01-01'],
      year: ['2023-01-01', '2023-01-01'],
      all_time: ['null', 'null'],
    };
    // Berlin: row 10 is 2023-04-11 23:59:59 CEST, row 14 is 2023-03-26 03:30:15 CEST (a Sunday).
    // Sub-day buckets come back as instants: PG timestamptz (session UTC), MySQL naive UTC DATETIME.
    const expectBerlin: Record<string, [string, string]> = {
      ...expectPlain,
      hour: ['2023-04-11 21:00:00', '2023-03-26 01:00:00'],
      day: ['2023-04-11', '2023-03-26'],
    };
    const norm = (v: unknown): string => (v === null ? 'null' : String(v).replace('+00', '').replace(/\.0+$/, ''));
    for (const option of AGGREGATION_OPTIONS) {
      for (const [zone, expected] of [
        [null, expectPlain],
        ['Europe/Berlin', expectBerlin],
      ] as const) {
        const q = compile(`SELECT {ts:aggregation} AS b FROM ${table} WHERE id IN (10, 14) GROUP BY {ts:aggregation}, id ORDER BY id`, {
          dialect,
          dashboardTimeZone: zone,
          parameters: { aggregation: option },
          allowedAggregations: [...AGGREGATION_OPTIONS],
        });
        const got = (await run(dialect, q)).map((r) => norm(r.b));
        expect({ option, zone, got }).toEqual({ option, zone, got: expected[option] });
      }
    }
    // The dashboard zone moves row 11 (22:00 UTC) into the next Berlin day, row 10 stays.
    const q = compile(`SELECT id, {ts:day} AS dd FROM ${table} WHERE id IN (10, 11) ORDER BY id`, { dialect, dashboardTimeZone: 'Europe/Berlin' });
    expect((await run(dialect, q)).map((r) => String(r.dd))).toEqual(['2023-04-11', '2023-04-12']);
    const tz = compile(`SELECT {[ts]:tz} AS local FROM ${table} WHERE id = 14`, { dialect, dashboardTimeZone: 'Europe/Berlin' });
    expect(norm((await run(dialect, tz))[0]!.local)).toBe('2023-03-26 03:30:15');
  });

  it('NULL handling and multi-select', async () => {
    const f = (...v: Array<string | null>) => ({ parameters: { filters: [sel('names', ...v)] } });
    expect(await ids(dialect, '{name=names}', f('a'))).toEqual([1, 4]);
    expect(await ids(dialect, '{name=names}', f('a', 'b'))).toEqual([1, 2, 4, 7]);
    expect(await ids(dialect, '{name=names}', f(null))).toEqual([3, 8]);
    expect(await ids(dialect, '{name=names}', f('c', null))).toEqual([3, 5, 8]);
    expect((await ids(dialect, '{name=names}', f())).length).toBe(ROWS.length);
    expect(await ids(dialect, 'name IN ({names.values})', f())).toEqual([]);
    expect(await ids(dialect, "{names.count} = 2 AND name = 'A'", f('x', 'y'))).toEqual([9]);
    const n = { filters: [def('n', 'input_multi', 'NUMBER')], parameters: { filters: [sel('n', 2, '1.5')] } };
    expect(await ids(dialect, '{amount=n}', n)).toEqual([1, 2, 5]);
    const long = { parameters: { filters: [sel('names', ...Array.from({ length: 1500 }, (_, i) => `v${i}`), 'c')] } };
    expect(await ids(dialect, '{name=names}', long)).toEqual([5]);
  });

  it('value selectors and built-in snippets execute with their declared types', async () => {
    const q = compile(
      'SELECT {one.value} AS v, {nums.min} AS mn, {nums.max} AS mx, {nums.count} AS c, {timerange.start} AS s, {timerange.end} AS e, ' +
        '[CLUVIO_USER_EMAIL] IS NULL AS anon, {none.value} IS NULL AS nv, {aggregation.value} AS agg, {tr.start} AS ts, {dr.end} AS de',
      {
        dialect,
        filters: [
          def('one', 'input'),
          def('nums', 'input_multi', 'NUMBER'),
          def('none', 'input'),
          def('tr', 'time_range', 'TIME'),
          def('dr', 'date_range', 'DATE'),
        ],
        parameters: {
          timerange: '1678924800~1679529599',
          aggregation: 'week',
          filters: [sel('one', "it's"), sel('nums', 10, '9.5', -1), sel('tr', '13:00~14:00'), sel('dr', '2024-02-01~2024-02-29')],
        },
      },
    );
    const [row] = await run(dialect, q);
    const norm = (v: unknown) =>
      String(v)
        .replace('T', ' ')
        .replace(/(\.\d*?)0+$/, '$1')
        .replace(/\.$/, '');
    expect({
      v: row!.v,
      mn: norm(row!.mn),
      mx: norm(row!.mx),
      c: Number(row!.c),
      s: norm(row!.s),
      e: norm(row!.e),
      anon: String(row!.anon),
      nv: String(row!.nv),
      agg: row!.agg,
      ts: norm(row!.ts),
      de: norm(row!.de),
    }).toEqual({
      v: "it's",
      mn: '-1',
      mx: '10',
      c: 3,
      s: '2023-03-16 00:00:00',
      e: '2023-03-22 23:59:59',
      anon: dialect === 'postgres' ? 't' : '1',
      nv: dialect === 'postgres' ? 't' : '1',
      agg: 'week',
      ts: '13:00:00',
      de: '2024-02-29',
    });
  });

  it('checkbox, Yes/No/All, date range and time range (wrap rules)', async () => {
    const filters = [
      def('cb', 'checkbox', 'BOOLEAN'),
      def('yn', 'checkbox_two_way', 'BOOLEAN'),
      def('dr', 'date_range', 'DATE'),
      def('tr', 'time_range', 'TIME'),
    ];
    const p = (name: string, ...v: Array<string | boolean | null>) => ({ filters, parameters: { filters: [sel(name, ...v)] } });
    expect(await ids(dialect, '{flag=cb}', p('cb'))).toEqual([2, 5, 7, 9]);
    expect(await ids(dialect, '{flag=yn}', p('yn', true))).toEqual([1, 4, 6, 8, 10, 11, 12, 13, 14]);
    expect((await ids(dialect, '{flag=yn}', p('yn'))).length).toBe(ROWS.length);
    expect(await ids(dialect, '{d=dr}', p('dr', '2023-03-16~2023-03-22'))).toEqual([2, 3, 4]);
    expect(await ids(dialect, '{d=dr.next}', p('dr', '2023-03-01~2023-03-31'))).toEqual([9, 10, 11, 12, 13]);
    expect(await ids(dialect, '{t=tr}', p('tr', '22:00:00~02:00:00'))).toEqual([1, 2, 4, 5, 8, 9]);
    expect(await ids(dialect, '{t=tr}', p('tr', '22:00:00~23:59:59'))).toEqual([1, 4, 8]);
    expect(await ids(dialect, '{t=tr}', p('tr', '02:00:00~02:00:00'))).toEqual([5]);
  });
});
