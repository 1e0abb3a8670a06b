// Helpers of the driver integration tests.
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import pg from 'pg';
import type { ConnectionSettings, RunningQuery } from '../../src/drivers/index.js';

/** The PostgreSQL of the test run (test/global-setup.ts), else the local default. */
export function pgAdminUrl(): URL {
  return new URL(process.env.SIGHTLINE_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
}

/** A TCP port on 127.0.0.1 with nothing listening (bound once, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A listening socket that accepts connections and never answers (a hung server). */
export async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// A garbage collection on demand, so heap samples measure live memory rather than pending garbage.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

/**
 * Drains a query, returning the row count, the batch sizes and the peak growth of LIVE heap while
 * streaming (sampled after a forced GC every 10 batches).
 */
export async function drain(
  query: RunningQuery,
  onBatch?: (rows: unknown[][]) => unknown,
): Promise<{ rowCount: number; batches: number[]; peakHeapGrowth: number }> {
  collectGarbage();
  const start = process.memoryUsage().heapUsed;
  let peak = 0;
  let rowCount = 0;
  const batches: number[] = [];
  for await (const batch of query.rows()) {
    rowCount += batch.length;
    batches.push(batch.length);
    if (batches.length % 10 === 0) {
      collectGarbage();
      peak = Math.max(peak, process.memoryUsage().heapUsed - start);
    }
    if (onBatch) await onBatch(batch);
  }
  return { rowCount, batches, peakHeapGrowth: peak };
}

/** Awaits the rejection of `promise` and returns the error (fails when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { kind?: string; code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { kind?: string; code?: string };
  }
  throw new Error('expected a rejection');
}

/** Collects every row of a (small) query. */
export async function allRows(query: RunningQuery): Promise<unknown[][]> {
  const rows: unknown[][] = [];
  for await (const batch of query.rows()) rows.push(...batch);
  return rows;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Settings of a driver for `database` on the test PostgreSQL (a generous connect timeout: a loaded machine may take seconds). */
export function pgTestSettings(database: string, overrides: Partial<ConnectionSettings> = {}): ConnectionSettings {
  const admin = pgAdminUrl();
  return {
    databaseType: 'postgres',
    host: admin.hostname,
    port: Number(admin.port || 5432),
    username: decodeURIComponent(admin.username) || 'postgres',
    password: admin.password ? decodeURIComponent(admin.password) : null,
    database,
    requireSsl: false,
    verifySsl: false,
    dataTimeZone: 'UTC',
    connectTimeoutMs: 15_000,
    ...overrides,
  };
}

/** Runs one statement on the test server's maintenance database (CREATE/DROP DATABASE). */
export async function onPgAdmin(sql: string): Promise<void> {
  const a = new pg.Client({ connectionString: pgAdminUrl().toString() });
  await a.connect();
  try {
    await a.query(sql);
  } finally {
    await a.end();
  }
}

/** The connection URL of `database` on the test server. */
export function pgDatabaseUrl(database: string): string {
  const u = pgAdminUrl();
  u.pathname = `/${database}`;
  return u.toString();
}
