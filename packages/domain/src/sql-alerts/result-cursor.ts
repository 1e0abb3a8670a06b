import { BadRequestError } from '../errors.js';

/** Default `limit` of List SQL Alert Results (contract row 74). */
export const RESULTS_DEFAULT_LIMIT = 100;
/** Largest `limit` of List SQL Alert Results (contract row 74). */
export const RESULTS_MAX_LIMIT = 1000;

const SHAPE = /^r1\.([a-z0-9-]{1,64})\.(\d{1,18})$/;

/**
 * The cursor of List SQL Alert Results: an opaque string standing for "results older than the
 * last one returned". It names the result's position in the alert's append-only sequence, so results
 * that arrive later (they are newer, so they sort before it) never shift the pages after it.
 * Bound to its alert: a cursor of another alert is refused.
 */
export function encodeResultCursor(alertId: string, seq: bigint | number | string): string {
  return Buffer.from(`r1.${alertId}.${String(seq)}`, 'utf8').toString('base64url');
}

/**
 * Reads a cursor made by `encodeResultCursor` for this alert.
 * @returns the sequence number the next page starts below
 * @throws BadRequestError (400, parameter `cursor`) for anything else
 */
export function decodeResultCursor(alertId: string, cursor: string): bigint {
  const invalid = () =>
    new BadRequestError('cursor is not a cursor returned by List SQL Alert Results for this alert', {
      code: 'invalid_cursor',
      source: { parameter: 'cursor' },
    });
  if (cursor.length === 0 || cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  const m = SHAPE.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  // canonical form only: base64 ignores stray trailing bits, a cursor must be exactly what was issued
  if (!m || m[1] !== alertId || encodeResultCursor(alertId, m[2]!) !== cursor) throw invalid();
  return BigInt(m[2]!);
}

/**
 * Parses `limit`: a whole number from 1 to 1000, 100 when absent.
 * @throws BadRequestError (400, parameter `limit`)
 */
export function parseResultsLimit(limit: string | undefined): number {
  if (limit === undefined) return RESULTS_DEFAULT_LIMIT;
  if (!/^\d{1,7}$/.test(limit) || Number(limit) < 1 || Number(limit) > RESULTS_MAX_LIMIT) {
    throw new BadRequestError(`limit must be a whole number from 1 to ${RESULTS_MAX_LIMIT}`, { code: 'invalid_limit', source: { parameter: 'limit' } });
  }
  return Number(limit);
}
