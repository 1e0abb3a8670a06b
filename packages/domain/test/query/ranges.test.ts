import { parseTimerange, QueryCompileError } from '../../src/query/index.js';
import { compile, compileMy, def, sel, compileError, NOW } from './helpers.js';

const iso = (s: number | null): string | null => (s === null ? null : new Date(s * 1000).toISOString().replace('.000Z', 'Z'));
const tr = (text: string, zone = 'UTC', now = NOW) => {
  const r = parseTimerange(text, now, zone);
  return [iso(r.start), iso(r.endExclusive)];
};

describe('parseTimerange', () => {
  it('absolute: inclusive bounds → half-open, one-sided, unbounded, empty', () => {
    expect(parseTimerange('1678924800~1679529599', NOW, 'UTC')).toEqual({ start: 1678924800, endExclusive: 1679529600 });
    expect(parseTimerange('~1679917838', NOW, 'UTC')).toEqual({ start: null, endExclusive: 1679917839 });
    expect(parseTimerange('1679917838~', NOW, 'UTC')).toEqual({ start: 1679917838, endExclusive: null });
    expect(parseTimerange('~', NOW, 'UTC')).toEqual({ start: null, endExclusive: null });
    expect(parseTimerange('', NOW, 'UTC')).toEqual({ start: null, endExclusive: null });
    expect(parseTimerange('-86400~0', NOW, 'UTC')).toEqual({ start: -86400, endExclusive: 1 });
  });

  it('relative encodings (now = Wed 2023-03-22 12:34:56 UTC, weeks start Monday)', () => {
    expect(tr('7_full_day')).toEqual(['2023-03-16T00:00:00Z', '2023-03-23T00:00:00Z']);
    expect(tr('7_day')).toEqual(['2023-03-15T12:34:56Z', '2023-03-22T12:34:57Z']);
    expect(tr('thisfull_week')).toEqual(['2023-03-20T00:00:00Z', '2023-03-27T00:00:00Z']);
    expect(tr('this_month')).toEqual(['2023-03-01T00:00:00Z', '2023-03-22T12:34:57Z']);
    expect(tr('previous_week')).toEqual(['2023-03-13T00:00:00Z', '2023-03-20T00:00:00Z']);
    expect(tr('previous_quarter')).toEqual(['2022-10-01T00:00:00Z', '2023-01-01T00:00:00Z']);
    expect(tr('thisfull_quarter')).toEqual(['2023-01-01T00:00:00Z', '2023-04-01T00:00:00Z']);
    expect(tr('previous_year')).toEqual(['2022-01-01T00:00:00Z', '2023-01-01T00:00:00Z']);
    expect(tr('thisfull_hour')).toEqual(['2023-03-22T12:00:00Z', '2023-03-22T13:00:00Z']);
    expect(tr('90_minute')).toEqual(['2023-03-22T11:04:56Z', '2023-03-22T12:34:57Z']);
    expect(tr('2_full_week')).toEqual(['2023-03-13T00:00:00Z', '2023-03-27T00:00:00Z']);
    expect(tr('1_month')).toEqual(['2023-02-22T12:34:56Z', '2023-03-22T12:34:57Z']);
  });

  it('relative ranges are computed in the given zone (DST aware)', () => {
    // Berlin switches to CEST on 2023-03-26: March ends at 22:00Z, February starts at 23:00Z the day before.
    expect(tr('2_full_month', 'Europe/Berlin')).toEqual(['2023-01-31T23:00:00Z', '2023-03-31T22:00:00Z']);
    expect(tr('thisfull_day', 'America/New_York')).toEqual(['2023-03-22T04:00:00Z', '2023-03-23T04:00:00Z']);
    expect(tr('thisfull_day', 'Asia/Kathmandu')).toEqual(['2023-03-21T18:15:00Z', '2023-03-22T18:15:00Z']);
  });

  it('rejects malformed input', () => {
    for (const bad of ['abc', '1.5~2', '5~3', '1~2~3', '7_full_fortnight', '0_day', ' 1~2', '1e3~', '99999999999999~']) {
      expect(() => parseTimerange(bad, NOW, 'UTC')).toThrow(QueryCompileError);
    }
    expect(compileError(() => parseTimerange('5~3', NOW, 'UTC')).detail).toBe('Invalid timerange "5~3": start is after end');
  });
});

