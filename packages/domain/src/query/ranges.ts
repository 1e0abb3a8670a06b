import { QueryCompileError, type QueryErrorLocation } from './query-compile-error.js';
import { normalizeValue, parseDateTime, dayNumberOfDate, type RawValue, type ValueContext } from './input-values.js';
import type { FilterDefinition } from './query.types.js';
import {
  assertTimeZone,
  MAX_EPOCH,
  MIN_EPOCH,
  dayNumber,
  epochFromWall,
  utcSecondsOfWall,
  wallFromEpoch,
  wallFromUtcSeconds,
  weekdayMondayZero,
  type WallTime,
} from './time-zones.js';

/** Units of relative range encodings. */
export type RangeUnit = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year';

/** A relative range encoding (`7_full_day`, `7_day`, `thisfull_week`, `this_month`, `previous_year`). */
export interface RelativeRange {
  form: 'last_full' | 'last' | 'this_full' | 'this' | 'previous';
  count: number;
  unit: RangeUnit;
}

/** Half-open instant interval in epoch seconds; `null` = unbounded on that side. */
export interface InstantRange {
  start: number | null;
  endExclusive: number | null;
}

/** Half-open interval of day numbers (days since 1970-01-01); `null` = unbounded. */
export interface DayRange {
  start: number | null;
  endExclusive: number | null;
}

/** Half-open time-of-day interval in seconds since midnight (end 1 … 86400); may wrap past midnight. */
export interface TimeOfDayRange {
  start: number | null;
  endExclusive: number | null;
}

const RELATIVE_RE = /^(?:([1-9]\d{0,5})_full_|([1-9]\d{0,5})_|(thisfull)_|(this)_|(previous)_)(minute|hour|day|week|month|quarter|year)$/;
const EPOCH_RE = /^-?\d+$/;

/** Parses a relative encoding, or returns null if `text` is not one. */
export function parseRelativeRange(text: string): RelativeRange | null {
  const m = RELATIVE_RE.exec(text);
  if (!m) return null;
  const unit = m[6] as RangeUnit;
  if (m[1]) return { form: 'last_full', count: Number(m[1]), unit };
  if (m[2]) return { form: 'last', count: Number(m[2]), unit };
  if (m[3]) return { form: 'this_full', count: 1, unit };
  if (m[4]) return { form: 'this', count: 1, unit };
  return { form: 'previous', count: 1, unit };
}

const FIXED_SECONDS: Partial<Record<RangeUnit, number>> = { minute: 60, hour: 3600, day: 86400, week: 604800 };
const MONTHS: Partial<Record<RangeUnit, number>> = { month: 1, quarter: 3, year: 12 };

function normalizeWall(w: WallTime): WallTime {
  return wallFromUtcSeconds(utcSecondsOfWall(w));
}

/** Start (epoch) of the unit containing `nowS`, moved by `k` units, in `zone`. */
function unitStart(nowS: number, unit: RangeUnit, k: number, zone: string): number {
  const w = wallFromEpoch(nowS, zone);
  switch (unit) {
    case 'minute':
      return epochFromWall({ ...w, second: 0 }, zone) + 60 * k;
    case 'hour':
      return epochFromWall({ ...w, minute: 0, second: 0 }, zone) + 3600 * k;
    case 'day':
      return epochFromWall(normalizeWall({ ...w, day: w.day + k, hour: 0, minute: 0, second: 0 }), zone);
    case 'week':
      return epochFromWall(normalizeWall({ ...w, day: w.day - weekdayMondayZero(w) + 7 * k, hour: 0, minute: 0, second: 0 }), zone);
    case 'month':
      return epochFromWall(normalizeWall({ ...w, month: w.month + k, day: 1, hour: 0, minute: 0, second: 0 }), zone);
    case 'quarter': {
      const q = Math.floor((w.month - 1) / 3) * 3 + 1;
      return epochFromWall(normalizeWall({ ...w, month: q + 3 * k, day: 1, hour: 0, minute: 0, second: 0 }), zone);
    }
    case 'year':
      return epochFromWall(normalizeWall({ ...w, year: w.year + k, month: 1, day: 1, hour: 0, minute: 0, second: 0 }), zone);
  }
}

/** Adds calendar months to an instant's wall time in `zone` (day clamped to the month's end). */
function addMonths(epoch: number, months: number, zone: string): number {
  const w = wallFromEpoch(epoch, zone);
  const first = normalizeWall({ ...w, month: w.month + months, day: 1 });
  const lastDay = wallFromUtcSeconds(utcSecondsOfWall({ ...first, month: first.month + 1, day: 0 })).day;
  return epochFromWall({ ...first, day: Math.min(w.day, lastDay) }, zone);
}

