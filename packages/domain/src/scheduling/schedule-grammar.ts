import { ValidationError } from '../errors.js';

/** A time of day (24-hour). */
export interface TimeOfDay {
  hour: number;
  minute: number;
}

/**
 * When something recurs, in the wall time of a time zone:
 * - `disabled`: never (only explicit triggers run it);
 * - `daily`: every day at `times`;
 * - `weekly`: on `days` (0 = Monday … 6 = Sunday) at `times`;
 * - `monthly`: on `days` of the month (1–31; a day past the end of a month means its last day) at `times`;
 * - `every`: every `minutes` minutes, aligned to multiples of `minutes` since 1970-01-01T00:00Z
 *   (SQL alert `run_every`; independent of the time zone).
 * Lists are sorted and free of duplicates.
 */
export type Recurrence =
  | { kind: 'disabled' }
  | { kind: 'daily'; times: TimeOfDay[] }
  | { kind: 'weekly'; days: number[]; times: TimeOfDay[] }
  | { kind: 'monthly'; days: number[]; times: TimeOfDay[] }
  | { kind: 'every'; minutes: number };

/** Longest schedule text accepted. */
export const MAX_SCHEDULE_LENGTH = 2000;
/** Most items in one comma list (times, days). */
export const MAX_LIST_ITEMS = 96;

const TIME_24 = /^(\d{1,2}):(\d{2})$/;
const TIME_12 = /^(\d{1,2})(?::(\d{2}))?\s*([ap])\.?m\.?$/i;
const INTEGER = /^\d{1,3}$/;

function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

/**
 * Parses one time of day: 24-hour `06:00`/`6:00`, or 12-hour `9:00am`, `9:00 PM`, `9am`
 * (`12:00am` is midnight, `12:00pm` noon).
 * @returns the time, or a message saying what is wrong
 */
export function parseTimeOfDay(text: string): TimeOfDay | { error: string } {
  const t = text.trim();
  const m12 = TIME_12.exec(t);
  if (m12) {
    const hour = Number(m12[1]);
    const minute = m12[2] === undefined ? 0 : Number(m12[2]);
    if (hour < 1 || hour > 12) return { error: `the hour of a 12-hour time must be 1 to 12` };
    if (minute > 59) return { error: `minutes must be 00 to 59` };
    const pm = m12[3]!.toLowerCase() === 'p';
    return { hour: (hour % 12) + (pm ? 12 : 0), minute };
  }
  const m24 = TIME_24.exec(t);
  if (m24) {
    const hour = Number(m24[1]);
    const minute = Number(m24[2]);
    if (hour > 23) return { error: `the hour of a 24-hour time must be 0 to 23` };
    if (minute > 59) return { error: `minutes must be 00 to 59` };
    return { hour, minute };
  }
  return { error: `expected a 24-hour time such as "06:00" or a 12-hour time such as "9:00am"` };
}

/** `HH:MM` of a time of day. */
export function formatTimeOfDay(t: TimeOfDay): string {
  return `${String(t.hour).padStart(2, '0')}:${String(t.minute).padStart(2, '0')}`;
}

/** Where a parse error is reported (a JSON pointer into the request document). */
export interface GrammarErrorTarget {
  /** Attribute name for messages, e.g. `schedule`. */
  attribute: string;
  pointer: string;
}

function fail(target: GrammarErrorTarget, whole: string, message: string, part?: number): never {
  return failWith(target, `Invalid ${target.attribute} ${quote(whole)}: ${message}`, part);
}

function failWith(target: GrammarErrorTarget, detail: string, part?: number): never {
  throw new ValidationError(detail, {
    code: `invalid_${target.attribute}`,
    source: { pointer: target.pointer },
    meta: part === undefined ? undefined : { part },
  });
}

/** `part 2, item 3` (or `item 3` for a plain list); `part` is the 1-based position between semicolons. */
function position(part: number | undefined, item: number): string {
  return part === undefined ? `item ${item}` : `part ${part}, item ${item}`;
}

