/**
 * Freshness rules of cached dashboard data (param-language §9, contract §4.3):
 * - effective max age = min(dashboard `data_refresh_rate`, report/filter rate when set), in minutes;
 * - with an anchor time (`HH:MM`, organization time zone; the report's own, else the dashboard's),
 *   data is also out of date when it predates the most recent past occurrence of that wall time;
 * - stale ⇔ too old OR before the last anchor.
 */

/** Offset (ms) of `zone` from UTC at instant `at`. */
function zoneOffsetMs(zone: string, at: Date): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/** The instant at which the wall clock of `zone` shows `y-m-d hh:mm` (the later one in a DST overlap). */
export function wallTimeToInstant(y: number, m: number, d: number, hh: number, mm: number, zone: string): Date {
  const guess = Date.UTC(y, m - 1, d, hh, mm);
  // Two passes settle the offset across a DST change.
  let instant = guess - zoneOffsetMs(zone, new Date(guess));
  instant = guess - zoneOffsetMs(zone, new Date(instant));
  return new Date(instant);
}

/** The calendar date (y, m, d) of instant `at` in `zone`. */
function dateIn(zone: string, at: Date): [number, number, number] {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return [get('year'), get('month'), get('day')];
}

/**
 * The most recent instant ≤ `now` whose wall time in `zone` is `anchor` (`HH:MM[:SS]`).
 * @returns undefined for a malformed anchor
 */
export function lastAnchorInstant(anchor: string, zone: string, now: Date): Date | undefined {
  const match = /^(\d{1,2}):(\d{2})/.exec(anchor);
  if (!match) return undefined;
  const hh = Number(match[1]);
  const mm = Number(match[2]);
  const [y, m, d] = dateIn(zone, now);
  const today = wallTimeToInstant(y, m, d, hh, mm, zone);
  if (today.getTime() <= now.getTime()) return today;
  const yesterday = new Date(Date.UTC(y, m - 1, d) - 86_400_000);
  return wallTimeToInstant(yesterday.getUTCFullYear(), yesterday.getUTCMonth() + 1, yesterday.getUTCDate(), hh, mm, zone);
}

export interface FreshnessRule {
  /** Effective maximum age in minutes. */
  maxAgeMinutes: number;
  /** Anchor time `HH:MM` in the organization's time zone, if any. */
  anchor: string | null;
  organizationTimeZone: string;
}

/** Combines the dashboard's rule with a report's or filter's own (the lower rate wins). */
export function effectiveRule(
  dashboard: { dataRefreshRate: number; dataRefreshAnchorTime: string | null },
  own: { dataRefreshRate: number | null; dataRefreshAnchorTime?: string | null },
  organizationTimeZone: string,
): FreshnessRule {
  return {
    maxAgeMinutes: Math.min(dashboard.dataRefreshRate, own.dataRefreshRate ?? Number.POSITIVE_INFINITY),
    anchor: own.dataRefreshAnchorTime ?? dashboard.dataRefreshAnchorTime ?? null,
    organizationTimeZone,
  };
}

/** True when data taken at `dataTimestamp` is still current at `now` under `rule`. */
export function isCurrent(dataTimestamp: Date, rule: FreshnessRule, now: Date): boolean {
  if (now.getTime() - dataTimestamp.getTime() > rule.maxAgeMinutes * 60_000) return false;
  if (rule.anchor) {
    const anchor = lastAnchorInstant(rule.anchor, rule.organizationTimeZone, now);
    if (anchor && dataTimestamp.getTime() < anchor.getTime()) return false;
  }
  return true;
}
