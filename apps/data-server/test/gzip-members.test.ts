import { randomBytes } from 'node:crypto';
import { constants as zlibConstants, crc32, gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import { FINAL_DEFLATE_BLOCK, GZIP_HEADER, crc32Combine, gzipSpliceable, gzipTrailer, spliceableRun } from '@sightline/domain';

describe('crc32Combine', () => {
  it.each([
    [0, 0],
    [1, 1],
    [5, 300],
    [1000, 1],
    [65_537, 1_048_577],
  ])('equals the CRC of the concatenation (%i + %i bytes)', (a, b) => {
    const left = randomBytes(a);
    const right = randomBytes(b);
    expect(crc32Combine(crc32(left), crc32(right), right.length)).toBe(crc32(Buffer.concat([left, right])));
  });
});

describe('spliceable gzip members', () => {
  it('decode with any gunzip and expose their deflate run', async () => {
    const text = JSON.stringify(Array.from({ length: 5000 }, (_, i) => [i, `ü${i}`]));
    const member = await gzipSpliceable(text);
    expect(gunzipSync(member).toString('utf8')).toBe(text);
    const run = spliceableRun(member)!;
    expect(run).toBeDefined();
    expect(run.length).toBe(Buffer.byteLength(text));
    expect(run.crc).toBe(crc32(text));
    expect(inflateRawSync(run.deflate, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).toString('utf8')).toBe(text);
  });

  it('splice into one member', async () => {
    const parts = ['[1,"a"]', ',', '[2,"b"]', ''];
    const runs = await Promise.all(parts.map(async (p) => spliceableRun(await gzipSpliceable(p))!));
    let crc = 0;
    let length = 0;
    for (const r of runs) {
      crc = crc32Combine(crc, r.crc, r.length);
      length += r.length;
    }
    const member = Buffer.concat([GZIP_HEADER, ...runs.map((r) => r.deflate), FINAL_DEFLATE_BLOCK, gzipTrailer(crc, length)]);
    expect(gunzipSync(member).toString()).toBe(parts.join(''));
  });

  it('refuses members of another shape', () => {
    expect(spliceableRun(gzipSync('hello'))).toBeUndefined();
    expect(spliceableRun(Buffer.from('not gzip at all, clearly'))).toBeUndefined();
    expect(spliceableRun(Buffer.alloc(0))).toBeUndefined();
  });
});
