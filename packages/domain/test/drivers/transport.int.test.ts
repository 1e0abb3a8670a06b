// Both drivers over a DatasourceTransport (the hook SSH tunnels and agents plug into), here a plain
// TCP stream opened by the test: every session goes through `open`, and a broken stream or a failing
// `open` gives a clear error.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { QueryError, createDriver, type ConnectionSettings, type DatasourceTransport } from '../../src/drivers/index.js';
import { allRows, pgAdminUrl, rejectionOf, sleep } from './support.js';

const admin = pgAdminUrl();

/** A transport that dials TCP itself, records every open and keeps the streams it handed out. */
class RecordingTransport implements DatasourceTransport {
  readonly opened: Array<{ host: string; port: number }> = [];
  readonly streams: net.Socket[] = [];

  open(host: string, port: number): Promise<Duplex> {
    this.opened.push({ host, port });
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host);
      socket.once('connect', () => {
        socket.removeListener('error', reject);
        this.streams.push(socket);
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }
}

const targets: Array<{ name: string; settings: ConnectionSettings; sleepSql: string }> = [
  {
    name: 'postgres',
    settings: {
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
    sleepSql: 'SELECT pg_sleep(30)',
  },
  {
    name: 'mariadb',
    settings: {
      databaseType: 'mariadb',
      host: '127.0.0.1',
      port: 3306,
      username: 'root',
      password: null,
      database: null,
      requireSsl: false,
      verifySsl: false,
      dataTimeZone: 'UTC',
      connectTimeoutMs: 3000,
    },
    sleepSql: 'SELECT SLEEP(30)',
  },
];

describe.each(targets)('$name driver over a transport', ({ settings, sleepSql }) => {
  let transport: RecordingTransport;

  beforeAll(() => {
    transport = new RecordingTransport();
  });

  afterAll(() => {
    for (const s of transport.streams) s.destroy();
  });

  it('opens every session through the transport: test connection, query, schema', async () => {
    const driver = createDriver({ ...settings, transport });
    await expect(driver.testConnection()).resolves.toHaveProperty('serverVersion');
    expect(transport.opened).toEqual([{ host: settings.host, port: settings.port }]);
    const q = await driver.query('SELECT 1 + 1 AS two', [], { timeoutMs: 10_000 });
    expect(await q.columns()).toMatchObject([{ name: 'two' }]);
    expect((await allRows(q)).map((r) => Number(r[0]))).toEqual([2]);
    await q.close();
    const schema = await driver.introspect({ timeoutMs: 10_000 });
    expect(schema.server_version).toBeTruthy();
    expect(transport.opened.length).toBe(3);
    await driver.close();
  });

  it('cancels through the transport (the cancel session is opened through it too)', async () => {
    const driver = createDriver({ ...settings, transport });
    const before = transport.opened.length;
    const q = await driver.query(sleepSql, [], { timeoutMs: 60_000 });
    await sleep(200);
    await q.cancel();
    const err = await rejectionOf(allRows(q));
    expect(err).toBeInstanceOf(QueryError);
    expect(err.kind).toBe('cancelled');
    expect(transport.opened.length).toBeGreaterThanOrEqual(before + 2);
    await driver.close();
  });

  it('reports a stream destroyed mid-query with the transport reason', async () => {
    const driver = createDriver({ ...settings, transport });
    const q = await driver.query(sleepSql, [], { timeoutMs: 60_000 });
    const stream = transport.streams[transport.streams.length - 1]!;
    setTimeout(() => stream.destroy(new Error('The SSH tunnel to bastion:22 closed')), 200);
    const err = await rejectionOf(allRows(q));
    expect(err).toBeInstanceOf(QueryError);
    expect(err.message).toContain('The SSH tunnel to bastion:22 closed');
    await q.close();
    await driver.close();
  });

  it('gives a connection_error when the transport cannot open, or does not answer in time', async () => {
    const failing: DatasourceTransport = { open: () => Promise.reject(new QueryError('connection_error', 'SSH tunnel to bastion:22: authentication failed')) };
    let err = await rejectionOf(createDriver({ ...settings, transport: failing }).testConnection());
    expect(err).toMatchObject({ kind: 'connection_error', message: 'SSH tunnel to bastion:22: authentication failed' });

    const plain: DatasourceTransport = { open: () => Promise.reject(new Error('boom')) };
    err = await rejectionOf(createDriver({ ...settings, transport: plain }).query('SELECT 1', [], { timeoutMs: 5000 }));
    expect(err).toMatchObject({ kind: 'connection_error', message: `Could not connect to ${settings.host}:${settings.port}: boom` });

    const hung: DatasourceTransport = { open: () => new Promise<Duplex>(() => {}) };
    err = await rejectionOf(createDriver({ ...settings, transport: hung, connectTimeoutMs: 300 }).testConnection());
    expect(err).toMatchObject({ kind: 'connection_error', message: `Could not connect to ${settings.host}:${settings.port} within 300 ms` });
  });
});