/**
 * Resolves a relative range at `nowS` in `zone` (weeks start on Monday, calendar quarters):
 * `n_full_u` = the current unit through its end plus the n−1 previous units; `n_u` = from n units ago
 * through the current second (minute/hour/day/week as fixed durations, month/quarter/year by
 * calendar); `thisfull_u` = the whole current unit; `this_u` = start of the unit through the current
 * second; `previous_u` = the whole unit before the current one.
 */
export function resolveRelativeRange(rel: RelativeRange, nowS: number, zone: string): { start: number; endExclusive: number } {
  const { unit, count } = rel;
  const years = (count * (FIXED_SECONDS[unit] ?? 0)) / (365 * 86400) + (count * (MONTHS[unit] ?? 0)) / 12;
  if (years > 8000) throw new QueryCompileError(`The relative range ${count} ${unit}(s) reaches beyond the supported years 1 … 9999`);
  switch (rel.form) {
    case 'last_full':
      return { start: unitStart(nowS, unit, -(count - 1), zone), endExclusive: unitStart(nowS, unit, 1, zone) };
    case 'last': {
      const fixed = FIXED_SECONDS[unit];
      const start = fixed !== undefined ? nowS - count * fixed : addMonths(nowS, -count * MONTHS[unit]!, zone);
      return { start, endExclusive: nowS + 1 };
    }
    case 'this_full':
      return { start: unitStart(nowS, unit, 0, zone), endExclusive: unitStart(nowS, unit, 1, zone) };
    case 'this':
      return { start: unitStart(nowS, unit, 0, zone), endExclusive: nowS + 1 };
    case 'previous':
      return { start: unitStart(nowS, unit, -1, zone), endExclusive: unitStart(nowS, unit, 0, zone) };
  }
}

function checkEpochRange(r: InstantRange, fail: (m: string) => never): InstantRange {
  for (const v of [r.start, r.endExclusive]) {
    if (v !== null && (!Number.isFinite(v) || v < MIN_EPOCH || v > MAX_EPOCH + 1)) fail('the range is outside the supported years 1 … 9999');
  }
  return r;
}

/**
 * Parses the built-in `timerange` input: `S~E` (unix seconds, both optional and inclusive, `~` =
 * unbounded) or a relative encoding (`7_full_day`, `7_day`, `thisfull_week`, `this_month`,
 * `previous_quarter`; units minute … year) resolved at `now` in `zone`. The empty string means
 * unbounded.
 * @returns epoch seconds, `endExclusive` = inclusive end + 1 second
 * @throws QueryCompileError if malformed, fractional, out of range, or start > end
 */
export function parseTimerange(text: string, now: Date, zone: string, location?: QueryErrorLocation | null): InstantRange {
  const fail = (message: string): never => {
    const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
    throw new QueryCompileError(`Invalid timerange ${JSON.stringify(shown)}: ${message}`, location ?? null, { field: 'timerange' });
  };
  if (typeof text !== 'string') return fail('must be a string');
  assertTimeZone(zone, 'time zone');
  if (text === '') return { start: null, endExclusive: null };
  const rel = parseRelativeRange(text);
  if (rel) return checkEpochRange(resolveRelativeRange(rel, Math.floor(now.getTime() / 1000), zone), fail);
  const parts = text.split('~');
  if (parts.length !== 2) return fail("expected '<start>~<end>' in unix seconds (either side optional) or a relative range such as '7_full_day'");
  const [s, e] = parts as [string, string];
  for (const side of [s, e]) if (side !== '' && (!EPOCH_RE.test(side) || side.length > 13)) fail('bounds must be integers (unix seconds)');
  const start = s === '' ? null : Number(s);
  const end = e === '' ? null : Number(e);
  if (start !== null && end !== null && start > end) fail('start is after end');
  return checkEpochRange({ start, endExclusive: end === null ? null : end + 1 }, fail);
}

/**
 * The range right after (`dir` = 1) or before (`dir` = -1) a bounded instant range. If the range spans
 * N whole calendar months in `zone` (both bounds on the 1st at 00:00:00), the neighbour spans the N
 * adjacent whole months; otherwise the interval is shifted by its own length. Unbounded → null.
 */
export function shiftInstantRange(r: InstantRange, dir: 1 | -1, zone: string): { start: number; endExclusive: number } | null {
  if (r.start === null || r.endExclusive === null) return null;
  const a = wallFromEpoch(r.start, zone);
  const b = wallFromEpoch(r.endExclusive, zone);
  const isMonthStart = (w: WallTime): boolean => w.day === 1 && w.hour === 0 && w.minute === 0 && w.second === 0;
  const months = (b.year - a.year) * 12 + (b.month - a.month);
  if (isMonthStart(a) && isMonthStart(b) && months > 0) {
    return dir === 1
      ? { start: r.endExclusive, endExclusive: addMonths(r.endExclusive, months, zone) }
      : { start: addMonths(r.start, -months, zone), endExclusive: r.start };
  }
  const len = r.endExclusive - r.start;
  return dir === 1 ? { start: r.endExclusive, endExclusive: r.endExclusive + len } : { start: r.start - len, endExclusive: r.start };
}