function splitList(target: GrammarErrorTarget, whole: string, text: string, part: number | undefined, what: string): string[] {
  const items = text.split(',').map((s) => s.trim());
  const where = part === undefined ? 'the list' : `part ${part}`;
  if (items.length > MAX_LIST_ITEMS) fail(target, whole, `${where} has ${items.length} items; at most ${MAX_LIST_ITEMS} ${what}s are allowed`, part);
  items.forEach((item, i) => {
    if (item === '') fail(target, whole, `${position(part, i + 1)} is empty; expected a ${what}`, part);
  });
  return items;
}

function parseTimes(target: GrammarErrorTarget, whole: string, text: string, part: number | undefined): TimeOfDay[] {
  const out = new Map<number, TimeOfDay>();
  splitList(target, whole, text, part, 'time of day').forEach((item, i) => {
    const t = parseTimeOfDay(item);
    if ('error' in t) fail(target, whole, `time of day ${quote(item)} (${position(part, i + 1)}): ${t.error}`, part);
    out.set(t.hour * 60 + t.minute, t);
  });
  return [...out.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t);
}

function parseDays(target: GrammarErrorTarget, whole: string, text: string, part: number, kind: 'week' | 'month'): number[] {
  const [min, max, range] = kind === 'week' ? [0, 6, '0 (Monday) to 6 (Sunday)'] : [1, 31, '1 to 31'];
  const out = new Set<number>();
  splitList(target, whole, text, part, `day of ${kind}`).forEach((item, i) => {
    const n = INTEGER.test(item) ? Number(item) : NaN;
    if (!Number.isInteger(n) || n < min || n > max)
      fail(target, whole, `day of ${kind} ${quote(item)} (${position(part, i + 1)}) must be a whole number from ${range}`, part);
    out.add(n);
  });
  return [...out].sort((a, b) => a - b);
}

const EXAMPLES = 'disabled, daily;06:00, weekly;0,2,4;06:00 or monthly;1,15;9:00am';

/**
 * Parses a dashboard schedule (contract §4.8):
 * `disabled` | `daily;<times>` | `weekly;<days 0–6, 0 = Monday>;<times>` | `monthly;<days 1–31>;<times>`,
 * where lists are comma-separated and times are 24-hour (`06:00`) or 12-hour (`9:00am`).
 * @param target attribute name and JSON pointer for the error
 * @throws ValidationError (422, code `invalid_<attribute>`) whose detail names the wrong part and
 *   item; `meta.part` is its 1-based position between semicolons
 */
