import { NotFoundError } from '@sightline/domain';

/** Longest data key the data server accepts (issued keys are far shorter). */
export const MAX_DATA_KEY_LENGTH = 512;

// RFC 3986 path characters without percent-encoding: issued keys never need escaping.
const KEY_CHARS = /^[A-Za-z0-9._~!$&'()*+,;=:@/-]+$/;

/**
 * The data key of a request path such as `/results/<org>/<kind>/<digest>`, taken from the raw
 * (never URL-decoded) path: the contract says keys contain `/` and are sent unencoded, so `%2F`
 * is not a slash and a key with `%` cannot exist.
 * @throws NotFoundError (404) for an empty, over-long or malformed key, `..`/`.` or empty segments
 */
export function dataKeyFromPath(rawPath: string, prefix: string): string {
  const key = rawPath.startsWith(prefix) ? rawPath.slice(prefix.length) : '';
  const segments = key.split('/');
  if (key.length === 0 || key.length > MAX_DATA_KEY_LENGTH || !KEY_CHARS.test(key) || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new NotFoundError('No data for this data key', { code: 'data_not_found' });
  }
  return key;
}
