// Pooled datasource sessions (issue 9, point 6): opening a session per query cost ~15 round trips.
import { createHash } from 'node:crypto';
import { QueryError, type ConnectionSettings } from './driver.types.js';

/** How a pool opens, resets and ends the sessions of one driver. */
export interface SessionPoolHooks<S> {
  open(): Promise<S>;
  /**
   * Makes a released session like a new one (`DISCARD ALL`, `COM_RESET_CONNECTION`); throws (or
   * does not finish within the reset deadline) when it cannot: the session is then ended.
   */
  reset(session: S): Promise<void>;
  /** Ends a session (must not throw). */
  destroy(session: S): Promise<void>;
  /** False once the connection of the session broke (server restart, network). */
  alive(session: S): boolean;
  /** Idle sessions must not keep the process alive: `held` false while a session sits idle. */
  hold?(session: S, held: boolean): void;
}

export interface SessionPoolOptions {
  /** Most sessions open at once (busy + idle). */
  max: number;
  /** An idle session is ended after this long (ms). */
  idleTimeoutMs: number;
  /** Longest wait for a free session when all `max` are busy (ms). */
  acquireTimeoutMs: number;
  /** Longest reset of a released session before it is ended instead (ms). */
  resetTimeoutMs?: number;
}

interface Idle<S> {
  session: S;
  timer: NodeJS.Timeout;
}

/**
 * A bounded pool of database sessions of one datasource. Released sessions are reset before they
 * are handed out again; a session whose query did not end cleanly (cancelled, timed out, broken) is
 * never reused. Idle sessions end after `idleTimeoutMs`. `close()` ends idle sessions at once and
 * busy ones when they are released.
 */
export class SessionPool<S> {
  private readonly idle: Array<Idle<S>> = [];
  private readonly busy = new Set<S>();
  /** Sessions being opened or reset (they count against `max`). */
  private pending = 0;
  /** Sessions being reset after a release (served to waiters, in order, when done). */
  private resetting = 0;
  private readonly waiters: Array<{ resolve: (s: { session: S; reused: boolean }) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }> = [];
  private closed = false;

  constructor(
    private readonly hooks: SessionPoolHooks<S>,
    private readonly options: SessionPoolOptions,
  ) {}

  get stats(): { idle: number; busy: number; pending: number; waiting: number; closed: boolean } {
    return { idle: this.idle.length, busy: this.busy.size, pending: this.pending, waiting: this.waiters.length, closed: this.closed };
  }

  private get open(): number {
    return this.idle.length + this.busy.size + this.pending;
  }

  /** True when nothing is open or waiting (the registry may forget the pool). */
  get empty(): boolean {
    return this.open === 0 && this.waiters.length === 0;
  }

