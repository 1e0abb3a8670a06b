import { describe, expect, it } from '@jest/globals';
import { parseChunkCopy } from '../../src/results/pg-result-store.js';

/** `COPY … (FORMAT binary)` output of rows `(seq int4, first_row int8, row_count int4, bytes bytea)`. */
function copyOutput(chunks: Array<{ seq: number; firstRow: number; rowCount: number; bytes: Buffer }>): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(4), Buffer.from([0, 0, 0, 3, 1, 2, 3])];
  for (const c of chunks) {
    const head = Buffer.alloc(2 + 32);
    head.writeInt16BE(4, 0);
    head.writeInt32BE(4, 2);
    head.writeInt32BE(c.seq, 6);
    head.writeInt32BE(8, 10);
    head.writeBigInt64BE(BigInt(c.firstRow), 14);
    head.writeInt32BE(4, 22);
    head.writeInt32BE(c.rowCount, 26);
    head.writeInt32BE(c.bytes.length, 30);
    parts.push(head, c.bytes);
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

describe('parseChunkCopy', () => {
  const chunks = [
    { seq: 0, firstRow: 0, rowCount: 3, bytes: Buffer.from('a'.repeat(100)) },
    { seq: 1, firstRow: 3, rowCount: 2, bytes: Buffer.alloc(0) },
    { seq: 2, firstRow: 2 ** 40, rowCount: 7, bytes: Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256)) },
  ];
  const whole = copyOutput(chunks);

  it('parses the whole output', () => {
    expect(parseChunkCopy(whole)).toEqual(chunks);
  });

  it('parses the output in pieces split anywhere, each chunk in a buffer of its own', () => {
    for (const size of [1, 2, 7, 33, 64, 101, 500]) {
      const pieces: Buffer[] = [];
      for (let at = 0; at < whole.length; at += size) pieces.push(Buffer.from(whole.subarray(at, at + size)));
      const parsed = parseChunkCopy(pieces);
      expect(parsed).toEqual(chunks);
      // a chunk spanning pieces is a copy: it does not keep the pieces (or the batch) alive
      for (const c of parsed) if (c.bytes.length > size) expect(pieces.some((p) => p.buffer === c.bytes.buffer)).toBe(false);
    }
  });

  it('rejects a truncated stream and a stream that is not binary COPY', () => {
    expect(() => parseChunkCopy([whole.subarray(0, whole.length - 50)])).toThrow('truncated COPY stream');
    expect(() => parseChunkCopy(Buffer.from('not a copy stream at all'))).toThrow('not a binary COPY stream');
  });
});