/** Day-range analogue of `shiftInstantRange` (whole months → whole months, else shift by length). */
export function shiftDayRange(r: DayRange, dir: 1 | -1): { start: number; endExclusive: number } | null {
  if (r.start === null || r.endExclusive === null) return null;
  const a = wallFromUtcSeconds(r.start * 86400);
  const b = wallFromUtcSeconds(r.endExclusive * 86400);
  const months = (b.year - a.year) * 12 + (b.month - a.month);
  if (a.day === 1 && b.day === 1 && months > 0) {
    const shift = (d: number, m: number): number => Math.floor(addMonths(d * 86400, m, 'UTC') / 86400);
    return dir === 1 ? { start: r.endExclusive, endExclusive: shift(r.endExclusive, months) } : { start: shift(r.start, -months), endExclusive: r.start };
  }
  const len = r.endExclusive - r.start;
  return dir === 1 ? { start: r.endExclusive, endExclusive: r.endExclusive + len } : { start: r.start - len, endExclusive: r.start };
}

/**
 * Time-of-day analogue: shifts a bounded time range by its own length (modulo 24 h). A range covering
 * the whole day stays the whole day. Unbounded → null.
 */
export function shiftTimeRange(r: TimeOfDayRange, dir: 1 | -1): { start: number; endExclusive: number } | null {
  if (r.start === null || r.endExclusive === null) return null;
  let len = (((r.endExclusive - r.start) % 86400) + 86400) % 86400;
  if (len === 0) len = 86400;
  const mod = (x: number): number => ((x % 86400) + 86400) % 86400;
  const start = dir === 1 ? mod(r.endExclusive) : mod(r.start - len);
  const end = mod(start + len);
  return { start, endExclusive: end === 0 ? 86400 : end };
}

interface RangeConfigFlags {
  relativeRangeEnabled?: boolean;
  beforeRangeEnabled?: boolean;
  afterRangeEnabled?: boolean;
  fromToRangeEnabled?: boolean;
}

/** Splits a custom range filter input into its two sides or a relative encoding. */
function splitRangeInput(values: RawValue[], ctx: ValueContext, expect: string): { rel: RelativeRange } | { start: RawValue; end: RawValue } | null {
  const fail = (m: string): never => {
    throw new QueryCompileError(`Filter '${ctx.variable}': ${m}`, ctx.location ?? null, { variable: ctx.variable });
  };
  if (values.length === 0) return null;
  if (values.length === 1) {
    const v = values[0];
    if (typeof v !== 'string') return fail(`expected ["<start>~<end>"], a relative range or [start, end] (${expect})`);
    const rel = parseRelativeRange(v);
    if (rel) return { rel };
    const parts = v.split('~');
    if (parts.length !== 2) return fail(`expected "<start>~<end>" (${expect}) or a relative range such as "7_full_day"`);
    return { start: parts[0] === '' ? null : parts[0]!, end: parts[1] === '' ? null : parts[1]! };
  }
  if (values.length === 2) return { start: values[0]!, end: values[1]! };
  return fail(`a range takes at most two values (start and end), got ${values.length}`);
}

function checkRangeConfig(def: RangeConfigFlags, hasStart: boolean, hasEnd: boolean, relative: boolean, ctx: ValueContext): void {
  const fail = (m: string): never => {
    throw new QueryCompileError(`Filter '${ctx.variable}': ${m}`, ctx.location ?? null, { variable: ctx.variable });
  };
  if (relative && def.relativeRangeEnabled === false) fail('relative ranges are not enabled for this filter');
  if (!relative) {
    if (!hasStart && hasEnd && def.beforeRangeEnabled === false) fail('ranges without a start ("before") are not enabled for this filter');
    if (hasStart && !hasEnd && def.afterRangeEnabled === false) fail('ranges without an end ("after") are not enabled for this filter');
    if (hasStart && hasEnd && def.fromToRangeEnabled === false) fail('absolute from–to ranges are not enabled for this filter');
  }
}

function rangeError(ctx: ValueContext, m: string): never {
  throw new QueryCompileError(`Filter '${ctx.variable}': ${m}`, ctx.location ?? null, { variable: ctx.variable });
}

