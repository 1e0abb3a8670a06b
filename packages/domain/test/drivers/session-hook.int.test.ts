// The session id of a query is known before its statement is sent (so another process can end it
// if the worker dies), and `endSession` ends such a session from a separate driver.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createDriver, type ConnectionSettings, type RunningQuery } from '../../src/drivers/index.js';
import { drain, pgAdminUrl, rejectionOf } from './support.js';

const admin = pgAdminUrl();
const settingsOf: Record<'postgres' | 'mariadb', ConnectionSettings> = {
  postgres: {
    databaseType: 'postgres',
    host: admin.hostname,
    port: Number(admin.port || 5432),
    username: decodeURIComponent(admin.username) || 'postgres',
    password: admin.password ? decodeURIComponent(admin.password) : null,
    database: 'postgres',
    requireSsl: false,
    verifySsl: false,
    dataTimeZone: 'UTC',
    connectTimeoutMs: 3000,
  },
  mariadb: {
    databaseType: 'mariadb',
    host: '127.0.0.1',
    port: 3306,
    username: 'root',
    password: null,
    database: 'test',
    requireSsl: false,
    verifySsl: false,
    dataTimeZone: 'UTC',
    connectTimeoutMs: 3000,
  },
};
const SLEEP = { postgres: 'SELECT pg_sleep(60) AS slept', mariadb: 'SELECT SLEEP(60) AS slept' };

let pgObserver: pg.Client;
let mariaObserver: mysql.Connection;

/** What session `id` runs now: null when the session is gone, '' when idle. */
async function statementOf(kind: 'postgres' | 'mariadb', id: number): Promise<string | null> {
  if (kind === 'postgres') {
    const { rows } = await pgObserver.query<{ state: string; query: string }>('SELECT state, query FROM pg_stat_activity WHERE pid = $1', [id]);
    return rows[0] ? (rows[0].state === 'active' ? rows[0].query : '') : null;
  }
  const [rows] = (await mariaObserver.query('SELECT COMMAND, INFO FROM information_schema.PROCESSLIST WHERE ID = ?', [id])) as unknown as [
    Array<{ COMMAND: string; INFO: string | null }>,
  ];
  return rows[0] ? (rows[0].INFO ?? '') : null;
}

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  pgObserver = new pg.Client({ connectionString: admin.toString() });
  await pgObserver.connect();
  mariaObserver = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' });
});

afterAll(async () => {
  await pgObserver?.end();
  await mariaObserver?.end();
});

describe.each(['postgres', 'mariadb'] as const)('%s', (kind) => {
  it('reports the session id before the statement is sent, and endSession from another driver ends the running query', async () => {
    const driver = createDriver(settingsOf[kind]);
    const seen: Array<{ id: number; statement: string | null }> = [];
    let running: RunningQuery | undefined;
    try {
      running = await driver.query(SLEEP[kind], [], {
        timeoutMs: 60_000,
        onSession: async (id) => {
          seen.push({ id, statement: await statementOf(kind, id) });
        },
      });
      expect(seen).toEqual([{ id: running.backendId, statement: '' }]);
      expect(
        await until(
          () => statementOf(kind, running!.backendId),
          (s) => Boolean(s && /sleep/i.test(s)),
        ),
      ).toMatch(/sleep/i);
      const other = createDriver(settingsOf[kind]);
      try {
        expect(await other.endSession(running.backendId)).toBe(true);
        expect(
          await until(
            () => statementOf(kind, running!.backendId),
            (s) => s === null,
          ),
        ).toBeNull();
        expect(await other.endSession(running.backendId)).toBe(false);
      } finally {
        await other.close();
      }
      // (the worker that ran it is dead in real use: only the postgres client reads its socket's end here)
      if (kind === 'postgres') expect(await rejectionOf(drain(running))).toBeInstanceOf(Error);
    } finally {
      await running?.close();
      await driver.close();
    }
  });

  it('a failing onSession ends the session and passes its error on', async () => {
    const driver = createDriver(settingsOf[kind]);
    let sessionId = 0;
    const failure = new Error('metadata database down');
    try {
      const err = await rejectionOf(
        driver.query(SLEEP[kind], [], {
          timeoutMs: 60_000,
          onSession: async (id) => {
            sessionId = id;
            throw failure;
          },
        }),
      );
      expect(err).toBe(failure);
      expect(sessionId).toBeGreaterThan(0);
      expect(
        await until(
          () => statementOf(kind, sessionId),
          (s) => s === null,
        ),
      ).toBeNull();
    } finally {
      await driver.close();
    }
  });
});

it('postgres endSession leaves sessions Sightline did not open alone', async () => {
  const { rows } = await pgObserver.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const driver = createDriver(settingsOf.postgres);
  try {
    expect(await driver.endSession(rows[0]!.pid)).toBe(false);
    expect((await pgObserver.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  } finally {
    await driver.close();
  }
});