  /**
   * An idle session (`reused`), or a new one while fewer than `max` are open, or the next released
   * one. @throws QueryError kind connection_error when opening fails or no session frees up in time
   */
  async acquire(): Promise<{ session: S; reused: boolean }> {
    if (this.closed) throw new QueryError('connection_error', 'The datasource changed while the query was starting; run it again');
    for (;;) {
      const entry = this.idle.pop();
      if (!entry) break;
      clearTimeout(entry.timer);
      if (!this.hooks.alive(entry.session)) {
        void this.end(entry.session);
        continue;
      }
      this.take(entry.session);
      return { session: entry.session, reused: true };
    }
    // a session being reset is about to be idle: waiting for it costs less than opening one
    if (this.open < this.options.max && this.waiters.length >= this.resetting) return { session: await this.openNew(), reused: false };
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new QueryError('connection_error', `All ${this.options.max} sessions of the datasource stayed busy for ${this.options.acquireTimeoutMs} ms`));
        }, this.options.acquireTimeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Ends a session; never throws. */
  private async end(session: S): Promise<void> {
    try {
      await this.hooks.destroy(session);
    } catch {
      // already gone
    }
  }

  private take(session: S): void {
    this.busy.add(session);
    this.hooks.hold?.(session, true);
  }

  private async openNew(): Promise<S> {
    this.pending++;
    try {
      const session = await this.hooks.open();
      this.pending--;
      this.take(session);
      return session;
    } catch (err) {
      this.pending--;
      this.serveWaiter();
      throw err;
    }
  }

  /** A session came free (or room for one): the oldest waiter gets it. */
  private serveWaiter(): void {
    if (this.closed) return;
    const waiter = this.waiters.shift();
    if (!waiter) return;
    clearTimeout(waiter.timer);
    const entry = this.idle.pop();
    if (entry) {
      clearTimeout(entry.timer);
      this.take(entry.session);
      waiter.resolve({ session: entry.session, reused: true });
      return;
    }
    this.openNew().then(
      (session) => waiter.resolve({ session, reused: false }),
      (err: Error) => waiter.reject(err),
    );
  }

  /**
   * Gives a session back. `reusable` only when its statement ended on its own (not stopped): it is
   * reset and kept; otherwise, or when the reset fails, it is ended.
   */
  async release(session: S, reusable: boolean): Promise<void> {
    if (!this.busy.delete(session)) return;
    this.pending++;
    let keep = reusable && !this.closed && this.hooks.alive(session);
    if (keep) {
      let timer: NodeJS.Timeout | undefined;
      this.resetting++;
      try {
        await Promise.race([
          this.hooks.reset(session),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('reset deadline')), this.options.resetTimeoutMs ?? 2_000);
          }),
        ]);
      } catch {
        keep = false;
      } finally {
        clearTimeout(timer);
        this.resetting--;
      }
    }
    this.pending--;
    if (!keep || this.closed || !this.hooks.alive(session)) {
      await this.end(session);
      this.serveWaiter();
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      this.busy.add(session);
      waiter.resolve({ session, reused: true });
      return;
    }
    this.hooks.hold?.(session, false);
    const entry: Idle<S> = {
      session,
      timer: setTimeout(() => {
        const i = this.idle.indexOf(entry);
        if (i >= 0) this.idle.splice(i, 1);
        void this.end(session);
      }, this.options.idleTimeoutMs),
    };
    entry.timer.unref();
    this.idle.push(entry);
  }

  /** Ends idle sessions now and busy ones on release; later acquires fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new QueryError('connection_error', 'The datasource changed while the query was waiting for a session; run it again'));
    }
    const idle = this.idle.splice(0);
    await Promise.all(
      idle.map(async (e) => {
        clearTimeout(e.timer);
        await this.end(e.session);
      }),
    );
  }
}

/** Identifies the connection settings of a pool: a pool is replaced when they change. */
export function settingsFingerprint(settings: ConnectionSettings): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        settings.databaseType,
        settings.host,
        settings.port,
        settings.username,
        settings.password,
        settings.database,
        settings.requireSsl,
        settings.verifySsl,
        settings.dataTimeZone,
        settings.connectTimeoutMs ?? null,
        // direct TCP or the path of a transport (SSH tunnel, agent): sessions never cross paths
        settings.transport ? (settings.transport.key ?? 'transport') : 'direct',
      ]),
    )
    .digest('hex');
}

/** Options of the sessions pooled per datasource. */
export interface DatasourcePoolOptions {
  /** Idle sessions end after this long (ms, default 60 s). */
  idleTimeoutMs?: number;
}

/**
 * The session pools of one process, one per datasource. A pool is replaced (the old one closed)
 * when the datasource's connection settings change — also when another process changed them — and
 * closed when the datasource is updated or deleted through this process.
 */
export class DatasourceSessionPools {
  private readonly pools = new Map<string, { fingerprint: string; pool: SessionPool<unknown> }>();
  readonly idleTimeoutMs: number;

  constructor(options: DatasourcePoolOptions = {}) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  }

  /** The pool of datasource `key` for sessions with `fingerprint`, created by `create` when missing or outdated. */
  pool<S>(key: string, fingerprint: string, create: () => SessionPool<S>): SessionPool<S> {
    const current = this.pools.get(key);
    if (current && current.fingerprint === fingerprint && !current.pool.stats.closed) return current.pool as SessionPool<S>;
    if (current) void current.pool.close();
    // forget pools of datasources no longer used (all their sessions ended by the idle timeout)
    for (const [k, v] of this.pools) if (k !== key && v.pool.empty) this.pools.delete(k);
    const pool = create();
    this.pools.set(key, { fingerprint, pool: pool as SessionPool<unknown> });
    return pool;
  }

  /** Closes the pool of a datasource (updated or deleted). */
  async evict(key: string): Promise<void> {
    const current = this.pools.get(key);
    if (!current) return;
    this.pools.delete(key);
    await current.pool.close();
  }

  /** Closes every pool (process shutdown, tests). */
  async closeAll(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.pool.close()));
  }
}

/** What a driver needs to pool its sessions. */
export interface DriverPooling {
  pools: DatasourceSessionPools;
  /** The datasource id. */
  key: string;
  /** Most sessions of this datasource in this process. */
  max: number;
}
