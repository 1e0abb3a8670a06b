// A what-if for the benchmark: `PgResultStore` with `readChunks` reading through
// `COPY (SELECT …) TO STDOUT (FORMAT binary)` — raw bytea bytes on the wire instead of the hex text
// PostgreSQL produces for a plain SELECT (the measured bottleneck of serving a result). Same batches,
// same bounded memory. Kept in bench/ until the result store adopts it.
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { PgResultStore, type Knex, type StoredChunk } from '@sightline/domain';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const BATCH = 16;

/** Parses `COPY … (FORMAT binary)` output of `seq int4, first_row int8, row_count int4, bytes bytea`. */
export function parseChunkCopy(data: Buffer): StoredChunk[] {
  if (data.compare(COPY_SIGNATURE, 0, 11, 0, 11) !== 0) throw new Error('not a binary COPY stream');
  let at = 11 + 4;
  at += 4 + data.readUInt32BE(at);
  const out: StoredChunk[] = [];
  for (;;) {
    const fields = data.readInt16BE(at);
    at += 2;
    if (fields === -1) return out;
    if (fields !== 4) throw new Error(`expected 4 fields, got ${fields}`);
    const seq = data.readInt32BE(at + 4);
    at += 8;
    const firstRow = Number(data.readBigInt64BE(at + 4));
    at += 12;
    const rowCount = data.readInt32BE(at + 4);
    at += 8;
    const length = data.readInt32BE(at);
    at += 4;
    out.push({ seq, firstRow, rowCount, bytes: data.subarray(at, at + length) });
    at += length;
  }
}

export class CopyPgResultStore extends PgResultStore {
  constructor(private readonly knex: Knex) {
    super(knex);
  }

  override async *readChunks(executionId: string, fromSeq: number, toSeq: number): AsyncIterable<StoredChunk> {
    // COPY takes no bind parameters: the values are checked instead
    if (!UUID.test(executionId) || !Number.isSafeInteger(fromSeq) || !Number.isSafeInteger(toSeq)) throw new Error('invalid chunk range');
    for (let start = fromSeq; start <= toSeq; start += BATCH) {
      const end = Math.min(toSeq, start + BATCH - 1);
      const sql = `COPY (SELECT seq, first_row, row_count, bytes FROM result_chunks WHERE execution_id = '${executionId}' AND seq BETWEEN ${start} AND ${end} ORDER BY seq) TO STDOUT (FORMAT binary)`;
      // the connection goes back to the pool after each batch: a slow client never pins one
      const conn = (await this.knex.client.acquireConnection()) as pg.Client;
      const parts: Buffer[] = [];
      try {
        for await (const part of conn.query(copyTo(sql))) parts.push(part as Buffer);
      } finally {
        await this.knex.client.releaseConnection(conn);
      }
      const chunks = parseChunkCopy(Buffer.concat(parts));
      for (const chunk of chunks) yield chunk;
      if (chunks.length < end - start + 1) return;
    }
  }
}
