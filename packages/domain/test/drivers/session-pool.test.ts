import { describe, expect, it } from '@jest/globals';
import { DatasourceSessionPools, SessionPool, type SessionPoolHooks } from '../../src/drivers/session-pool.js';

interface Fake {
  id: number;
  alive: boolean;
  resets: number;
  ended: boolean;
}

function fakeHooks(options: { failReset?: (s: Fake) => boolean } = {}) {
  let next = 0;
  const opened: Fake[] = [];
  const hooks: SessionPoolHooks<Fake> = {
    open: async () => {
      const s = { id: ++next, alive: true, resets: 0, ended: false };
      opened.push(s);
      return s;
    },
    reset: async (s) => {
      s.resets++;
      if (options.failReset?.(s)) throw new Error('reset failed');
    },
    destroy: async (s) => {
      s.ended = true;
    },
    alive: (s) => s.alive && !s.ended,
  };
  return { hooks, opened };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SessionPool', () => {
  it('reuses a released session after resetting it', async () => {
    const { hooks, opened } = fakeHooks();
    const pool = new SessionPool(hooks, { max: 2, idleTimeoutMs: 10_000, acquireTimeoutMs: 1_000 });
    const a = await pool.acquire();
    expect(a.reused).toBe(false);
    await pool.release(a.session, true);
    const b = await pool.acquire();
    expect(b).toEqual({ session: a.session, reused: true });
    expect(a.session.resets).toBe(1);
    expect(opened).toHaveLength(1);
    await pool.release(b.session, true);
    await pool.close();
    expect(a.session.ended).toBe(true);
  });

  it('hands a session still being reset to the next acquire rather than opening another (one waiter per reset)', async () => {
    const { hooks, opened } = fakeHooks();
    let finishReset: () => void = () => {};
    const slowReset: SessionPoolHooks<Fake> = {
      ...hooks,
      reset: (s) =>
        new Promise<void>((resolve) => {
          finishReset = () => {
            void hooks.reset(s).then(resolve);
          };
        }),
    };
    const pool = new SessionPool(slowReset, { max: 3, idleTimeoutMs: 10_000, acquireTimeoutMs: 1_000 });
    const a = await pool.acquire();
    const released = pool.release(a.session, true);
    const waiting = pool.acquire();
    // a second acquire does not wait for the same reset: room left, it opens a session
    const other = await pool.acquire();
    expect(other.session).not.toBe(a.session);
    finishReset();
    await released;
    expect(await waiting).toEqual({ session: a.session, reused: true });
    expect(a.session.resets).toBe(1);
    expect(opened).toHaveLength(2);
    await pool.release(other.session, false);
    await pool.release(a.session, false);
    await pool.close();
  });

  it('never reuses a session that was not released as reusable, or whose reset failed, or that broke', async () => {
    const { hooks, opened } = fakeHooks({ failReset: (s) => s.id === 2 });
    const pool = new SessionPool(hooks, { max: 5, idleTimeoutMs: 10_000, acquireTimeoutMs: 1_000 });
    const a = await pool.acquire();
    await pool.release(a.session, false);
    expect(a.session.ended).toBe(true);
    expect(a.session.resets).toBe(0);
    const b = await pool.acquire();
    expect(b.session.id).toBe(2);
    await pool.release(b.session, true);
    expect(b.session.ended).toBe(true);
    const c = await pool.acquire();
    await pool.release(c.session, true);
    c.session.alive = false; // broke while idle
    const d = await pool.acquire();
    expect(d.session.id).toBe(4);
    expect(d.reused).toBe(false);
    expect(c.session.ended).toBe(true);
    expect(opened).toHaveLength(4);
    await pool.release(d.session, true);
    await pool.close();
  });

  it('opens at most `max` sessions; the next acquire waits for a release, or fails after the acquire timeout', async () => {
    const { hooks, opened } = fakeHooks();
    const pool = new SessionPool(hooks, { max: 2, idleTimeoutMs: 10_000, acquireTimeoutMs: 200 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    const waiting = pool.acquire();
    await sleep(20);
    expect(pool.stats).toMatchObject({ busy: 2, waiting: 1 });
    await pool.release(a.session, true);
    expect(await waiting).toEqual({ session: a.session, reused: true });
    await expect(pool.acquire()).rejects.toMatchObject({ kind: 'connection_error', message: expect.stringMatching(/All 2 sessions/) });
    expect(opened).toHaveLength(2);
    // a session that is ended makes room for a new one for the next waiter
    const third = pool.acquire();
    await pool.release(b.session, false);
    expect((await third).session.id).toBe(3);
    await pool.close();
  });

  it('ends idle sessions after the idle timeout', async () => {
    const { hooks } = fakeHooks();
    const pool = new SessionPool(hooks, { max: 2, idleTimeoutMs: 50, acquireTimeoutMs: 1_000 });
    const a = await pool.acquire();
    await pool.release(a.session, true);
    expect(pool.stats.idle).toBe(1);
    await sleep(150);
    expect(a.session.ended).toBe(true);
    expect(pool.stats.idle).toBe(0);
    expect(pool.empty).toBe(true);
  });

  it('close() ends idle sessions at once, busy ones when released, and refuses new acquires', async () => {
    const { hooks } = fakeHooks();
    const pool = new SessionPool(hooks, { max: 3, idleTimeoutMs: 10_000, acquireTimeoutMs: 1_000 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    await pool.release(a.session, true);
    await pool.close();
    expect(a.session.ended).toBe(true);
    expect(b.session.ended).toBe(false);
    await pool.release(b.session, true);
    expect(b.session.ended).toBe(true);
    await expect(pool.acquire()).rejects.toMatchObject({ kind: 'connection_error' });
  });
});

describe('DatasourceSessionPools', () => {
  it('replaces a pool when the settings change and closes it on evict', async () => {
    const pools = new DatasourceSessionPools({ idleTimeoutMs: 10_000 });
    const { hooks } = fakeHooks();
    const make = () => new SessionPool(hooks, { max: 2, idleTimeoutMs: 10_000, acquireTimeoutMs: 1_000 });
    const first = pools.pool('ds1', 'v1', make);
    expect(pools.pool('ds1', 'v1', make)).toBe(first);
    const s = await first.acquire();
    await first.release(s.session, true);
    const second = pools.pool('ds1', 'v2', make);
    expect(second).not.toBe(first);
    await sleep(10);
    expect(s.session.ended).toBe(true);
    const t = await second.acquire();
    await second.release(t.session, true);
    await pools.evict('ds1');
    expect(t.session.ended).toBe(true);
    expect(pools.pool('ds1', 'v2', make)).not.toBe(second);
    await pools.closeAll();
  });
});
