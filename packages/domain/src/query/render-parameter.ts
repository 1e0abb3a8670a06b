import { renderAggregation, renderTzTransform, type ZoneContext } from './aggregation.js';
import { Binder, bindTyped, pgArrayCast, pgArrayElement } from './binder.js';
import type { CanonicalValue } from './input-values.js';
import type { ParsedParameter } from './parameter-parser.js';
import { QueryCompileError, type QueryErrorLocation } from './query-compile-error.js';
import { shiftDayRange, shiftInstantRange, shiftTimeRange, type TimeOfDayRange } from './ranges.js';
import type { ResolvedVariable } from './resolve.js';
import { dateOfDayNumber, formatDate, sqlZoneLiteral } from './time-zones.js';

/** Lists longer than this use one array bind (PostgreSQL) or OR-joined IN chunks (MySQL). */
const LONG_LIST_THRESHOLD = 1000;

/** Everything the renderer needs besides the parameter and its variable. */
export interface RenderContext {
  binder: Binder;
  zones: ZoneContext;
  location: QueryErrorLocation;
}

const VALUE_SELECTORS = new Set(['start', 'end', 'value', 'selected', 'count', 'min', 'max', 'values']);
const CONDITION_SELECTORS = new Set(['next', 'previous']);

/**
 * Renders one parameter. `lhsSql` is the already-rendered left-hand side *without* the wrapping
 * parentheses (undefined for value/bare parameters).
 * @throws QueryCompileError for unknown selectors and forms the variable does not support
 */
export function renderParameter(p: ParsedParameter, v: ResolvedVariable, lhsSql: string | undefined, rc: RenderContext): string {
  const fail = (m: string): never => {
    throw new QueryCompileError(`Invalid parameter ${p.source}: ${m}`, rc.location, { parameter: p.source, variable: v.name });
  };
  const what = v.kind === 'list' || v.kind.endsWith('range') || v.kind === 'aggregation' ? `filter '${v.name}' (${v.control})` : `'${v.name}' (${v.control})`;
  const e = `(${lhsSql ?? ''})`;
  switch (p.form) {
    case 'condition': {
      if (p.selector !== undefined && !CONDITION_SELECTORS.has(p.selector)) {
        fail(`unknown condition selector '.${p.selector}' (known: .next, .previous)`);
      }
      if (v.kind === 'list') {
        if (p.selector) fail(`${what} has no '.${p.selector}' selector; .next/.previous are for range filters`);
        return renderListCondition(v, e, rc);
      }
      if (v.kind === 'instant_range' || v.kind === 'day_range' || v.kind === 'time_range')
        return renderRangeCondition(v, e, p.selector as 'next' | 'previous' | undefined, rc);
      return fail(`${what} cannot be used as a condition {expr=${v.name}}; use a transformation {expr:${v.name}}`);
    }
    case 'transformation': {
      if (v.kind === 'aggregation' || v.kind === 'fixed_aggregation') return renderAggregation(v.option, e, rc.binder.dialect, rc.zones);
      if (v.kind === 'tz') return renderTzTransform(e, rc.binder.dialect, rc.zones);
      return fail(`${what} cannot be used as a transformation {expr:${v.name}}; use a condition {expr=${v.name}}`);
    }
    case 'value':
    case 'bare': {
      const selector = p.form === 'bare' ? 'value' : p.selector!;
      if (!VALUE_SELECTORS.has(selector)) {
        if (CONDITION_SELECTORS.has(selector)) fail(`'.${selector}' is a condition selector: write {expr=${v.name}.${selector}}`);
        fail(`unknown selector '.${selector}' (known: ${[...VALUE_SELECTORS].map((s) => `.${s}`).join(', ')})`);
      }
      return renderValueSelector(v, selector, p.form === 'bare', rc, fail, what);
    }
  }
}

function renderListCondition(v: Extract<ResolvedVariable, { kind: 'list' }>, e: string, rc: RenderContext): string {
  if (v.values.length === 0 && !v.hasNull) return '(1=1)';
  const parts: string[] = [];
  const dialect = rc.binder.dialect;
  if (v.values.length === 1) parts.push(`${e} = ${bindTyped(rc.binder, v.valueType, v.values[0]!, 'condition', rc.zones.dataZone)}`);
  else if (v.values.length > LONG_LIST_THRESHOLD && dialect === 'postgres') {
    const arr = v.values.map((x) => pgArrayElement(v.valueType, x, rc.zones.dataZone));
    parts.push(`${e} = ANY(${rc.binder.bind(arr)}${pgArrayCast(v.valueType)})`);
  } else if (v.values.length > 1) {
    for (let i = 0; i < v.values.length; i += LONG_LIST_THRESHOLD) {
      const chunk = v.values.slice(i, i + LONG_LIST_THRESHOLD).map((x) => bindTyped(rc.binder, v.valueType, x, 'condition', rc.zones.dataZone));
      parts.push(`${e} IN (${chunk.join(', ')})`);
    }
  }
  if (v.hasNull) parts.push(`${e} IS NULL`);
  return `(${parts.join(' OR ')})`;
}

