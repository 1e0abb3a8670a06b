/**
 * Wall-clock arithmetic in IANA time zones at minute precision, built on `Intl.DateTimeFormat`
 * (no dependency). Schedules are written in wall time ("daily at 02:30 in Europe/Berlin"); these
 * helpers turn wall times into instants with an explicit rule for the two DST anomalies:
 * - a wall time that does not exist (spring-forward gap) resolves to the first minute after the gap;
 * - a wall time that exists twice (fall-back overlap) resolves to its earlier instant.
 */

/** A wall-clock minute: calendar date (month 1–12) and time of day. */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * The wall-clock minute `instant` shows in `timeZone` (seconds dropped).
 * @throws RangeError for a zone the runtime does not know
 */
export function toLocal(instant: Date, timeZone: string): LocalDateTime {
  if (timeZone === 'UTC') {
    return {
      year: instant.getUTCFullYear(),
      month: instant.getUTCMonth() + 1,
      day: instant.getUTCDate(),
      hour: instant.getUTCHours(),
      minute: instant.getUTCMinutes(),
    };
  }
  const out: LocalDateTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0 };
  for (const p of formatterFor(timeZone).formatToParts(instant)) {
    if (p.type === 'year' || p.type === 'month' || p.type === 'day' || p.type === 'hour' || p.type === 'minute') out[p.type] = Number(p.value);
  }
  return out;
}

/** Milliseconds of a wall time read as if it were UTC (fields may overflow: `day: 32` is the next month). */
function wallMs(local: LocalDateTime): number {
  return Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
}

/** The calendar date `days` after `local`'s date (time of day kept). */
export function addDays(local: LocalDateTime, days: number): LocalDateTime {
  const d = new Date(Date.UTC(local.year, local.month - 1, local.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: local.hour, minute: local.minute };
}

/** Day of week of a wall date: 0 = Monday … 6 = Sunday (the contract's convention, §4.8). */
export function weekdayMondayZero(local: Pick<LocalDateTime, 'year' | 'month' | 'day'>): number {
  const sundayZero = new Date(Date.UTC(local.year, local.month - 1, local.day)).getUTCDay();
  return (sundayZero + 6) % 7;
}

/** Number of days in a month (month 1–12). */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Offset of `timeZone` from UTC at `ms`, in milliseconds, at minute precision. */
function offsetMs(timeZone: string, ms: number): number {
  const instant = new Date(Math.floor(ms / MINUTE_MS) * MINUTE_MS);
  return wallMs(toLocal(instant, timeZone)) - instant.getTime();
}

function sameMinute(a: LocalDateTime, b: LocalDateTime): boolean {
  return a.year === b.year && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute;
}

/**
 * The instant at which `timeZone` shows the wall minute `local`.
 * - Exists once: that instant.
 * - Exists twice (fall-back): the earlier instant, so a schedule fires once, at the first pass.
 * - Does not exist (spring-forward gap): the first minute after the gap (02:30 on a day whose clocks
 *   jump from 02:00 to 03:00 → 03:00).
 * @throws RangeError for a zone the runtime does not know
 */
export function fromLocal(local: LocalDateTime, timeZone: string): Date {
  const wall = wallMs(local);
  if (timeZone === 'UTC') return new Date(wall);
  // Offsets a day before and after cover every transition near this wall time (offsets are < 1 day).
  const candidates = [...new Set([wall - offsetMs(timeZone, wall - DAY_MS), wall - offsetMs(timeZone, wall + DAY_MS), wall - offsetMs(timeZone, wall)])];
  const valid = candidates.filter((t) => sameMinute(toLocal(new Date(t), timeZone), local)).sort((a, b) => a - b);
  if (valid.length) return new Date(valid[0]!);
  // In a gap: the first minute whose wall time is at or after the wanted one. The wall clock is
  // monotonic across a forward jump, so a binary search between the candidates finds it.
  let lo = Math.min(...candidates);
  let hi = Math.max(...candidates);
  lo = Math.floor(lo / MINUTE_MS) * MINUTE_MS;
  hi = Math.ceil(hi / MINUTE_MS) * MINUTE_MS;
  if (wallMs(toLocal(new Date(hi), timeZone)) < wall) return new Date(hi);
  while (hi - lo > MINUTE_MS) {
    const mid = lo + Math.floor((hi - lo) / MINUTE_MS / 2) * MINUTE_MS;
    if (wallMs(toLocal(new Date(mid), timeZone)) >= wall) hi = mid;
    else lo = mid;
  }
  return new Date(hi);
}
