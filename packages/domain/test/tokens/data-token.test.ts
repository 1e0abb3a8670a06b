import { describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { DataTokens } from '../../src/tokens/data-token.js';
import { ForbiddenError, UnauthenticatedError } from '../../src/errors.js';

const SECRET = 'unit-test-data-token-secret-0123456789';

/** Runs `fn` until it completes within one wall-clock second (so both sides see the same `iat`). */
function sameSecond<T>(fn: () => T): T {
  for (;;) {
    const before = Math.floor(Date.now() / 1000);
    const out = fn();
    if (Math.floor(Date.now() / 1000) === before) return out;
  }
}

describe('DataTokens', () => {
  it('signs byte-for-byte what jsonwebtoken signs with the plain string secret', () => {
    const tokens = new DataTokens(SECRET, 300);
    const [ours, reference] = sameSecond(() => [
      tokens.sign({
        organizationId: 'org1',
        dataKey: 'org1/sql_query/abc',
        kind: 'result',
        format: 'csv',
        csv: { columnSeparator: ';', decimalSeparator: ',', quoteStyle: 'always' },
      }),
      jwt.sign({ org: 'org1', dk: 'org1/sql_query/abc', kind: 'result', fmt: 'csv', csv: [';', ',', 'always'] }, SECRET, {
        algorithm: 'HS256',
        expiresIn: 300,
        issuer: 'sightline-api',
        audience: 'sightline-data',
      }),
    ]);
    expect(ours).toBe(reference);
  });

  it('reuses a token for the same claims within a second, and keeps kinds, keys and formats apart', () => {
    const tokens = new DataTokens(SECRET, 300);
    const grant = { organizationId: 'org1', dataKey: 'org1/sql_query/abc', kind: 'result' as const, format: 'json' as const };
    const [a, b, other, schema] = sameSecond(() => [
      tokens.sign(grant),
      tokens.sign(grant),
      tokens.sign({ ...grant, dataKey: 'org1/sql_query/def' }),
      tokens.sign({ ...grant, kind: 'schema' }),
    ]);
    expect(a).toBe(b);
    expect(tokens.verify(`Data ${a}`, grant.dataKey, 'result')).toEqual(grant);
    expect(() => tokens.verify(`Data ${other}`, grant.dataKey, 'result')).toThrow(ForbiddenError);
    expect(() => tokens.verify(`Data ${schema}`, grant.dataKey, 'result')).toThrow(ForbiddenError);
    expect(() => new DataTokens(`${SECRET}x`, 300).verify(`Data ${a}`, grant.dataKey, 'result')).toThrow(UnauthenticatedError);
  });

  it('verifies a token made by jsonwebtoken with the string secret', () => {
    const token = jwt.sign({ org: 'o', dk: 'o/k', kind: 'schema', fmt: 'json' }, SECRET, {
      algorithm: 'HS256',
      expiresIn: 60,
      issuer: 'sightline-api',
      audience: 'sightline-data',
    });
    expect(new DataTokens(SECRET, 300).verify(`Data ${token}`, 'o/k', 'schema')).toEqual({
      organizationId: 'o',
      dataKey: 'o/k',
      kind: 'schema',
      format: 'json',
    });
  });
});