function renderRangeCondition(
  v: Extract<ResolvedVariable, { kind: 'instant_range' | 'day_range' | 'time_range' }>,
  e: string,
  selector: 'next' | 'previous' | undefined,
  rc: RenderContext,
): string {
  const dataZone = rc.zones.dataZone;
  if (v.kind === 'time_range') {
    let r: TimeOfDayRange | null = v.range;
    if (selector) r = r ? shiftTimeRange(r, selector === 'next' ? 1 : -1) : null;
    if (selector && !r) return '(1=0)';
    return renderTimeRange(r, e, rc);
  }
  let range: { start: number | null; endExclusive: number | null } | null = v.range;
  if (selector) {
    const dir = selector === 'next' ? 1 : -1;
    range = !range ? null : v.kind === 'instant_range' ? shiftInstantRange(range, dir, rc.zones.dashboardZone ?? dataZone) : shiftDayRange(range, dir);
    if (!range) return '(1=0)';
  }
  if (!range || (range.start === null && range.endExclusive === null)) return '(1=1)';
  const bound = (x: number): string =>
    v.kind === 'instant_range'
      ? bindTyped(rc.binder, 'DATE_TIME', x, 'condition', dataZone)
      : bindTyped(rc.binder, 'DATE', formatDate(dateOfDayNumber(x)), 'condition', dataZone);
  const parts: string[] = [];
  if (range.start !== null) parts.push(`${e} >= ${bound(range.start)}`);
  if (range.endExclusive !== null) parts.push(`${e} < ${bound(range.endExclusive)}`);
  return `(${parts.join(' AND ')})`;
}

/** Time-of-day ranges: `23:59:59` upper bound → no upper bound; start after end → wraps midnight (OR). */
function renderTimeRange(r: TimeOfDayRange | null, e: string, rc: RenderContext): string {
  if (!r) return '(1=1)';
  const t = (s: number): string => bindTyped(rc.binder, 'TIME', s, 'condition', rc.zones.dataZone);
  const hasEnd = r.endExclusive !== null && r.endExclusive < 86400;
  if (r.start === null) return hasEnd ? `(${e} < ${t(r.endExclusive!)})` : '(1=1)';
  if (!hasEnd) return `(${e} >= ${t(r.start)})`;
  if (r.start < r.endExclusive!) return `(${e} >= ${t(r.start)} AND ${e} < ${t(r.endExclusive!)})`;
  return `(${e} >= ${t(r.start)} OR ${e} < ${t(r.endExclusive!)})`;
}

function renderValueSelector(v: ResolvedVariable, selector: string, bare: boolean, rc: RenderContext, fail: (m: string) => never, what: string): string {
  const dataZone = rc.zones.dataZone;
  const notFor = (): never => fail(`${what} has no '.${selector}' value`);
  switch (v.kind) {
    case 'list': {
      const simple = v.control === 'checkbox' || v.control === 'checkbox_two_way' || v.control === 'date' || v.control === 'time' || v.control === 'date_time';
      if (simple && selector !== 'value' && selector !== 'selected') notFor();
      switch (selector) {
        case 'value':
          if (v.multi)
            fail(
              `${bare ? `{${v.name}} means {${v.name}.value}, which ` : '.value '}is only available for single-select filters; ${what} is multi-select (use .values, .min, .max or .count)`,
            );
          return v.values.length === 0 ? 'NULL' : bindTyped(rc.binder, v.valueType, v.values[0]!, 'value', dataZone);
        case 'selected':
          return v.values.length > 0 || v.hasNull ? 'TRUE' : 'FALSE';
        case 'count':
          return String(v.values.length + (v.hasNull ? 1 : 0));
        case 'min':
        case 'max': {
          const picked = pickExtreme(v.values, v.valueType === 'TEXT', selector === 'min');
          return picked === undefined ? 'NULL' : bindTyped(rc.binder, v.valueType, picked, 'value', dataZone);
        }
        case 'values':
          return v.values.length === 0 ? 'NULL' : v.values.map((x) => bindTyped(rc.binder, v.valueType, x, 'condition', dataZone)).join(', ');
        default:
          return notFor();
      }
    }
    case 'instant_range':
    case 'day_range':
    case 'time_range': {
      if (bare) fail(`range filters have no single value; use {${v.name}.start} / {${v.name}.end} or a condition {expr=${v.name}}`);
      const r = v.range;
      if (selector === 'selected') return r ? 'TRUE' : 'FALSE';
      if (selector !== 'start' && selector !== 'end') return notFor();
      const x = !r ? null : selector === 'start' ? r.start : r.endExclusive === null ? null : r.endExclusive - 1;
      if (x === null) return 'NULL';
      if (v.kind === 'instant_range') return bindTyped(rc.binder, 'DATE_TIME', x, 'value', dataZone);
      if (v.kind === 'day_range') return bindTyped(rc.binder, 'DATE', formatDate(dateOfDayNumber(x)), 'value', dataZone);
      return bindTyped(rc.binder, 'TIME', x, 'value', dataZone);
    }
    case 'aggregation':
      if (selector !== 'value') return notFor();
      // Inlined from the fixed whitelist, like the truncation SQL itself.
      return `'${v.option}'`;
    case 'tz':
      if (selector !== 'value') return notFor();
      return v.zone === null ? 'NULL' : sqlZoneLiteral(v.zone);
    case 'fixed_aggregation':
      return fail(`'${v.name}' is a fixed aggregation; use it as a transformation {expr:${v.name}}`);
  }
}

const NUMERIC_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Smallest/largest value: numeric when every TEXT value is numeric, else by code unit order. */
function pickExtreme(values: CanonicalValue[], isText: boolean, min: boolean): CanonicalValue | undefined {
  if (values.length === 0) return undefined;
  const numeric = !isText || values.every((x) => typeof x !== 'string' || NUMERIC_TEXT.test(x));
  const cmp = (a: CanonicalValue, b: CanonicalValue): number => {
    if (numeric && typeof a !== 'boolean' && typeof b !== 'boolean' && !/^\d{4}-/.test(String(a))) return Number(a) - Number(b);
    const sa = String(a);
    const sb = String(b);
    return sa < sb ? -1 : sa > sb ? 1 : 0;
  };
  return values.reduce((best, x) => ((min ? cmp(x, best) < 0 : cmp(x, best) > 0) ? x : best));
}
