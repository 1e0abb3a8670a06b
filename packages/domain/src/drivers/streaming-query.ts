import { QueryError, type ResultColumn, type RunningQuery } from './driver.types.js';

type StopReason = 'cancelled' | 'timed_out';

/** How long a database-side cancel may take before the session is dropped regardless. */
export const CANCEL_DEADLINE_MS = 2_000;

/** Resolves `promise`, or rejects with `onTimeout()` after `ms`. */
export function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * The life cycle shared by the drivers' running queries: a wall-clock limit, cancel that reaches
 * the database, single iteration, idempotent close, and error kinds decided in one place.
 * Subclasses supply the protocol: fetching a batch, the database-side cancel, releasing the session.
 */
export abstract class StreamingQuery implements RunningQuery {
  abstract readonly backendId: number;
  private stopReason: StopReason | null = null;
  private finished = false;
  private closed = false;
  private iterated = false;
  private stopping: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  /** Pending reads, failed as soon as the query is stopped so no read waits on a dropped session. */
  private readonly waiters = new Set<(err: QueryError) => void>();

  protected constructor(
    protected readonly timeoutMs: number,
    protected readonly batchSize: number,
  ) {
    this.timer = setTimeout(() => void this.stop('timed_out'), timeoutMs);
    this.timer.unref();
  }

  /** The next batch (at most `batchSize` rows); an empty array at the end. */
  protected abstract fetchBatch(): Promise<unknown[][]>;
  /** Column descriptions (waits for the row description). */
  protected abstract fetchColumns(): Promise<ResultColumn[]>;
  /** Asks the database, over another session, to stop the running statement. */
  protected abstract cancelInDatabase(): Promise<void>;
  /** Ends the session (must not throw, must not wait for the running statement). */
  protected abstract releaseSession(): Promise<void>;
  /** Maps a driver error that was not caused by our own cancel/timeout. */
  protected abstract toQueryError(err: unknown): QueryError;

  /** The error a stopped query reports, whatever the driver said. */
  private stopError(cause?: unknown): QueryError {
    if (this.stopReason === 'timed_out') {
      return new QueryError('timed_out', `The query exceeded its time limit of ${this.timeoutMs} ms and was stopped`, { cause });
    }
    return new QueryError('cancelled', 'The query was cancelled', { cause });
  }

  private mapError(err: unknown): QueryError {
    if (this.stopReason) return this.stopError(err);
    if (err instanceof QueryError) return err;
    return this.toQueryError(err);
  }

  /**
   * `promise`, or the stop error as soon as the query is stopped. (Not `Promise.race` against one
   * long-lived promise: each race would leave a reaction on it that keeps its batch alive.)
   */
  private guarded<T>(promise: Promise<T>): Promise<T> {
    if (this.stopReason) return Promise.reject(this.stopError());
    if (this.closed) return promise;
    return new Promise<T>((resolve, reject) => {
      const onStop = (err: QueryError) => reject(err);
      this.waiters.add(onStop);
      promise.then(
        (value) => {
          this.waiters.delete(onStop);
          resolve(value);
        },
        (err: unknown) => {
          this.waiters.delete(onStop);
          reject(err);
        },
      );
    });
  }

  private failWaiters(): void {
    const err = this.stopError();
    for (const waiter of this.waiters) waiter(err);
    this.waiters.clear();
  }

  async columns(): Promise<ResultColumn[]> {
    if (this.stopReason) throw this.stopError();
    try {
      return await this.guarded(this.fetchColumns());
    } catch (err) {
      const mapped = this.mapError(err);
      // The statement itself failed: nothing is left to cancel.
      if (!this.stopReason) this.finished = true;
      throw mapped;
    }
  }

  rows(): AsyncIterable<unknown[][]> {
    if (this.iterated) throw new Error('RunningQuery.rows() can be iterated only once');
    this.iterated = true;
    const iterate = async function* (this: StreamingQuery): AsyncGenerator<unknown[][]> {
      try {
        for (;;) {
          if (this.stopReason) throw this.stopError();
          const batch = await this.guarded(this.fetchBatch());
          if (batch.length === 0) break;
          yield batch;
        }
        this.finished = true;
      } catch (err) {
        const mapped = this.mapError(err);
        // A failed statement has nothing left to cancel: close() only releases the session.
        if (!this.stopReason) this.finished = true;
        throw mapped;
      } finally {
        await this.close();
      }
    };
    return iterate.call(this);
  }

  cancel(): Promise<void> {
    return this.stop('cancelled');
  }

  /**
   * True when the statement ended by itself (all rows read, or it failed): nothing of it can still
   * run, so its session may be reset and reused. False once it was cancelled or timed out (a
   * database-side cancel may still arrive) or closed early.
   */
  protected get endedOnItsOwn(): boolean {
    return this.finished && this.stopReason === null;
  }

  /** True once the query was cancelled or timed out. */
  protected get stopped(): boolean {
    return this.stopReason !== null;
  }

  /** Marks the query as done by the subclass (e.g. a statement without a result set completed). */
  protected markFinished(): void {
    this.finished = true;
  }

  private stop(reason: StopReason): Promise<void> {
    if (this.finished || this.closed) return Promise.resolve();
    if (this.stopping) return this.stopping;
    this.stopReason = reason;
    clearTimeout(this.timer);
    this.stopping = (async () => {
      try {
        await withDeadline(this.cancelInDatabase(), CANCEL_DEADLINE_MS, () => new Error('cancel deadline'));
      } catch {
        // Dropping the session below still ends the statement (the server notices the closed socket).
      }
      this.failWaiters();
      await this.close();
    })();
    return this.stopping;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.finished && !this.stopReason) {
      await this.stop('cancelled');
      return;
    }
    this.closed = true;
    clearTimeout(this.timer);
    this.failWaiters();
    await this.releaseSession();
  }
}
