const ZONES = new Set<string>([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC', 'GMT']);

/** True for an IANA time zone name this runtime knows (e.g. `Europe/Berlin`, `UTC`). */
export function isKnownTimeZone(name: string): boolean {
  return ZONES.has(name);
}
