import { AGGREGATION_OPTIONS, FIXED_AGGREGATIONS } from '../../src/query/index.js';
import { compile, compileMy, def, sel, compileError } from './helpers.js';

const PG: Record<string, string> = {
  second: "DATE_TRUNC('second', (created_at)::timestamp)",
  minute: "DATE_TRUNC('minute', (created_at)::timestamp)",
  hour: "DATE_TRUNC('hour', (created_at)::timestamp)",
  day: "DATE_TRUNC('day', (created_at)::timestamp)::date",
  week: "DATE_TRUNC('week', (created_at)::timestamp)::date",
  week_sunday: "(DATE_TRUNC('week', (created_at)::timestamp + INTERVAL '1 day') - INTERVAL '1 day')::date",
  month: "DATE_TRUNC('month', (created_at)::timestamp)::date",
  quarter: "DATE_TRUNC('quarter', (created_at)::timestamp)::date",
  year: "DATE_TRUNC('year', (created_at)::timestamp)::date",
  all_time: 'CAST(NULL AS date)',
};
const T = "((created_at)::timestamptz AT TIME ZONE 'Europe/Berlin')";
const PG_TZ: Record<string, string> = {
  second: `(DATE_TRUNC('second', ${T}) AT TIME ZONE 'Europe/Berlin')`,
  minute: `(DATE_TRUNC('minute', ${T}) AT TIME ZONE 'Europe/Berlin')`,
  hour: `(DATE_TRUNC('hour', ${T}) AT TIME ZONE 'Europe/Berlin')`,
  day: `DATE_TRUNC('day', ${T})::date`,
  week: `DATE_TRUNC('week', ${T})::date`,
  week_sunday: `(DATE_TRUNC('week', ${T} + INTERVAL '1 day') - INTERVAL '1 day')::date`,
  month: `DATE_TRUNC('month', ${T})::date`,
  quarter: `DATE_TRUNC('quarter', ${T})::date`,
  year: `DATE_TRUNC('year', ${T})::date`,
  all_time: 'CAST(NULL AS date)',
};
const E = '(created_at)';
const MY: Record<string, string> = {
  second: `CAST(DATE_FORMAT(${E}, '%Y-%m-%d %H:%i:%s') AS DATETIME)`,
  minute: `CAST(DATE_FORMAT(${E}, '%Y-%m-%d %H:%i:00') AS DATETIME)`,
  hour: `CAST(DATE_FORMAT(${E}, '%Y-%m-%d %H:00:00') AS DATETIME)`,
  day: `DATE(${E})`,
  week: `DATE_SUB(DATE(${E}), INTERVAL WEEKDAY(${E}) DAY)`,
  week_sunday: `DATE_SUB(DATE(${E}), INTERVAL (DAYOFWEEK(${E}) - 1) DAY)`,
  month: `DATE_SUB(DATE(${E}), INTERVAL (DAYOFMONTH(${E}) - 1) DAY)`,
  quarter: `(MAKEDATE(YEAR(${E}), 1) + INTERVAL (QUARTER(${E}) - 1) QUARTER)`,
  year: `MAKEDATE(YEAR(${E}), 1)`,
  all_time: 'CAST(NULL AS DATE)',
};
const C = "CONVERT_TZ((created_at), 'UTC', 'Europe/Berlin')";
const back = (s: string) => `CONVERT_TZ(${s}, 'Europe/Berlin', 'UTC')`;
const MY_TZ: Record<string, string> = {
  second: back(`CAST(DATE_FORMAT(${C}, '%Y-%m-%d %H:%i:%s') AS DATETIME)`),
  minute: back(`CAST(DATE_FORMAT(${C}, '%Y-%m-%d %H:%i:00') AS DATETIME)`),
  hour: back(`CAST(DATE_FORMAT(${C}, '%Y-%m-%d %H:00:00') AS DATETIME)`),
  day: `DATE(${C})`,
  week: `DATE_SUB(DATE(${C}), INTERVAL WEEKDAY(${C}) DAY)`,
  week_sunday: `DATE_SUB(DATE(${C}), INTERVAL (DAYOFWEEK(${C}) - 1) DAY)`,
  month: `DATE_SUB(DATE(${C}), INTERVAL (DAYOFMONTH(${C}) - 1) DAY)`,
  quarter: `(MAKEDATE(YEAR(${C}), 1) + INTERVAL (QUARTER(${C}) - 1) QUARTER)`,
  year: `MAKEDATE(YEAR(${C}), 1)`,
  all_time: 'CAST(NULL AS DATE)',
};

