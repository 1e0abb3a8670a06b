import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import type { ConnectionSettings } from '../../src/drivers/index.js';
import { settingsFingerprint } from '../../src/drivers/session-pool.js';
import { TransportSocket } from '../../src/drivers/transport.js';

const base: ConnectionSettings = {
  databaseType: 'postgres',
  host: '127.0.0.1',
  port: 5432,
  username: 'u',
  password: null,
  database: 'd',
  requireSsl: false,
  verifySsl: false,
  dataTimeZone: 'UTC',
};
const open = () => Promise.resolve(new PassThrough());

describe('transports and pooled sessions', () => {
  it('never shares pooled sessions between direct TCP and a transport, or between transport paths', () => {
    const direct = settingsFingerprint(base);
    const tunnelA = settingsFingerprint({ ...base, transport: { key: 'ssh:a@bastion:22', open } });
    const tunnelB = settingsFingerprint({ ...base, transport: { key: 'ssh:a@bastion:2222', open } });
    expect(new Set([direct, tunnelA, tunnelB]).size).toBe(3);
    expect(settingsFingerprint({ ...base, transport: { key: 'ssh:a@bastion:22', open } })).toBe(tunnelA);
  });

  it('passes ref/unref to the inner stream and announces connect after the caller listens', async () => {
    const inner = new PassThrough();
    const calls: string[] = [];
    Object.assign(inner, { ref: () => calls.push('ref'), unref: () => calls.push('unref') });
    const socket = new TransportSocket(inner);
    socket.unref();
    socket.ref();
    expect(calls).toEqual(['unref', 'ref']);
    await new Promise<void>((resolve) => socket.connect().once('connect', () => resolve()));
    // bytes pass both ways
    const got = new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
    inner.write('from the database');
    expect(await got).toBe('from the database');
    socket.destroy();
    await new Promise((r) => setImmediate(r));
    expect(inner.destroyed).toBe(true);
  });
});
