import { describe, expect, it } from '@jest/globals';
import { ColumnStats, hash32, hllHash, hllKey } from '../../src/results/field-stats.js';

describe('distinct-count hashing', () => {
  it('hashes every key as the hash of its key text (without building the text)', () => {
    const keys: unknown[] = [
      0,
      -0,
      1,
      -1,
      9,
      10,
      99,
      100,
      123456789,
      -987654321,
      2 ** 31,
      -(2 ** 31) - 1,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
      2 ** 53,
      1e21,
      -1e21,
      0.5,
      -0.25,
      1 / 3,
      1e-7,
      5e-324,
      true,
      false,
      null,
      '',
      '1',
      'Zürich 😀',
      '\u0000number:1',
    ];
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 5000; i++) keys.push(Math.round((next() - 0.5) * 2 ** (i % 54)), (next() - 0.5) * 10 ** (i % 30));
    for (const key of keys) expect([key, hllHash(key)]).toEqual([key, hash32(hllKey(key))]);
  });

  it('keeps 1 and "1" apart and estimates large distinct counts', () => {
    const small = new ColumnStats('String');
    for (const v of [1, '1', 1, '1']) small.add(v);
    expect(small.uniqueCount()).toBe(2);
    const large = new ColumnStats('Integer');
    for (let i = 0; i < 100_000; i++) large.add(i % 50_000);
    expect(Math.abs(large.uniqueCount() - 50_000) / 50_000).toBeLessThan(0.05);
  });
});