describe('built-in aggregation', () => {
  const all = [...AGGREGATION_OPTIONS];
  it.each(all)('%s renders the whitelisted SQL for both dialects, with and without a dashboard zone', (option) => {
    const p = { parameters: { aggregation: option }, allowedAggregations: all };
    expect(compile('{created_at:aggregation}', p)).toMatchObject({ sql: PG[option], values: [] });
    expect(compile('{created_at:aggregation}', { ...p, dashboardTimeZone: 'Europe/Berlin' })).toMatchObject({ sql: PG_TZ[option], values: [] });
    expect(compileMy('{created_at:aggregation}', p)).toMatchObject({ sql: MY[option], values: [] });
    expect(compileMy('{created_at:aggregation}', { ...p, dashboardTimeZone: 'Europe/Berlin' })).toMatchObject({ sql: MY_TZ[option], values: [] });
  });

  it('doc example: default is day and SELECT/GROUP BY render identically', () => {
    expect(compile('SELECT {created_at:aggregation}, COUNT(*) FROM orders GROUP BY {created_at:aggregation}').sql).toBe(
      "SELECT DATE_TRUNC('day', (created_at)::timestamp)::date, COUNT(*) FROM orders GROUP BY DATE_TRUNC('day', (created_at)::timestamp)::date",
    );
    expect(compileMy('SELECT {[created_at]:aggregation} GROUP BY {created_at:aggregation}').sql).toBe(`SELECT ${MY.day} GROUP BY ${MY.day}`);
  });

  it('all_time only when explicitly allowed; restriction list applies; unknown options rejected', () => {
    expect(compileError(() => compile('SELECT 1', { parameters: { aggregation: 'all_time' } })).detail).toBe("aggregation: 'all_time' is not allowed");
    expect(compileError(() => compile('SELECT 1', { parameters: { aggregation: 'week' }, allowedAggregations: ['day', 'month'] })).detail).toBe(
      "aggregation: 'week' is not allowed (allowed: day, month)",
    );
    expect(compileError(() => compile('SELECT 1', { parameters: { aggregation: 'fortnight' as never } })).detail).toMatch(
      /"fortnight" is not an aggregation option/,
    );
    // default falls back to the first allowed option when day is not allowed
    expect(compile('{x:aggregation}', { allowedAggregations: ['month', 'year'] }).sql).toBe("DATE_TRUNC('month', (x)::timestamp)::date");
    expect(compile('SELECT {aggregation.value}, {aggregation}', { parameters: { aggregation: 'week' } }).sql).toBe("SELECT 'week', 'week'");
  });
});

describe('custom date_time_aggregation and fixed aggregations', () => {
  const filters = [def('agg', 'date_time_aggregation', 'TEXT', { allowedAggregations: ['day', 'week', 'all_time'] })];
  it('uses selected_values[0], validates against allowedAggregations', () => {
    expect(compile('{[ts]:agg}', { filters, parameters: { filters: [sel('agg', 'week')] } }).sql).toBe("DATE_TRUNC('week', (ts)::timestamp)::date");
    expect(compile('{[ts]:agg}', { filters, parameters: { filters: [sel('agg', 'all_time')] } }).sql).toBe('CAST(NULL AS date)');
    expect(compile('{[ts]:agg}', { filters }).sql).toBe("DATE_TRUNC('day', (ts)::timestamp)::date");
    expect(compileError(() => compile('{[ts]:agg}', { filters, parameters: { filters: [sel('agg', 'hour')] } })).detail).toMatch(
      /Filter 'agg': 'hour' is not allowed \(allowed: day, week, all_time\) \(at line 1, column 1\)/,
    );
    expect(compileError(() => compile('{[ts]:agg}', { filters, parameters: { filters: [sel('agg', 'day', 'week')] } })).detail).toMatch(/takes one value/);
    expect(compile('SELECT {agg.value}', { filters, parameters: { filters: [sel('agg', 'week')] } }).sql).toBe("SELECT 'week'");
  });
  it.each([...FIXED_AGGREGATIONS])('fixed {x:%s}', (option) => {
    expect(compile(`{created_at:${option}}`).sql).toBe(PG[option]);
    expect(compileMy(`{created_at:${option}}`).sql).toBe(MY[option]);
  });
});

describe('tz transform and zones', () => {
  it('converts to the dashboard zone, unchanged without one', () => {
    const sql = "SELECT 'The current time is ' || ({CURRENT_TIMESTAMP:tz})::text";
    expect(compile(sql, { dashboardTimeZone: 'Europe/Berlin' }).sql).toBe(
      "SELECT 'The current time is ' || (((CURRENT_TIMESTAMP)::timestamptz AT TIME ZONE 'Europe/Berlin'))::text",
    );
    expect(compile(sql).sql).toBe("SELECT 'The current time is ' || ((CURRENT_TIMESTAMP))::text");
    expect(compileMy('SELECT {[ts]:tz}', { dashboardTimeZone: 'America/New_York', dataTimeZone: 'Europe/Berlin' }).sql).toBe(
      "SELECT CONVERT_TZ((ts), 'Europe/Berlin', 'America/New_York')",
    );
  });
  it('parameters.tz acts as the dashboard zone when the caller passes none (undefined), not when null', () => {
    expect(compile('{[ts]:tz}', { dashboardTimeZone: undefined, parameters: { tz: 'Asia/Tokyo' } }).sql).toBe("((ts)::timestamptz AT TIME ZONE 'Asia/Tokyo')");
    expect(compile('{[ts]:tz}', { dashboardTimeZone: null, parameters: { tz: 'Asia/Tokyo' } }).sql).toBe('(ts)');
    expect(compile('SELECT {tz.value}', { dashboardTimeZone: 'Etc/UTC' }).sql).toBe("SELECT 'Etc/UTC'");
  });
  it('invalid zones are 422s', () => {
    expect(compileError(() => compile('SELECT 1', { parameters: { tz: 'Mars/Olympus' } })).detail).toBe(
      'tz must be an IANA time zone name such as \'Europe/Berlin\', got "Mars/Olympus"',
    );
    expect(compileError(() => compile('SELECT 1', { parameters: { tz: 'europe/berlin' } })).status).toBe(422);
    expect(compileError(() => compile('SELECT 1', { dataTimeZone: 'Nowhere' })).detail).toMatch(/^data time zone must be/);
    expect(compileError(() => compile('SELECT 1', { dashboardTimeZone: "UTC'; DROP TABLE x; --" })).detail).toMatch(/^dashboard time zone must be/);
  });
});
