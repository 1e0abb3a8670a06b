import { promisify } from 'node:util';
import { constants as zlibConstants, crc32, deflateRaw as deflateRawCallback } from 'node:zlib';

const deflateRaw = promisify(deflateRawCallback);

/** The 10-byte gzip header zlib writes: deflate, no flags, no mtime, OS unix. */
export const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]);
/** A final, empty fixed-Huffman deflate block: ends a deflate stream after a sync flush. */
export const FINAL_DEFLATE_BLOCK = Buffer.from([0x03, 0x00]);
const SYNC_FLUSH_MARKER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** A byte-aligned run of deflate blocks that is never final, with the CRC-32 and length of its text. */
export interface DeflateRun {
  deflate: Buffer;
  crc: number;
  /** Uncompressed length in bytes. */
  length: number;
}

/**
 * Compresses `text` into a deflate run that ends with a sync flush (byte-aligned, no final block),
 * so runs can be concatenated into one deflate stream.
 */
export async function deflateRun(text: Buffer, level = 4): Promise<DeflateRun> {
  const deflate = await deflateRaw(text, { level, memLevel: 9, finishFlush: zlibConstants.Z_SYNC_FLUSH });
  return { deflate, crc: crc32(text), length: text.length };
}

/**
 * A gzip member whose deflate data ends with a sync flush and an empty final block. Any gzip
 * decoder reads it; a server can also splice members into ONE member (header, the members'
 * deflate runs, final block, combined CRC), because `spliceableRun` finds the run without
 * decompressing. Result chunks are stored in this form.
 */
export async function gzipSpliceable(text: string | Buffer, level = 4): Promise<Buffer> {
  const run = await deflateRun(typeof text === 'string' ? Buffer.from(text) : text, level);
  return Buffer.concat([GZIP_HEADER, run.deflate, FINAL_DEFLATE_BLOCK, gzipTrailer(run.crc, run.length)]);
}

/** The 8-byte gzip trailer: CRC-32 and length mod 2^32, little-endian. */
export function gzipTrailer(crc: number, length: number): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(length % 2 ** 32, 4);
  return trailer;
}

/**
 * The deflate run inside a member written by `gzipSpliceable`, or undefined when the member has
 * another shape (header flags, a final block with data): such a member must be recompressed.
 * `length` is the trailer's ISIZE, exact for chunks below 4 GiB.
 */
export function spliceableRun(member: Buffer): DeflateRun | undefined {
  const n = member.length;
  if (n < GZIP_HEADER.length + SYNC_FLUSH_MARKER.length + FINAL_DEFLATE_BLOCK.length + 8) return undefined;
  if (member.compare(GZIP_HEADER, 0, 4, 0, 4) !== 0) return undefined;
  const runEnd = n - 8 - FINAL_DEFLATE_BLOCK.length;
  if (member.compare(FINAL_DEFLATE_BLOCK, 0, 2, runEnd, runEnd + 2) !== 0) return undefined;
  if (member.compare(SYNC_FLUSH_MARKER, 0, 4, runEnd - 4, runEnd) !== 0) return undefined;
  return { deflate: member.subarray(GZIP_HEADER.length, runEnd), crc: member.readUInt32LE(n - 8), length: member.readUInt32LE(n - 4) };
}

function gf2MatrixTimes(mat: Uint32Array, vec: number): number {
  let sum = 0;
  for (let i = 0; vec !== 0; i++, vec >>>= 1) if (vec & 1) sum ^= mat[i]!;
  return sum >>> 0;
}

function gf2MatrixSquare(square: Uint32Array, mat: Uint32Array): void {
  for (let n = 0; n < 32; n++) square[n] = gf2MatrixTimes(mat, mat[n]!);
}

/**
 * CRC-32 of `A + B` from `crc(A)`, `crc(B)` and `len(B)` (zlib's `crc32_combine`): what a spliced
 * gzip member's trailer needs without the uncompressed bytes.
 */
export function crc32Combine(crc1: number, crc2: number, length2: number): number {
  if (length2 <= 0) return crc1 >>> 0;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  odd[0] = 0xedb88320; // the CRC-32 polynomial: operator for one zero bit
  for (let n = 1, row = 1; n < 32; n++, row = (row << 1) >>> 0) odd[n] = row;
  gf2MatrixSquare(even, odd); // two zero bits
  gf2MatrixSquare(odd, even); // four zero bits
  let crc = crc1 >>> 0;
  let len = length2;
  // apply len2 zero bytes to crc1 (first squaring puts the operator for one zero byte in `even`)
  for (;;) {
    gf2MatrixSquare(even, odd);
    if (len % 2 === 1) crc = gf2MatrixTimes(even, crc);
    len = Math.floor(len / 2);
    if (len === 0) break;
    gf2MatrixSquare(odd, even);
    if (len % 2 === 1) crc = gf2MatrixTimes(odd, crc);
    len = Math.floor(len / 2);
    if (len === 0) break;
  }
  return (crc ^ crc2) >>> 0;
}
