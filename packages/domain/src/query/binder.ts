import type { CanonicalValue } from './input-values.js';
import type { FilterValueType, SqlDialect } from './query.types.js';
import { formatTimeOfDay, formatWall, wallFromEpoch } from './time-zones.js';

/**
 * Collects bind values and hands out placeholders: PostgreSQL `$1…$n` in textual order, MySQL one
 * `?` per occurrence.
 */
export class Binder {
  readonly values: unknown[] = [];

  constructor(readonly dialect: SqlDialect) {}

  /** Adds a value and returns its placeholder. */
  bind(value: unknown): string {
    this.values.push(value);
    return this.dialect === 'postgres' ? `$${this.values.length}` : '?';
  }
}

/**
 * How a value is used: `condition` binds compare against the author's expression (PostgreSQL infers
 * the type from it for TEXT and DATE_TIME, like a quoted literal would); `value` binds stand alone
 * (`{f.value}`, `.min`, `.start` …) and therefore carry an explicit type.
 */
export type BindMode = 'condition' | 'value';

/**
 * Binds one canonical value with the SQL type its value type calls for (see README "Binding").
 * DATE_TIME values (epoch seconds) are bound as wall time in the data zone `dataZone`.
 */
export function bindTyped(binder: Binder, valueType: FilterValueType, value: CanonicalValue, mode: BindMode, dataZone: string): string {
  const pg = binder.dialect === 'postgres';
  switch (valueType) {
    case 'TEXT': {
      const p = binder.bind(String(value));
      return pg && mode === 'value' ? `${p}::text` : p;
    }
    case 'NUMBER': {
      const p = binder.bind(String(value));
      return pg ? `${p}::numeric` : `CAST(${p} AS DECIMAL(65,30))`;
    }
    case 'BOOLEAN': {
      if (pg) return `${binder.bind(value === true)}::boolean`;
      return binder.bind(value === true ? 1 : 0);
    }
    case 'DATE': {
      const p = binder.bind(String(value));
      return pg ? `${p}::date` : `CAST(${p} AS DATE)`;
    }
    case 'TIME': {
      const p = binder.bind(formatTimeOfDay(Number(value)));
      return pg ? `${p}::time` : `CAST(${p} AS TIME)`;
    }
    case 'DATE_TIME': {
      const p = binder.bind(formatWall(wallFromEpoch(Number(value), dataZone), pg ? 'T' : ' '));
      if (mode === 'condition') return p;
      return pg ? `${p}::timestamp` : `CAST(${p} AS DATETIME)`;
    }
  }
}

/** Array element type used for `= ANY($n::type[])` on long PostgreSQL lists (untyped for TEXT/DATE_TIME). */
export function pgArrayCast(valueType: FilterValueType): string {
  switch (valueType) {
    case 'NUMBER':
      return '::numeric[]';
    case 'BOOLEAN':
      return '::boolean[]';
    case 'DATE':
      return '::date[]';
    case 'TIME':
      return '::time[]';
    default:
      return '';
  }
}

/** The bind representation of a canonical value inside a PostgreSQL array bind. */
export function pgArrayElement(valueType: FilterValueType, value: CanonicalValue, dataZone: string): string | boolean {
  if (valueType === 'TIME') return formatTimeOfDay(Number(value));
  if (valueType === 'DATE_TIME') return formatWall(wallFromEpoch(Number(value), dataZone), 'T');
  if (valueType === 'BOOLEAN') return value === true;
  return String(value);
}
