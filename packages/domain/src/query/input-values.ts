import { QueryCompileError, type QueryErrorLocation } from './query-compile-error.js';
import type { FilterValueType, SqlDialect } from './query.types.js';
import { MAX_EPOCH, MIN_EPOCH, dayNumber, epochFromWall } from './time-zones.js';

/** A raw item of `selected_values` / `default_values`. */
export type RawValue = string | number | boolean | null;

/**
 * Canonical, validated value of a filter input:
 * TEXT → string; NUMBER → plain decimal string (no exponent); BOOLEAN → boolean;
 * DATE → `YYYY-MM-DD`; TIME → seconds since midnight; DATE_TIME → epoch seconds.
 */
export type CanonicalValue = string | number | boolean;

/** Context for value validation messages and zone-dependent parsing. */
export interface ValueContext {
  variable: string;
  /** Zone in which local date-times (`YYYY-MM-DDTHH:MM:SS`) are read. */
  zone: string;
  dialect: SqlDialect;
  location?: QueryErrorLocation | null;
}

const NUMBER_RE = /^([+-]?)(\d+)?(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{2}):(\d{2})(?::(\d{2}))?$/;
const DATE_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;
const EPOCH_RE = /^-?\d{1,12}$/;
const MAX_TEXT_LENGTH = 1_000_000;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function fail(ctx: ValueContext, message: string): never {
  throw new QueryCompileError(`Filter '${ctx.variable}': ${message}`, ctx.location ?? null, { variable: ctx.variable });
}

function show(raw: RawValue): string {
  if (typeof raw !== 'string') return JSON.stringify(raw);
  return JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
}

/**
 * Validates one input item for a value type and returns its canonical form (`null` stays `null`).
 * @throws QueryCompileError if the item is not valid for the value type
 */
export function normalizeValue(raw: RawValue, valueType: FilterValueType, ctx: ValueContext): CanonicalValue | null {
  if (raw === null) return null;
  if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
    fail(ctx, `selected values must be strings, numbers, booleans or null, got ${typeof raw}`);
  }
  if (typeof raw === 'number' && !Number.isFinite(raw)) fail(ctx, `${String(raw)} is not a finite number`);
  switch (valueType) {
    case 'TEXT': {
      const text = typeof raw === 'string' ? raw : String(raw);
      assertCleanText(text, ctx);
      return text;
    }
    case 'NUMBER':
      if (typeof raw === 'boolean') fail(ctx, `${show(raw)} is not a NUMBER`);
      return canonicalNumber(String(raw), ctx);
    case 'BOOLEAN':
      if (raw === true || raw === 'true') return true;
      if (raw === false || raw === 'false') return false;
      return fail(ctx, `${show(raw)} is not a BOOLEAN (true or false)`);
    case 'DATE':
      if (typeof raw !== 'string') fail(ctx, `${show(raw)} is not a DATE (YYYY-MM-DD)`);
      return parseDate(raw, ctx);
    case 'TIME':
      if (typeof raw !== 'string') fail(ctx, `${show(raw)} is not a TIME (HH:MM:SS)`);
      return parseTime(raw, ctx);
    case 'DATE_TIME':
      return parseDateTime(raw, ctx);
  }
}

/**
 * Rejects text that cannot be sent safely: NUL characters, lone UTF-16 surrogates, > 1,000,000 chars.
 * @throws QueryCompileError
 */
function assertCleanText(text: string, ctx: ValueContext): void {
  if (text.includes('\u0000')) fail(ctx, 'values must not contain the NUL character (U+0000)');
  if (LONE_SURROGATE.test(text)) fail(ctx, 'values must be well-formed Unicode (no lone surrogates)');
  if (text.length > MAX_TEXT_LENGTH) fail(ctx, `values must not be longer than ${MAX_TEXT_LENGTH} characters`);
}

