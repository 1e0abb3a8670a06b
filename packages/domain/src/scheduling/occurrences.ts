import type { Recurrence, TimeOfDay } from './schedule-grammar.js';
import { addDays, daysInMonth, fromLocal, toLocal, weekdayMondayZero, type LocalDateTime } from './zoned-time.js';

const MINUTE_MS = 60_000;

/** True when the recurrence fires on this wall date. A monthly day past the month's end means its last day. */
function firesOn(rec: Exclude<Recurrence, { kind: 'disabled' } | { kind: 'every' }>, date: LocalDateTime): boolean {
  switch (rec.kind) {
    case 'daily':
      return true;
    case 'weekly':
      return rec.days.includes(weekdayMondayZero(date));
    case 'monthly': {
      const last = daysInMonth(date.year, date.month);
      return rec.days.some((d) => Math.min(d, last) === date.day);
    }
  }
}

/** Instants of one wall date's times (DST rules of `fromLocal`), ascending and distinct. */
function instantsOn(times: TimeOfDay[], date: LocalDateTime, timeZone: string): number[] {
  const out = new Set<number>();
  for (const t of times) out.add(fromLocal({ year: date.year, month: date.month, day: date.day, hour: t.hour, minute: t.minute }, timeZone).getTime());
  return [...out].sort((a, b) => a - b);
}

/** How many wall dates to scan before giving up (a monthly schedule fires at least every 31 days). */
function scanDays(rec: Recurrence): number {
  return rec.kind === 'monthly' ? 64 : rec.kind === 'weekly' ? 9 : 3;
}

/**
 * The first time `rec` is due strictly after `after`, evaluated in `timeZone`: wall times that a
 * spring-forward gap skips fire at the first minute after the gap; wall times a fall-back repeats
 * fire once, at their first pass. Seconds of `after` count (a due time equal to `after` is not after it).
 * @returns null for `disabled`
 */
export function nextOccurrence(rec: Recurrence, after: Date, timeZone: string): Date | null {
  if (rec.kind === 'disabled') return null;
  const afterMs = after.getTime();
  if (rec.kind === 'every') {
    const step = rec.minutes * MINUTE_MS;
    return new Date((Math.floor(afterMs / step) + 1) * step);
  }
  // Start a day early: a gap at the start of the local day can move a time of yesterday's list later.
  const start = toLocal(after, timeZone);
  let best: number | undefined;
  let foundOn: number | undefined;
  for (let i = -1; i <= scanDays(rec); i++) {
    // Instants of later dates are later (a DST shift is far smaller than a day): one date past the
    // first hit settles the minimum.
    if (foundOn !== undefined && i > foundOn + 1) break;
    const date = addDays(start, i);
    if (!firesOn(rec, date)) continue;
    for (const t of instantsOn(rec.times, date, timeZone)) {
      if (t > afterMs && (best === undefined || t < best)) {
        best = t;
        foundOn ??= i;
      }
    }
  }
  return best === undefined ? null : new Date(best);
}

/**
 * The last time `rec` was due at or before `at` (the due time a catch-up run after downtime stands
 * for); same DST rules as `nextOccurrence`.
 * @returns null for `disabled`, or when it never fired in the scanned window
 */
export function lastOccurrenceAtOrBefore(rec: Recurrence, at: Date, timeZone: string): Date | null {
  if (rec.kind === 'disabled') return null;
  const atMs = at.getTime();
  if (rec.kind === 'every') {
    const step = rec.minutes * MINUTE_MS;
    return new Date(Math.floor(atMs / step) * step);
  }
  const start = toLocal(at, timeZone);
  let best: number | undefined;
  let foundOn: number | undefined;
  for (let i = 1; i >= -scanDays(rec); i--) {
    if (foundOn !== undefined && i < foundOn - 1) break;
    const date = addDays(start, i);
    if (!firesOn(rec, date)) continue;
    for (const t of instantsOn(rec.times, date, timeZone)) {
      if (t <= atMs && (best === undefined || t > best)) {
        best = t;
        foundOn ??= i;
      }
    }
  }
  return best === undefined ? null : new Date(best);
}

/**
 * Every due time in `(from, to]`, ascending (for previews and replay tests).
 * @param limit most occurrences returned
 */
export function occurrencesBetween(rec: Recurrence, from: Date, to: Date, timeZone: string, limit = 10_000): Date[] {
  const out: Date[] = [];
  let cursor = from;
  while (out.length < limit) {
    const next = nextOccurrence(rec, cursor, timeZone);
    if (!next || next.getTime() > to.getTime()) break;
    out.push(next);
    cursor = next;
  }
  return out;
}
