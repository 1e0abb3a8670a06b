// Value formatting shared by charts, tables and headers. Browser-safe (Intl only, no Node API), and
// independent of the process time zone: every date is shown in an explicit IANA zone.

import type { RenderParameters } from './types.js';

const NUMERIC_TYPES = new Set(['Integer', 'BigInt', 'Float']);
const TEMPORAL_TYPES = new Set(['Date', 'DateTime']);

/** True for the contract's numeric data types. */
export function isNumericType(dataType: string): boolean {
  return NUMERIC_TYPES.has(dataType);
}

/** True for `Date` and `DateTime`. */
export function isTemporalType(dataType: string): boolean {
  return TEMPORAL_TYPES.has(dataType);
}

const zoneFormatters = new Map<string, Intl.DateTimeFormat>();

function zoneFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = zoneFormatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: 'UTC',
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    }
    zoneFormatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock time of `instant` in `timeZone` as `[y, m, d, h, mi, s]`. */
function wallClock(instant: number, timeZone: string): number[] {
  const parts = zoneFormatter(timeZone).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return [get('year'), get('month'), get('day'), get('hour') % 24, get('minute'), get('second')];
}

const p2 = (n: number) => String(n).padStart(2, '0');

/** `2026-12-03 04:05` (seconds when not zero) for an instant, in `timeZone`. */
export function formatInstant(instant: Date | number | string, timeZone: string, withSeconds = false): string {
  const ms = instant instanceof Date ? instant.getTime() : typeof instant === 'number' ? instant : Date.parse(instant);
  if (!Number.isFinite(ms)) return String(instant);
  const [y, mo, d, h, mi, s] = wallClock(ms, timeZone) as [number, number, number, number, number, number];
  return `${y}-${p2(mo)}-${p2(d)} ${p2(h)}:${p2(mi)}${withSeconds || s ? `:${p2(s)}` : ''}`;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_NAIVE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?$/;
const ISO_ZONED = /\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)$/;

/**
 * A Date/DateTime value as the wall-clock time it shows, encoded as UTC milliseconds: zoned values
 * (`…Z`) are moved into `timeZone`, naive ones and dates are taken as they are. Charts use UTC
 * scales on these numbers, so the axes read the same on every machine. NaN when not a date.
 */
export function toWallClockMs(value: unknown, timeZone: string): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return Number.NaN;
  let m = ISO_DATE.exec(value);
  if (m) return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  m = ISO_NAIVE.exec(value);
  if (m) return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0), Math.round(Number(m[7] ?? 0) * 1000));
  if (!ISO_ZONED.test(value)) return Number.NaN;
  const instant = Date.parse(value);
  if (!Number.isFinite(instant)) return Number.NaN;
  const [y, mo, d, h, mi, s] = wallClock(instant, timeZone) as [number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s, instant % 1000);
}

const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 6 });

/** A number for people: `1,234,567.89`; large decimal texts stay exactly as stored. */
export function formatNumber(value: unknown): string {
  if (typeof value === 'number') return Number.isFinite(value) ? numberFormat.format(value) : String(value);
  if (typeof value === 'string') return value;
  return value === null || value === undefined ? '' : String(value);
}

/** One cell for a table: numbers grouped, dates in `timeZone`, JSON for objects, empty for NULL. */
export function formatValue(value: unknown, dataType: string, timeZone: string): string {
  if (value === null || value === undefined) return '';
  if (isNumericType(dataType)) return formatNumber(value);
  if (dataType === 'DateTime' && typeof value === 'string') {
    if (ISO_ZONED.test(value)) return formatInstant(value, timeZone);
    const m = ISO_NAIVE.exec(value);
    if (m) return `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}${m[6] && m[6] !== '00' ? `:${m[6]}` : ''}`;
    return value;
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Parameter lines under a dashboard title: time range, aggregation, time zone, filter values. */
export function formatParameters(parameters: RenderParameters | null | undefined, timeZone: string): Array<{ label: string; value: string }> {
  const out: Array<{ label: string; value: string }> = [];
  if (!parameters) return out;
  if (parameters.timerange !== undefined) out.push({ label: 'Time range', value: formatTimerange(parameters.timerange, timeZone) });
  if (parameters.aggregation) out.push({ label: 'Aggregation', value: parameters.aggregation.replaceAll('_', ' ') });
  for (const f of parameters.filters ?? []) {
    const values = f.selected_values.map((v) => (v === null ? 'NULL' : String(v)));
    out.push({ label: f.variable_name, value: values.length ? values.join(', ') : '(all)' });
  }
  return out;
}

/** `<start>~<end>` unix seconds as dates in `timeZone`; relative encodings (`7_full_day`) as words. */
export function formatTimerange(timerange: string, timeZone: string): string {
  const m = /^(\d*)~(\d*)$/.exec(timerange);
  if (!m) return timerange.replaceAll('_', ' ');
  const side = (s: string | undefined) => (s ? formatInstant(Number(s) * 1000, timeZone) : '…');
  if (!m[1] && !m[2]) return 'all time';
  return `${side(m[1])} – ${side(m[2])}`;
}