/**
 * Canonical plain decimal string of a number text (`1e3` → `1000`, `-0.50` → `-0.5`, `+.5` → `0.5`).
 * MySQL binds go through `DECIMAL(65,30)`, so there at most 35 integer and 30 fraction digits are allowed.
 * @throws QueryCompileError if the text is not a number or out of range
 */
function canonicalNumber(text: string, ctx: ValueContext): string {
  const m = NUMBER_RE.exec(text.trim());
  if (!m || (m[2] === undefined && (m[3] === undefined || m[3] === ''))) fail(ctx, `${show(text)} is not a NUMBER`);
  const exp = m[4] === undefined ? 0 : Number(m[4]);
  if (Math.abs(exp) > 400) fail(ctx, `${show(text)} is out of range`);
  let digits = (m[2] ?? '') + (m[3] ?? '');
  let point = (m[2] ?? '').length + exp;
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  if (point > digits.length) digits += '0'.repeat(point - digits.length);
  let intPart = digits.slice(0, point).replace(/^0+/, '') || '0';
  const fracPart = digits.slice(point).replace(/0+$/, '');
  if (ctx.dialect === 'mysql' && (intPart.length > 35 || fracPart.length > 30)) {
    fail(ctx, `${show(text)} is out of the supported range (at most 35 integer and 30 fraction digits)`);
  }
  if (intPart.length > 1000 || fracPart.length > 1000) fail(ctx, `${show(text)} is out of range`);
  const negative = m[1] === '-' && (intPart !== '0' || fracPart !== '');
  intPart = `${negative ? '-' : ''}${intPart}`;
  return fracPart ? `${intPart}.${fracPart}` : intPart;
}

/** True if `y-m-d` is a real calendar date (year 1 … 9999). */
function isCalendarDate(y: number, m: number, d: number): boolean {
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return d <= days[m - 1]!;
}

/**
 * Validates `YYYY-MM-DD`.
 * @throws QueryCompileError
 */
function parseDate(text: string, ctx: ValueContext): string {
  const m = DATE_RE.exec(text);
  if (!m || !isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]))) fail(ctx, `${show(text)} is not a DATE (YYYY-MM-DD)`);
  return text;
}

/**
 * Parses `HH:MM:SS` or `HH:MM` to seconds since midnight.
 * @throws QueryCompileError
 */
function parseTime(text: string, ctx: ValueContext): number {
  const m = TIME_RE.exec(text);
  const h = Number(m?.[1]);
  const mi = Number(m?.[2]);
  const s = Number(m?.[3] ?? 0);
  if (!m || h > 23 || mi > 59 || s > 59) fail(ctx, `${show(text)} is not a TIME (HH:MM:SS)`);
  return h * 3600 + mi * 60 + s;
}

/**
 * Parses a DATE_TIME input: unix seconds (integer or integer string) or a local
 * `YYYY-MM-DDTHH:MM[:SS]` wall time in `ctx.zone`. Returns epoch seconds.
 * @throws QueryCompileError
 */
export function parseDateTime(raw: RawValue, ctx: ValueContext): number {
  if (typeof raw === 'number' || (typeof raw === 'string' && EPOCH_RE.test(raw))) {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < MIN_EPOCH || n > MAX_EPOCH) fail(ctx, `${show(raw)} is not a valid unix time in seconds`);
    return n;
  }
  if (typeof raw === 'string') {
    const m = DATE_TIME_RE.exec(raw);
    if (m) {
      const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
      if (isCalendarDate(y, mo, d) && h <= 23 && mi <= 59 && s <= 59) {
        return epochFromWall({ year: y, month: mo, day: d, hour: h, minute: mi, second: s }, ctx.zone);
      }
    }
  }
  return fail(ctx, `${show(raw)} is not a DATE_TIME (unix seconds or YYYY-MM-DDTHH:MM:SS)`);
}

/** Day number of a canonical `YYYY-MM-DD` date. */
export function dayNumberOfDate(date: string): number {
  return dayNumber(Number(date.slice(0, 4)), Number(date.slice(5, 7)), Number(date.slice(8, 10)));
}
