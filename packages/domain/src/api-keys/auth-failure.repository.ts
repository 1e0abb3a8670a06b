import type { Knex } from 'knex';

/** A bucket's count in its current window and the seconds until that window ends. */
export interface AuthFailureCount {
  bucket: string;
  failures: number;
  secondsLeft: number;
}

/** SQL for `auth_failures`: fixed-window failure counters shared by every process through PostgreSQL. */
export class AuthFailureRepository {
  constructor(private readonly db: Knex) {}

  /**
   * Counts one failure in each bucket with one upsert: a bucket whose window has ended starts a
   * new one at 1. Times come from the database clock, so every process agrees on the windows.
   */
  async increment(buckets: readonly string[], windowSeconds: number): Promise<AuthFailureCount[]> {
    if (!buckets.length) return [];
    const { rows } = await this.db.raw<{ rows: Array<{ bucket: string; failures: number; seconds_left: string }> }>(
      `INSERT INTO auth_failures AS f (bucket) SELECT unnest(?::text[])
       ON CONFLICT (bucket) DO UPDATE SET
         failures = CASE WHEN f.window_start > now() - make_interval(secs => ?) THEN f.failures + 1 ELSE 1 END,
         window_start = CASE WHEN f.window_start > now() - make_interval(secs => ?) THEN f.window_start ELSE now() END
       RETURNING bucket, failures, ceil(extract(epoch FROM f.window_start + make_interval(secs => ?) - now())) AS seconds_left`,
      [[...buckets], windowSeconds, windowSeconds, windowSeconds],
    );
    return rows.map((r) => ({ bucket: r.bucket, failures: Number(r.failures), secondsLeft: Math.max(1, Number(r.seconds_left)) }));
  }

  /** Deletes counters whose window ended more than `windowSeconds` ago. */
  async purge(windowSeconds: number): Promise<void> {
    await this.db.raw('DELETE FROM auth_failures WHERE window_start < now() - make_interval(secs => ?)', [2 * windowSeconds]);
  }
}