describe('built-in timerange filter', () => {
  it('renders the doc example with half-open bounds in data-zone wall time', () => {
    const p = { parameters: { timerange: '1678924800~1679529599' } };
    expect(compile('SELECT * FROM orders WHERE {created_at=timerange}', p)).toMatchObject({
      sql: 'SELECT * FROM orders WHERE ((created_at) >= $1 AND (created_at) < $2)',
      values: ['2023-03-16T00:00:00', '2023-03-23T00:00:00'],
    });
    expect(compileMy('SELECT * FROM orders WHERE {created_at=timerange}', p)).toMatchObject({
      sql: 'SELECT * FROM orders WHERE ((created_at) >= ? AND (created_at) < ?)',
      values: ['2023-03-16 00:00:00', '2023-03-23 00:00:00'],
    });
  });

  it('dashboard zone Europe/Berlin with data zone UTC: a Berlin day becomes 22:00–22:00 UTC', () => {
    const r = compile('{created_at=timerange}', { parameters: { timerange: '1681250400~1681336799' }, dashboardTimeZone: 'Europe/Berlin' });
    expect(r.values).toEqual(['2023-04-11T22:00:00', '2023-04-12T22:00:00']);
    // Data zone Berlin (session zone): bounds rendered as Berlin wall time.
    const b = compile('{created_at=timerange}', { parameters: { timerange: '1681250400~1681336799' }, dataTimeZone: 'Europe/Berlin' });
    expect(b.values).toEqual(['2023-04-12T00:00:00', '2023-04-13T00:00:00']);
  });

  it('relative timerange uses the dashboard zone for "today"', () => {
    const r = compile('{t=timerange}', { parameters: { timerange: 'thisfull_day' }, dashboardTimeZone: 'Europe/Berlin' });
    expect(r.values).toEqual(['2023-03-21T23:00:00', '2023-03-22T23:00:00']);
  });

  it('one-sided and unbounded', () => {
    expect(compile('{created_at=timerange}', { parameters: { timerange: '~1679917838' } })).toMatchObject({
      sql: '((created_at) < $1)',
      values: ['2023-03-27T11:50:39'],
    });
    expect(compile('{created_at=timerange}', { parameters: { timerange: '1679917838~' } })).toMatchObject({
      sql: '((created_at) >= $1)',
      values: ['2023-03-27T11:50:38'],
    });
    expect(compile('{created_at=timerange}', { parameters: { timerange: '~' } }).sql).toBe('(1=1)');
    expect(compile('{created_at=timerange}').sql).toBe('(1=1)');
  });

  it('.next / .previous: whole months follow the month rule, other ranges shift by their length, unbounded → (1=0)', () => {
    const jan = { parameters: { timerange: '1704067200~1706745599' } }; // 2024-01-01 … 2024-01-31T23:59:59Z
    expect(compile('{t=timerange.next}', jan).values).toEqual(['2024-02-01T00:00:00', '2024-03-01T00:00:00']);
    expect(compile('{t=timerange.previous}', jan).values).toEqual(['2023-12-01T00:00:00', '2024-01-01T00:00:00']);
    const q = { parameters: { timerange: 'previous_quarter' } };
    expect(compile('{t=timerange.next}', q).values).toEqual(['2023-01-01T00:00:00', '2023-04-01T00:00:00']);
    const days = { parameters: { timerange: '1678924800~1679183999' } }; // 3 days from 2023-03-16
    expect(compile('{t=timerange.next}', days).values).toEqual(['2023-03-19T00:00:00', '2023-03-22T00:00:00']);
    expect(compile('{t=timerange.previous}', days).values).toEqual(['2023-03-13T00:00:00', '2023-03-16T00:00:00']);
    expect(compile('{t=timerange.next}', { parameters: { timerange: '1~' } }).sql).toBe('(1=0)');
    expect(compile('{t=timerange.previous}').sql).toBe('(1=0)');
    // Month rule evaluated in the dashboard zone.
    const berlinJan = { parameters: { timerange: '1704063600~1706741999' }, dashboardTimeZone: 'Europe/Berlin' };
    expect(compile('{t=timerange.next}', berlinJan).values).toEqual(['2024-01-31T23:00:00', '2024-02-29T23:00:00']);
  });

  it('.start / .end: typed data-zone wall times, end inclusive, NULL when unbounded', () => {
    const p = { parameters: { timerange: '1678924800~1679529599' } };
    expect(compile('SELECT {timerange.start}, {timerange.end}', p)).toMatchObject({
      sql: 'SELECT $1::timestamp, $2::timestamp',
      values: ['2023-03-16T00:00:00', '2023-03-22T23:59:59'],
    });
    expect(compileMy('SELECT {timerange.start}, {timerange.end}', { parameters: { timerange: '1678924800~' } })).toMatchObject({
      sql: 'SELECT CAST(? AS DATETIME), NULL',
      values: ['2023-03-16 00:00:00'],
    });
    expect(compile('SELECT {timerange.selected}').sql).toBe('SELECT FALSE');
  });

  it('a malformed timerange is a 422 even when the SQL does not use it', () => {
    const e = compileError(() => compile('SELECT 1', { parameters: { timerange: 'yesterday' } }));
    expect(e.status).toBe(422);
    expect(e.detail).toMatch(/^Invalid timerange "yesterday"/);
  });
});

