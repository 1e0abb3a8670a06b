import { QueryCompileError } from './query-compile-error.js';
import { AGGREGATION_OPTIONS, type AggregationOption, type SqlDialect } from './query.types.js';
import { sqlZoneLiteral } from './time-zones.js';

/** The nine fixed aggregation words usable as `{expr:week}` (no UI control). */
export const FIXED_AGGREGATIONS: readonly Exclude<AggregationOption, 'all_time'>[] = AGGREGATION_OPTIONS.filter(
  (o): o is Exclude<AggregationOption, 'all_time'> => o !== 'all_time',
);

/** True if `name` is a fixed aggregation word. */
export function isFixedAggregation(name: string): name is Exclude<AggregationOption, 'all_time'> {
  return (FIXED_AGGREGATIONS as readonly string[]).includes(name);
}

/** Zones relevant to rendering: the session/data zone and the active dashboard zone (or null). */
export interface ZoneContext {
  dataZone: string;
  dashboardZone: string | null;
}

/**
 * SQL of a date-time bucket for `option` over the author's expression `expr` (already wrapped as `(E)`).
 * Everything is inlined from a whitelist (unit keywords, validated zone literals) so that the same
 * parameter renders identically in SELECT and GROUP BY. With a dashboard zone the wall time is taken
 * in that zone; sub-day buckets are converted back (PG: `timestamptz`; MySQL: naive data-zone
 * `DATETIME`), day-and-coarser buckets are DATEs.
 */
export function renderAggregation(option: AggregationOption, expr: string, dialect: SqlDialect, zones: ZoneContext): string {
  const z = zones.dashboardZone === null ? null : sqlZoneLiteral(zones.dashboardZone);
  const d = sqlZoneLiteral(zones.dataZone);
  if (dialect === 'postgres') {
    const t = z === null ? `${expr}::timestamp` : `(${expr}::timestamptz AT TIME ZONE ${z})`;
    switch (option) {
      case 'second':
      case 'minute':
      case 'hour':
        return z === null ? `DATE_TRUNC('${option}', ${t})` : `(DATE_TRUNC('${option}', ${t}) AT TIME ZONE ${z})`;
      case 'day':
      case 'week':
      case 'month':
      case 'quarter':
      case 'year':
        return `DATE_TRUNC('${option}', ${t})::date`;
      case 'week_sunday':
        return `(DATE_TRUNC('week', ${t} + INTERVAL '1 day') - INTERVAL '1 day')::date`;
      case 'all_time':
        return 'CAST(NULL AS date)';
    }
  }
  const t = z === null ? expr : `CONVERT_TZ(${expr}, ${d}, ${z})`;
  const back = (sql: string): string => (z === null ? sql : `CONVERT_TZ(${sql}, ${z}, ${d})`);
  switch (option) {
    case 'second':
      return back(`CAST(DATE_FORMAT(${t}, '%Y-%m-%d %H:%i:%s') AS DATETIME)`);
    case 'minute':
      return back(`CAST(DATE_FORMAT(${t}, '%Y-%m-%d %H:%i:00') AS DATETIME)`);
    case 'hour':
      return back(`CAST(DATE_FORMAT(${t}, '%Y-%m-%d %H:00:00') AS DATETIME)`);
    case 'day':
      return `DATE(${t})`;
    case 'week':
      return `DATE_SUB(DATE(${t}), INTERVAL WEEKDAY(${t}) DAY)`;
    case 'week_sunday':
      return `DATE_SUB(DATE(${t}), INTERVAL (DAYOFWEEK(${t}) - 1) DAY)`;
    case 'month':
      return `DATE_SUB(DATE(${t}), INTERVAL (DAYOFMONTH(${t}) - 1) DAY)`;
    case 'quarter':
      return `(MAKEDATE(YEAR(${t}), 1) + INTERVAL (QUARTER(${t}) - 1) QUARTER)`;
    case 'year':
      return `MAKEDATE(YEAR(${t}), 1)`;
    case 'all_time':
      return 'CAST(NULL AS DATE)';
  }
}

/**
 * SQL of the built-in `{[expr]:tz}` transform: the expression as a zone-less timestamp in the
 * dashboard zone; unchanged `(E)` when no dashboard zone is active.
 */
export function renderTzTransform(expr: string, dialect: SqlDialect, zones: ZoneContext): string {
  if (zones.dashboardZone === null) return expr;
  const z = sqlZoneLiteral(zones.dashboardZone);
  return dialect === 'postgres' ? `(${expr}::timestamptz AT TIME ZONE ${z})` : `CONVERT_TZ(${expr}, ${sqlZoneLiteral(zones.dataZone)}, ${z})`;
}

/**
 * MySQL/MariaDB `CONVERT_TZ` with named zones needs the server's time zone tables; without them it
 * silently returns NULL. Run this probe (one column per zone) on the session before executing a query
 * compiled with a dashboard zone, and pass the first row to `assertMysqlTimeZoneProbe`.
 * @param zones validated zone names (data zone and dashboard zone)
 */
export function mysqlTimeZoneProbeSql(zones: string[]): string {
  const cols = zones.map((z, i) => `CONVERT_TZ('2000-01-01 00:00:00', 'UTC', ${sqlZoneLiteral(z)}) AS z${i}`);
  return `SELECT ${cols.length > 0 ? cols.join(', ') : '1 AS z0'}`;
}

/**
 * Checks the row returned by `mysqlTimeZoneProbeSql(zones)`.
 * @throws QueryCompileError naming the zones the server does not know (load them with
 *   `mariadb-tzinfo-to-sql /usr/share/zoneinfo | mariadb -u root mysql`)
 */
export function assertMysqlTimeZoneProbe(row: Record<string, unknown> | undefined, zones: string[]): void {
  const missing = zones.filter((_, i) => row?.[`z${i}`] === null || row?.[`z${i}`] === undefined);
  if (missing.length > 0) {
    throw new QueryCompileError(
      `The MySQL/MariaDB server does not know the time zone(s) ${missing.join(', ')}: its time zone tables are not loaded ` +
        '(load them with mariadb-tzinfo-to-sql /usr/share/zoneinfo | mariadb -u root mysql)',
      null,
      { zones: missing },
    );
  }
}
