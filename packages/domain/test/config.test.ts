import { describe, expect, it } from '@jest/globals';
import { ConfigError, parseConfig } from '../src/config/config.js';

describe('parseConfig', () => {
  it('gives defaults for an empty environment', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({ apiPort: 8080, dataPort: 8081, dataDir: './.sightline', logLevel: 'info', dataTokenTtlSeconds: 300, sampleData: true });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.encryptionKey).toBeUndefined();
  });

  it('reads every variable', () => {
    const c = parseConfig({
      DATABASE_URL: 'postgres://u@h/db',
      API_PORT: '9000',
      DATA_PORT: '9001',
      SIGHTLINE_DATA_DIR: '/data',
      SIGHTLINE_ADMIN_API_KEY: 'a'.repeat(30),
      SIGHTLINE_DATA_TOKEN_SECRET: 's'.repeat(40),
      SIGHTLINE_ENCRYPTION_KEY: 'ab'.repeat(32),
      LOG_LEVEL: 'debug',
      SAMPLE_DATA: 'false',
    });
    expect(c).toMatchObject({ databaseUrl: 'postgres://u@h/db', apiPort: 9000, dataPort: 9001, dataDir: '/data', logLevel: 'debug', sampleData: false });
    expect(c.encryptionKey?.length).toBe(32);
  });

  it('accepts a base64 encryption key', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(parseConfig({ SIGHTLINE_ENCRYPTION_KEY: key }).encryptionKey?.equals(Buffer.alloc(32, 7))).toBe(true);
  });

  it('lists every problem at once', () => {
    let error: ConfigError | undefined;
    try {
      parseConfig({ API_PORT: 'eighty', DATA_PORT: '70000', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x' });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems.length).toBeGreaterThanOrEqual(4);
    expect(error!.message).toMatch(/API_PORT/);
    expect(error!.message).toMatch(/DATA_PORT/);
    expect(error!.message).toMatch(/LOG_LEVEL/);
    expect(error!.message).toMatch(/DATABASE_URL/);
  });

  it('requires the signing and encryption keys with DATABASE_URL', () => {
    expect(() => parseConfig({ DATABASE_URL: 'postgres://h/db' })).toThrow(/SIGHTLINE_DATA_TOKEN_SECRET[\s\S]*SIGHTLINE_ENCRYPTION_KEY/);
  });

  it('rejects a short admin key, a malformed encryption key and equal ports', () => {
    expect(() => parseConfig({ SIGHTLINE_ADMIN_API_KEY: 'short' })).toThrow(/at least 24/);
    expect(() => parseConfig({ SIGHTLINE_ENCRYPTION_KEY: 'not-a-key' })).toThrow(/32 bytes/);
    expect(() => parseConfig({ API_PORT: '9000', DATA_PORT: '9000' })).toThrow(/must differ/);
  });
});