describe('date_time_range', () => {
  const filters = [def('r', 'date_time_range', 'DATE_TIME')];
  it('"S~E" local wall times or unix seconds, [S, E] pairs, relative', () => {
    const a = compile('{log_timestamp=r}', { filters, parameters: { filters: [sel('r', '2023-04-12T00:00:00~2023-04-12T23:59:59')] } });
    expect(a).toMatchObject({ sql: '((log_timestamp) >= $1 AND (log_timestamp) < $2)', values: ['2023-04-12T00:00:00', '2023-04-13T00:00:00'] });
    const b = compile('{ts=r}', { filters, parameters: { filters: [sel('r', 1681257600, null)] } });
    expect(b).toMatchObject({ sql: '((ts) >= $1)', values: ['2023-04-12T00:00:00'] });
    const c = compile('{ts=r}', {
      filters,
      dashboardTimeZone: 'Europe/Berlin',
      parameters: { filters: [sel('r', '2023-04-12T00:00:00~2023-04-12T23:59:59')] },
    });
    expect(c.values).toEqual(['2023-04-11T22:00:00', '2023-04-12T22:00:00']);
    expect(compile('{ts=r}', { filters, parameters: { filters: [sel('r', 'previous_day')] } }).values).toEqual(['2023-03-21T00:00:00', '2023-03-22T00:00:00']);
    expect(compile('{ts=r}', { filters, parameters: { filters: [sel('r', '~')] } }).sql).toBe('(1=1)');
  });
  it('configuration flags and malformed input → 422', () => {
    const strict = [
      def('r', 'date_time_range', 'DATE_TIME', { relativeRangeEnabled: false, beforeRangeEnabled: false, afterRangeEnabled: false, fromToRangeEnabled: false }),
    ];
    expect(compileError(() => compile('{t=r}', { filters: strict, parameters: { filters: [sel('r', '7_day')] } })).detail).toMatch(
      /relative ranges are not enabled/,
    );
    expect(compileError(() => compile('{t=r}', { filters: strict, parameters: { filters: [sel('r', '~1')] } })).detail).toMatch(/without a start/);
    expect(compileError(() => compile('{t=r}', { filters: strict, parameters: { filters: [sel('r', '1~')] } })).detail).toMatch(/without an end/);
    expect(compileError(() => compile('{t=r}', { filters: strict, parameters: { filters: [sel('r', '1~2')] } })).detail).toMatch(
      /from–to ranges are not enabled/,
    );
    expect(compileError(() => compile('{t=r}', { filters, parameters: { filters: [sel('r', 'a', 'b', 'c')] } })).detail).toMatch(/at most two values/);
    expect(compileError(() => compile('{t=r}', { filters, parameters: { filters: [sel('r', '2023-13-01T00:00:00~')] } })).detail).toMatch(/is not a DATE_TIME/);
    expect(compileError(() => compile('{t=r}', { filters, parameters: { filters: [sel('r', '10~5')] } })).detail).toMatch(/start is after end/);
  });
});