export function parseSchedule(text: string, target: GrammarErrorTarget = { attribute: 'schedule', pointer: '/data/attributes/schedule' }): Recurrence {
  if (text.length > MAX_SCHEDULE_LENGTH) failWith(target, `Invalid ${target.attribute}: longer than ${MAX_SCHEDULE_LENGTH} characters`);
  const whole = text.trim();
  if (whole === '') failWith(target, `Invalid ${target.attribute}: empty; expected one of ${EXAMPLES}`);
  const parts = whole.split(';').map((p) => p.trim());
  const kind = parts[0]!.toLowerCase();
  const expectParts = (n: number, shape: string) => {
    // "weekly;06:00": the days were left out, not the times
    if (n === 3 && parts.length === 2 && /[:apm]/i.test(parts[1]!)) {
      fail(
        target,
        whole,
        `part 2 ${quote(parts[1]!)} should be the days of the ${kind === 'weekly' ? 'week' : 'month'}, followed by ";" and the times: ${shape}`,
        2,
      );
    }
    if (parts.length < n) fail(target, whole, `"${kind}" needs ${n - 1} part${n > 2 ? 's' : ''} after it separated by ";": ${shape}`, parts.length + 1);
    if (parts.length > n)
      fail(target, whole, `"${kind}" takes ${n - 1} part${n > 2 ? 's' : ''} after it (${shape}); part ${n + 1} ${quote(parts[n]!)} is one too many`, n + 1);
  };
  switch (kind) {
    case 'disabled':
      if (parts.length > 1) fail(target, whole, `"disabled" takes nothing after it; part 2 ${quote(parts[1]!)} is not allowed`, 2);
      return { kind: 'disabled' };
    case 'daily':
      expectParts(2, '"daily;<time>[,<time>…]", e.g. "daily;9:00am,9:00pm"');
      return { kind: 'daily', times: parseTimes(target, whole, parts[1]!, 2) };
    case 'weekly':
      expectParts(3, '"weekly;<day>[,<day>…];<time>[,<time>…]" with days 0 (Monday) to 6 (Sunday), e.g. "weekly;0,2,4;06:00"');
      return { kind: 'weekly', days: parseDays(target, whole, parts[1]!, 2, 'week'), times: parseTimes(target, whole, parts[2]!, 3) };
    case 'monthly':
      expectParts(3, '"monthly;<day>[,<day>…];<time>[,<time>…]" with days 1 to 31, e.g. "monthly;1,15;06:00"');
      return { kind: 'monthly', days: parseDays(target, whole, parts[1]!, 2, 'month'), times: parseTimes(target, whole, parts[2]!, 3) };
    default:
      return fail(target, whole, `part 1 ${quote(parts[0]!)} is not a frequency; expected disabled, daily, weekly or monthly (e.g. ${EXAMPLES})`, 1);
  }
}

/** SQL alert `run_schedule` values (contract §3.10). */
export const RUN_SCHEDULES = ['disabled', 'at', 'every'] as const;
/** One of `RUN_SCHEDULES`. */
export type RunSchedule = (typeof RUN_SCHEDULES)[number];

/** Shortest SQL alert `run_every` in minutes. */
export const RUN_EVERY_MIN = 1;
/** Longest SQL alert `run_every` in minutes (31 days). */
export const RUN_EVERY_MAX = 44_640;

/**
 * The recurrence of a SQL alert (contract §4.9): `disabled` (only Run SQL Alert Query runs it),
 * `at` (daily at the comma-separated `run_at` times, 24-hour or am/pm), `every` (`run_every`
 * minutes).
 * @throws ValidationError (422) pointing at `run_at` or `run_every` when the one the schedule needs is
 *   missing or malformed
 */
export function parseRunSchedule(input: { runSchedule: RunSchedule; runAt: string | null; runEvery: number | null }): Recurrence {
  switch (input.runSchedule) {
    case 'disabled':
      return { kind: 'disabled' };
    case 'at': {
      const target = { attribute: 'run_at', pointer: '/data/attributes/run_at' };
      if (input.runAt === null || input.runAt.trim() === '') {
        failWith(target, 'run_at is required when run_schedule is "at": comma-separated times of day such as "06:00,18:00" or "9:00am"');
      }
      if (input.runAt.length > MAX_SCHEDULE_LENGTH) failWith(target, `Invalid run_at: longer than ${MAX_SCHEDULE_LENGTH} characters`);
      return { kind: 'daily', times: parseTimes(target, input.runAt.trim(), input.runAt, undefined) };
    }
    case 'every': {
      const target = { attribute: 'run_every', pointer: '/data/attributes/run_every' };
      if (input.runEvery === null) failWith(target, 'run_every is required when run_schedule is "every": the number of minutes between runs');
      if (!Number.isInteger(input.runEvery) || input.runEvery < RUN_EVERY_MIN || input.runEvery > RUN_EVERY_MAX) {
        failWith(target, `Invalid run_every ${input.runEvery}: must be a whole number of minutes from ${RUN_EVERY_MIN} to ${RUN_EVERY_MAX}`);
      }
      return { kind: 'every', minutes: input.runEvery };
    }
    default:
      return failWith({ attribute: 'run_schedule', pointer: '/data/attributes/run_schedule' }, `run_schedule must be one of ${RUN_SCHEDULES.join(', ')}`);
  }
}