/**
 * Input of a `date_time_range` filter: `["S~E"]` (unix seconds or local `YYYY-MM-DDTHH:MM:SS` in the
 * operating zone, either side optional, inclusive), a relative encoding, or `[S|null, E|null]`.
 * `[]` / `["~"]` / `[null, null]` = no selection (null result).
 * @throws QueryCompileError
 */
export function parseInstantRangeInput(values: RawValue[], def: FilterDefinition, ctx: ValueContext, nowS: number): InstantRange | null {
  const parts = splitRangeInput(values, ctx, 'unix seconds or YYYY-MM-DDTHH:MM:SS');
  if (!parts) return null;
  if ('rel' in parts) {
    checkRangeConfig(def, true, true, true, ctx);
    return resolveRelativeRange(parts.rel, nowS, ctx.zone);
  }
  const start = parts.start === null ? null : parseDateTime(parts.start, ctx);
  const end = parts.end === null ? null : parseDateTime(parts.end, ctx);
  if (start === null && end === null) return null;
  checkRangeConfig(def, start !== null, end !== null, false, ctx);
  if (start !== null && end !== null && start > end) rangeError(ctx, 'start is after end');
  return { start, endExclusive: end === null ? null : end + 1 };
}

/**
 * Input of a `date_range` filter: `["YYYY-MM-DD~YYYY-MM-DD"]` (either side optional, inclusive; unix
 * seconds are also accepted and read as the date in the operating zone), `[start|null, end|null]`, or a
 * relative encoding with a unit of day or coarser (resolved in the operating zone).
 * @throws QueryCompileError
 */
export function parseDayRangeInput(values: RawValue[], def: FilterDefinition, ctx: ValueContext, nowS: number): DayRange | null {
  const parts = splitRangeInput(values, ctx, 'YYYY-MM-DD');
  if (!parts) return null;
  const dayOfEpoch = (epoch: number): number => {
    const w = wallFromEpoch(epoch, ctx.zone);
    return dayNumber(w.year, w.month, w.day);
  };
  if ('rel' in parts) {
    if (parts.rel.unit === 'minute' || parts.rel.unit === 'hour') rangeError(ctx, 'date ranges only accept relative units of a day or coarser');
    checkRangeConfig(def, true, true, true, ctx);
    const r = resolveRelativeRange(parts.rel, nowS, ctx.zone);
    return { start: dayOfEpoch(r.start), endExclusive: dayOfEpoch(r.endExclusive - 1) + 1 };
  }
  const side = (v: RawValue): number | null => {
    if (v === null) return null;
    if (typeof v === 'number' || (typeof v === 'string' && EPOCH_RE.test(v))) return dayOfEpoch(parseDateTime(v, ctx));
    return dayNumberOfDate(normalizeValue(v, 'DATE', ctx) as string);
  };
  const start = side(parts.start);
  const end = side(parts.end);
  if (start === null && end === null) return null;
  checkRangeConfig(def, start !== null, end !== null, false, ctx);
  if (start !== null && end !== null && start > end) rangeError(ctx, 'start is after end');
  return { start, endExclusive: end === null ? null : end + 1 };
}

/**
 * Input of a `time_range` filter: `["HH:MM:SS~HH:MM:SS"]` (either side optional, inclusive; start may
 * be after end = crossing midnight), `[start|null, end|null]`, or a relative encoding with unit minute
 * or hour (resolved in the operating zone; spans of 24 h or more mean the whole day).
 * @throws QueryCompileError
 */
export function parseTimeRangeInput(values: RawValue[], def: FilterDefinition, ctx: ValueContext, nowS: number): TimeOfDayRange | null {
  const parts = splitRangeInput(values, ctx, 'HH:MM:SS');
  if (!parts) return null;
  if ('rel' in parts) {
    if (parts.rel.unit !== 'minute' && parts.rel.unit !== 'hour') rangeError(ctx, 'time-of-day ranges only accept relative units minute and hour');
    checkRangeConfig(def, true, true, true, ctx);
    const r = resolveRelativeRange(parts.rel, nowS, ctx.zone);
    if (r.endExclusive - r.start >= 86400) return null;
    const tod = (epoch: number): number => {
      const w = wallFromEpoch(epoch, ctx.zone);
      return w.hour * 3600 + w.minute * 60 + w.second;
    };
    return { start: tod(r.start), endExclusive: tod(r.endExclusive - 1) + 1 };
  }
  const start = parts.start === null ? null : (normalizeValue(parts.start, 'TIME', ctx) as number);
  const end = parts.end === null ? null : (normalizeValue(parts.end, 'TIME', ctx) as number);
  if (start === null && end === null) return null;
  checkRangeConfig(def, start !== null, end !== null, false, ctx);
  return { start, endExclusive: end === null ? null : end + 1 };
}