describe('date_range', () => {
  const filters = [def('d', 'date_range', 'DATE')];
  it('renders date bounds with end + 1 day, exclusive', () => {
    const p = { filters, parameters: { filters: [sel('d', '2023-04-12~2023-04-14')] } };
    expect(compile('{log_date=d}', p)).toMatchObject({ sql: '((log_date) >= $1::date AND (log_date) < $2::date)', values: ['2023-04-12', '2023-04-15'] });
    expect(compileMy('{log_date=d}', p)).toMatchObject({
      sql: '((log_date) >= CAST(? AS DATE) AND (log_date) < CAST(? AS DATE))',
      values: ['2023-04-12', '2023-04-15'],
    });
    expect(compile('{x=d}', { filters, parameters: { filters: [sel('d', null, '2023-12-31')] } })).toMatchObject({
      sql: '((x) < $1::date)',
      values: ['2024-01-01'],
    });
    expect(compile('SELECT {d.start}, {d.end}', p)).toMatchObject({ sql: 'SELECT $1::date, $2::date', values: ['2023-04-12', '2023-04-14'] });
  });
  it('relative ranges resolve in the operating zone; units below a day are rejected', () => {
    expect(compile('{x=d}', { filters, parameters: { filters: [sel('d', '7_full_day')] } }).values).toEqual(['2023-03-16', '2023-03-23']);
    const lateNow = new Date('2023-03-22T23:30:00Z');
    expect(compile('{x=d}', { filters, now: lateNow, dashboardTimeZone: 'Europe/Berlin', parameters: { filters: [sel('d', 'thisfull_day')] } }).values).toEqual(
      ['2023-03-23', '2023-03-24'],
    );
    expect(compile('{x=d}', { filters, parameters: { filters: [sel('d', 'this_month')] } }).values).toEqual(['2023-03-01', '2023-03-23']);
    expect(compileError(() => compile('{x=d}', { filters, parameters: { filters: [sel('d', '3_hour')] } })).detail).toMatch(/day or coarser/);
  });
  it('.next/.previous: whole months → whole months, else shift by days', () => {
    const jan = { filters, parameters: { filters: [sel('d', '2024-01-01~2024-01-31')] } };
    expect(compile('{x=d.next}', jan).values).toEqual(['2024-02-01', '2024-03-01']);
    expect(compile('{x=d.previous}', jan).values).toEqual(['2023-12-01', '2024-01-01']);
    const three = { filters, parameters: { filters: [sel('d', '2023-04-12~2023-04-14')] } };
    expect(compile('{x=d.next}', three).values).toEqual(['2023-04-15', '2023-04-18']);
    expect(compile('{x=d.next}', { filters }).sql).toBe('(1=0)');
  });
});

describe('time_range', () => {
  const filters = [def('t', 'time_range', 'TIME')];
  const run = (v: Array<string | null>, sql = '{log_time=t}', over = {}) => compile(sql, { filters, parameters: { filters: [sel('t', ...v)] }, ...over });
  it('inclusive HH:MM:SS bounds, end + 1 s exclusive', () => {
    expect(run(['13:00:00~13:59:59'])).toMatchObject({ sql: '((log_time) >= $1::time AND (log_time) < $2::time)', values: ['13:00:00', '14:00:00'] });
    expect(compileMy('{log_time=t}', { filters, parameters: { filters: [sel('t', '13:00:00~13:59:59')] } }).sql).toBe(
      '((log_time) >= CAST(? AS TIME) AND (log_time) < CAST(? AS TIME))',
    );
  });
  it('wrap rules: end 23:59:59 → no upper bound; start after end → OR across midnight', () => {
    expect(run(['08:00:00~23:59:59'])).toMatchObject({ sql: '((log_time) >= $1::time)', values: ['08:00:00'] });
    expect(run(['22:00~02:00'])).toMatchObject({ sql: '((log_time) >= $1::time OR (log_time) < $2::time)', values: ['22:00:00', '02:00:01'] });
    expect(run([null, '23:59:59']).sql).toBe('(1=1)');
    expect(run([null, '09:00:00'])).toMatchObject({ sql: '((log_time) < $1::time)', values: ['09:00:01'] });
  });
  it('relative ranges (minute/hour) in the operating zone, crossing midnight', () => {
    expect(run(['thisfull_hour']).values).toEqual(['12:00:00', '13:00:00']);
    expect(run(['3_hour']).values).toEqual(['09:34:56', '12:34:57']);
    expect(run(['3_hour'], '{x=t}', { now: new Date('2023-03-22T01:00:00Z') })).toMatchObject({
      sql: '((x) >= $1::time OR (x) < $2::time)',
      values: ['22:00:00', '01:00:01'],
    });
    expect(run(['thisfull_hour'], '{x=t}', { dashboardTimeZone: 'Asia/Kolkata' }).values).toEqual(['18:00:00', '19:00:00']);
    expect(run(['24_hour']).sql).toBe('(1=1)');
    expect(compileError(() => run(['1_day'])).detail).toMatch(/minute and hour/);
  });
  it('.next/.previous shift by the length modulo 24 h; .start/.end', () => {
    expect(run(['13:00:00~13:59:59'], '{x=t.next}').values).toEqual(['14:00:00', '15:00:00']);
    expect(run(['23:00:00~23:59:59'], '{x=t.next}')).toMatchObject({ sql: '((x) >= $1::time AND (x) < $2::time)', values: ['00:00:00', '01:00:00'] });
    expect(run(['22:00:00~23:59:59'], '{x=t.previous}').values).toEqual(['20:00:00', '22:00:00']);
    expect(run(['13:00:00~13:59:59'], 'SELECT {t.start}, {t.end}')).toMatchObject({ sql: 'SELECT $1::time, $2::time', values: ['13:00:00', '13:59:59'] });
  });
});
