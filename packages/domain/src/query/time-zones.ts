import { QueryCompileError } from './query-compile-error.js';

/**
 * Time-zone helpers built on `Intl.DateTimeFormat` (no dependency). Instants are epoch seconds;
 * wall times are calendar fields in a zone.
 */

/** Calendar fields of a wall-clock time (month 1–12, weekday 0 = Monday … 6 = Sunday). */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Smallest/largest instant accepted anywhere (0001-01-01T00:00:00Z … 9999-12-31T23:59:59Z). */
export const MIN_EPOCH = -62135596800;
export const MAX_EPOCH = 253402300799;

let zoneSet: Set<string> | undefined;
const ZONE_NAME = /^[A-Z][A-Za-z0-9_+-]*(?:\/[A-Z0-9][A-Za-z0-9_+-]*){0,2}$/;
const aliasCache = new Map<string, boolean>();

/**
 * True if `name` is `UTC`, one of `Intl.supportedValuesOf('timeZone')`, or an IANA alias that ICU
 * resolves (e.g. `Asia/Kolkata`, `Europe/Kyiv`, `Etc/UTC`: Node lists only ICU's canonical spelling).
 * Aliases must look like IANA names (`Area/Location`, segments starting upper-case, only
 * `[A-Za-z0-9_+-]`), so nothing else can ever be emitted as a zone literal.
 */
export function isValidTimeZone(name: unknown): name is string {
  if (typeof name !== 'string') return false;
  zoneSet ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC']);
  if (zoneSet.has(name)) return true;
  if (name.length > 64 || !ZONE_NAME.test(name)) return false;
  let ok = aliasCache.get(name);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: name });
      ok = true;
    } catch {
      ok = false;
    }
    if (aliasCache.size < 1000) aliasCache.set(name, ok);
  }
  return ok;
}

/**
 * Validates a zone name.
 * @param what what the zone is, for the message (e.g. `tz`)
 * @throws QueryCompileError if it is not a supported IANA zone name
 */
export function assertTimeZone(name: unknown, what: string): string {
  if (!isValidTimeZone(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name) : typeof name;
    throw new QueryCompileError(`${what} must be an IANA time zone name such as 'Europe/Berlin', got ${shown}`, null, { field: what });
  }
  return name;
}

/**
 * The zone name as a SQL string literal. Only ever called with validated names; the character check
 * is a second line of defence so that no input can reach SQL text.
 * @throws Error if the name was not validated (programming error)
 */
export function sqlZoneLiteral(zone: string): string {
  if (!isValidTimeZone(zone) || !/^[A-Za-z0-9/_+-]+$/.test(zone)) throw new Error(`unvalidated time zone ${zone}`);
  return `'${zone}'`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Wall time of the instant `epochSeconds` in `zone`. */
export function wallFromEpoch(epochSeconds: number, zone: string): WallTime {
  if (zone === 'UTC') return wallFromUtcSeconds(epochSeconds);
  const parts = formatterFor(zone).formatToParts(new Date(epochSeconds * 1000));
  const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value);
  const era = parts.find((p) => p.type === 'era')?.value;
  const y = get('year');
  return {
    year: era === 'BC' || era === 'B' ? 1 - y : y,
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
  };
}

/** Wall fields of `seconds` interpreted as UTC (also used for calendar arithmetic). */
export function wallFromUtcSeconds(seconds: number): WallTime {
  const d = new Date(seconds * 1000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

/** Seconds of the wall time read as if it were UTC; fields may overflow (Date.UTC normalises). */
export function utcSecondsOfWall(w: WallTime): number {
  const d = new Date(0);
  d.setUTCFullYear(w.year, w.month - 1, w.day);
  d.setUTCHours(w.hour, w.minute, w.second, 0);
  return Math.floor(d.getTime() / 1000);
}

/** UTC offset of `zone` at the instant, in seconds (east positive). */
function zoneOffsetSeconds(zone: string, epochSeconds: number): number {
  return utcSecondsOfWall(wallFromEpoch(epochSeconds, zone)) - epochSeconds;
}

/**
 * The instant at which `zone` shows the wall time `w`. Ambiguous wall times (DST fall-back) resolve to
 * the later instant (as PostgreSQL does); non-existent ones (spring-forward gap) use the offset in
 * force before the transition.
 */
export function epochFromWall(w: WallTime, zone: string): number {
  const local = utcSecondsOfWall(w);
  if (zone === 'UTC') return local;
  const before = zoneOffsetSeconds(zone, local - 43200);
  const after = zoneOffsetSeconds(zone, local + 43200);
  const candidates = [local - before, local - after].filter((t) => zoneOffsetSeconds(zone, t) === local - t);
  if (candidates.length === 0) return local - before;
  return Math.max(...candidates);
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `YYYY-MM-DD` of a wall time. */
export function formatDate(w: Pick<WallTime, 'year' | 'month' | 'day'>): string {
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
}

/** `HH:MM:SS` of seconds since midnight (0 … 86399). */
export function formatTimeOfDay(seconds: number): string {
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
}

/** `YYYY-MM-DDTHH:MM:SS` (or with a space separator) of a wall time. */
export function formatWall(w: WallTime, separator: 'T' | ' '): string {
  return `${formatDate(w)}${separator}${formatTimeOfDay(w.hour * 3600 + w.minute * 60 + w.second)}`;
}

/** Day number (days since 1970-01-01) of a calendar date. */
export function dayNumber(year: number, month: number, day: number): number {
  return Math.floor(utcSecondsOfWall({ year, month, day, hour: 0, minute: 0, second: 0 }) / 86400);
}

/** Calendar date of a day number. */
export function dateOfDayNumber(days: number): { year: number; month: number; day: number } {
  const w = wallFromUtcSeconds(days * 86400);
  return { year: w.year, month: w.month, day: w.day };
}

/** ISO weekday of a wall date: 0 = Monday … 6 = Sunday. */
export function weekdayMondayZero(w: Pick<WallTime, 'year' | 'month' | 'day'>): number {
  return (((dayNumber(w.year, w.month, w.day) + 3) % 7) + 7) % 7;
}
