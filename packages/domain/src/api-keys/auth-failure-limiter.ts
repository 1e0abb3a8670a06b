import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { CONFIG_DEFAULTS } from '../config/config.js';
import { RateLimitedError } from '../errors.js';
import { AuthFailureRepository } from './auth-failure.repository.js';

/** Failed authentications a client address (or a key prefix) may have per window, and the window. */
export interface AuthFailureLimit {
  limit: number;
  windowSeconds: number;
}

/** The defaults of `AUTH_FAILURE_LIMIT` and `AUTH_FAILURE_WINDOW_SECONDS`. */
export const DEFAULT_AUTH_FAILURE_LIMIT: AuthFailureLimit = Object.freeze({
  limit: CONFIG_DEFAULTS.authFailureLimit,
  windowSeconds: CONFIG_DEFAULTS.authFailureWindowSeconds,
});

/** Characters of a presented secret that name its bucket (`sl_` and 9 random characters). */
const KEY_PREFIX_LENGTH = 12;
/** About one new-window failure in this many also purges expired counters. */
const PURGE_ONE_IN = 20;

/** Who failed to authenticate: the client address, and the secret it presented (if any). */
export interface AuthFailureSource {
  clientAddress?: string;
  secret?: string;
}

const bucketOf = (kind: string, value: string) => `${kind}:${createHash('sha256').update(value).digest('base64url').slice(0, 22)}`;

/**
 * Limits failed API-key authentications per client address and per key prefix with fixed windows
 * in PostgreSQL, so the limit holds across every API process. Only failures touch it: a valid key
 * costs nothing and is never refused because others failed.
 */
export class AuthFailureLimiter {
  private readonly repo: AuthFailureRepository;

  constructor(
    db: Knex,
    private readonly config: AuthFailureLimit = DEFAULT_AUTH_FAILURE_LIMIT,
  ) {
    this.repo = new AuthFailureRepository(db);
  }

  /**
   * Counts a failure. Returns normally while every bucket is within the limit.
   * @throws RateLimitedError (429, with the seconds until the window ends) when a bucket exceeds it
   */
  async recordFailure(source: AuthFailureSource): Promise<void> {
    const buckets: string[] = [];
    if (source.clientAddress) buckets.push(bucketOf('address', source.clientAddress));
    if (source.secret) buckets.push(bucketOf('key', source.secret.slice(0, KEY_PREFIX_LENGTH)));
    const counts = await this.repo.increment(buckets, this.config.windowSeconds);
    if (counts.some((c) => c.failures === 1) && Math.random() * PURGE_ONE_IN < 1) this.repo.purge(this.config.windowSeconds).catch(() => {});
    const over = counts.filter((c) => c.failures > this.config.limit);
    if (!over.length) return;
    const retryAfterSeconds = Math.max(...over.map((c) => c.secondsLeft));
    throw new RateLimitedError(`Too many failed authentications from this client or with this key; try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
  }
}
