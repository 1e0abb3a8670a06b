import { describe, expect, it } from '@jest/globals';
import { AgentRelayTokens, FRAME, MAX_FRAME_PAYLOAD, dataFrames, decodeFrame, decodeOpenTarget, encodeFrame } from '../../src/index.js';

describe('agent protocol frames', () => {
  it('round-trips every frame type with its channel and payload', () => {
    for (const type of Object.values(FRAME)) {
      const frame = decodeFrame(encodeFrame(type, 4_000_000_000, Buffer.from([1, 2, 3])));
      expect(frame).toEqual({ type, channel: 4_000_000_000, payload: Buffer.from([1, 2, 3]) });
    }
    expect(decodeFrame(encodeFrame(FRAME.ERROR, 7, 'could not connect: ECONNREFUSED'))!.payload.toString()).toBe('could not connect: ECONNREFUSED');
  });

  it('drops malformed frames', () => {
    expect(decodeFrame(Buffer.from([3, 0, 0]))).toBeUndefined();
    expect(decodeFrame(Buffer.from([0, 0, 0, 0, 1]))).toBeUndefined();
    expect(decodeFrame(Buffer.from([99, 0, 0, 0, 1]))).toBeUndefined();
  });

  it('splits large chunks into DATA frames of at most MAX_FRAME_PAYLOAD bytes', () => {
    const chunk = Buffer.alloc(MAX_FRAME_PAYLOAD * 2 + 10, 7);
    const frames = dataFrames(3, chunk).map((f) => decodeFrame(f)!);
    expect(frames.map((f) => f.payload.length)).toEqual([MAX_FRAME_PAYLOAD, MAX_FRAME_PAYLOAD, 10]);
    expect(Buffer.concat(frames.map((f) => f.payload)).equals(chunk)).toBe(true);
    expect(frames.every((f) => f.type === FRAME.DATA && f.channel === 3)).toBe(true);
  });

  it('accepts only well-formed open targets', () => {
    expect(decodeOpenTarget(Buffer.from('{"host":"db.internal","port":5432}'))).toEqual({ host: 'db.internal', port: 5432 });
    for (const bad of [
      '',
      'nope',
      '{"host":"","port":5432}',
      '{"host":"h","port":0}',
      '{"host":"h","port":70000}',
      '{"host":"h","port":"5432"}',
      '{"port":1}',
      `{"host":"${'h'.repeat(300)}","port":1}`,
    ]) {
      expect([bad, decodeOpenTarget(Buffer.from(bad))]).toEqual([bad, undefined]);
    }
  });
});

describe('relay tokens', () => {
  const tokens = new AgentRelayTokens(Buffer.alloc(32, 1), 60);
  const grant = { agentId: 'a'.repeat(43), organizationId: 'org1', host: '10.0.0.5', port: 5432 };

  it('verifies its own tokens until they expire', () => {
    const now = Date.UTC(2026, 0, 1);
    const token = tokens.issue(grant, now);
    expect(tokens.verify(token, now + 59_000)).toEqual(grant);
    expect(tokens.verify(token, now + 61_000)).toBeUndefined();
  });

  it('refuses tampered tokens and tokens of another deployment key', () => {
    const token = tokens.issue(grant);
    const [body, sig] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ ...grant, organizationId: 'org2', exp: 9_999_999_999 })).toString('base64url');
    expect(tokens.verify(`${forged}.${sig}`)).toBeUndefined();
    expect(tokens.verify(`${body}.${sig}x`)).toBeUndefined();
    expect(tokens.verify(`${body}`)).toBeUndefined();
    expect(tokens.verify(`${token}.extra`)).toBeUndefined();
    expect(new AgentRelayTokens(Buffer.alloc(32, 2)).verify(token)).toBeUndefined();
  });
});

describe('pooled sessions and transports', () => {
  it('a datasource switched between direct, tunnel and agent gets a new session pool', async () => {
    const { settingsFingerprint } = await import('../../src/drivers/session-pool.js');
    const base = {
      databaseType: 'postgres' as const,
      host: 'db',
      port: 5432,
      username: 'u',
      password: 'p',
      database: 'd',
      requireSsl: false,
      verifySsl: false,
      dataTimeZone: 'UTC',
    };
    const open = async () => {
      throw new Error('not used');
    };
    const direct = settingsFingerprint(base);
    const agent = settingsFingerprint({ ...base, transport: { open, key: 'agent:ds1' } });
    const tunnel = settingsFingerprint({ ...base, transport: { open, key: 'ssh:bastion:22' } });
    expect(new Set([direct, agent, tunnel]).size).toBe(3);
    expect(settingsFingerprint({ ...base, transport: { open, key: 'agent:ds1' } })).toBe(agent);
  });
});
