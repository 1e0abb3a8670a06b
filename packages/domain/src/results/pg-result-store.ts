import type { Knex } from 'knex';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { isUuid } from '../ids.js';
import type { ResultField } from './field-stats.js';
import type { ChunkIndexEntry, ResultFinish, ResultStore, StoredChunk, StoredResult } from './result-store.js';

interface ResultRow {
  execution_id: string;
  organization_id: string;
  data_key: string;
  kind: string;
  complete: boolean;
  fields: ResultField[];
  sql_rows: number;
  sql_columns: number;
  size_in_bytes: number;
  stored_bytes: number;
  chunk_count: number;
  time_zone: string;
  row_limit_reached: boolean;
  data_timestamp: Date;
  completed_at: Date;
}

function toStored(row: ResultRow): StoredResult {
  return {
    executionId: row.execution_id,
    organizationId: row.organization_id,
    dataKey: row.data_key,
    kind: row.kind === 'document' ? 'document' : 'rows',
    fields: row.fields,
    sqlRows: Number(row.sql_rows),
    sqlColumns: row.sql_columns,
    sizeInBytes: Number(row.size_in_bytes),
    storedBytes: Number(row.stored_bytes),
    chunkCount: row.chunk_count,
    timeZone: row.time_zone,
    rowLimitReached: row.row_limit_reached,
    dataTimestamp: row.data_timestamp,
    completedAt: row.completed_at,
  };
}

/** Chunks per COPY read on demand (each about 150-250 KiB compressed). */
const READ_BATCH = 4;
/** Chunks per COPY read ahead when the prefetch budget has room: fewer round trips. */
const PREFETCH_BATCH = 16;
/**
 * Bytes of chunks read ahead of their readers in all (default; see `readChunks`): a single reader
 * gets large batches fetched ahead, many concurrent readers about one small batch each.
 */
const DEFAULT_PREFETCH_BUDGET_BYTES = 16 * 1024 * 1024;
const { to: copyTo } = copyStreams;
const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * Reads consecutive bytes out of a list of buffers (the pieces of a COPY stream as they arrived).
 * A field that spans pieces is copied into a buffer of its own, so a chunk never keeps the whole
 * batch (or more than one small piece) alive.
 */
class PieceReader {
  private index = 0;
  private at = 0;

  constructor(private readonly pieces: readonly Buffer[]) {}

  take(n: number): Buffer {
    const piece = this.pieces[this.index];
    if (piece && this.at + n <= piece.length) {
      const view = piece.subarray(this.at, this.at + n);
      this.advance(n, piece.length);
      return view;
    }
    const out = Buffer.allocUnsafeSlow(n);
    let filled = 0;
    while (filled < n) {
      const p = this.pieces[this.index];
      if (!p) throw new Error('truncated COPY stream');
      const k = Math.min(n - filled, p.length - this.at);
      p.copy(out, filled, this.at, this.at + k);
      filled += k;
      this.advance(k, p.length);
    }
    return out;
  }

  private advance(n: number, length: number): void {
    this.at += n;
    if (this.at === length) {
      this.index++;
      this.at = 0;
    }
  }
}

/**
 * Parses `COPY … (FORMAT binary)` output of `seq int4, first_row int8, row_count int4, bytes bytea`,
 * given whole or as the pieces it arrived in (each chunk's bytes are then a buffer of their own).
 */
export function parseChunkCopy(data: Buffer | readonly Buffer[]): StoredChunk[] {
  const reader = new PieceReader(Buffer.isBuffer(data) ? [data] : data);
  if (reader.take(11).compare(COPY_SIGNATURE, 0, 11) !== 0) throw new Error('not a binary COPY stream');
  reader.take(4);
  reader.take(reader.take(4).readUInt32BE(0));
  const out: StoredChunk[] = [];
  for (;;) {
    const fields = reader.take(2).readInt16BE(0);
    if (fields === -1) return out;
    if (fields !== 4) throw new Error(`expected 4 fields, got ${fields}`);
    // each field: int32 length, then the value (int4, int8, int4, bytea)
    const head = reader.take(32);
    const seq = head.readInt32BE(4);
    const firstRow = Number(head.readBigInt64BE(12));
    const rowCount = head.readInt32BE(24);
    const length = head.readInt32BE(28);
    out.push({ seq, firstRow, rowCount, bytes: reader.take(length) });
  }
}

/** A process-wide allowance of bytes read ahead (see `DEFAULT_PREFETCH_BUDGET_BYTES`). */
class PrefetchBudget {
  private used = 0;

  constructor(private readonly limit: number) {}

  tryTake(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }
}

export interface PgResultStoreOptions {
  /** Bytes of chunks fetched ahead of their readers, across all reads (default 16 MiB; 0: none). */
  prefetchBudgetBytes?: number;
}

/** The default result store: tables `results` and `result_chunks` in Sightline's PostgreSQL. */
export class PgResultStore implements ResultStore {
  private readonly prefetch: PrefetchBudget;

  constructor(
    private readonly db: Knex,
    options: PgResultStoreOptions = {},
  ) {
    this.prefetch = new PrefetchBudget(options.prefetchBudgetBytes ?? DEFAULT_PREFETCH_BUDGET_BYTES);
  }

  inTransaction(trx: Knex): ResultStore {
    return new PgResultStore(trx, { prefetchBudgetBytes: 0 });
  }

  async begin(input: {
    executionId: string;
    organizationId: string;
    dataKey: string;
    kind: 'rows' | 'document';
    timeZone: string;
    retry?: boolean;
  }): Promise<void> {
    await this.db('results')
      .insert({ execution_id: input.executionId, organization_id: input.organizationId, data_key: input.dataKey, kind: input.kind, time_zone: input.timeZone })
      .onConflict('execution_id')
      .merge();
    // a retried attempt starts over
    if (input.retry) await this.db('result_chunks').where({ execution_id: input.executionId }).delete();
  }

  async appendChunk(executionId: string, chunk: StoredChunk, rawBytes: number): Promise<void> {
    await this.db('result_chunks').insert({
      execution_id: executionId,
      seq: chunk.seq,
      first_row: chunk.firstRow,
      row_count: chunk.rowCount,
      raw_bytes: rawBytes,
      bytes: chunk.bytes,
    });
  }

  async finish(executionId: string, f: ResultFinish): Promise<StoredResult> {
    const [row] = await this.db('results')
      .where({ execution_id: executionId })
      .update({
        complete: true,
        fields: JSON.stringify(f.fields),
        sql_rows: f.sqlRows,
        sql_columns: f.sqlColumns,
        size_in_bytes: f.sizeInBytes,
        row_limit_reached: f.rowLimitReached,
        data_timestamp: f.dataTimestamp,
        // clock_timestamp(), not now(): inside a longer transaction (the worker's slot) now() is when it began
        completed_at: this.db.raw('clock_timestamp()'),
        chunk_count: this.db.raw('(SELECT count(*) FROM result_chunks WHERE execution_id = ?)', [executionId]),
        stored_bytes: this.db.raw('(SELECT coalesce(sum(octet_length(bytes)), 0) FROM result_chunks WHERE execution_id = ?)', [executionId]),
      })
      .returning('*');
    return toStored(row as ResultRow);
  }

  async storeWhole(begin: Parameters<ResultStore['begin']>[0], chunk: (StoredChunk & { rawBytes: number }) | null, f: ResultFinish): Promise<StoredResult> {
    const result = {
      execution_id: begin.executionId,
      organization_id: begin.organizationId,
      data_key: begin.dataKey,
      kind: begin.kind,
      time_zone: begin.timeZone,
      complete: true,
      fields: JSON.stringify(f.fields),
      sql_rows: f.sqlRows,
      sql_columns: f.sqlColumns,
      size_in_bytes: f.sizeInBytes,
      row_limit_reached: f.rowLimitReached,
      data_timestamp: f.dataTimestamp,
      chunk_count: chunk ? 1 : 0,
      stored_bytes: chunk ? chunk.bytes.length : 0,
    };
    const columns = Object.keys(result);
    // the result row and its chunk in one statement (the chunk's foreign key is checked at its end);
    // a retried attempt replaces whatever chunks an earlier one left
    const withs: string[] = [
      `r AS (INSERT INTO results (${columns.map((c) => `"${c}"`).join(', ')}, completed_at) VALUES (${columns.map(() => '?').join(', ')}, clock_timestamp())
         ON CONFLICT (execution_id) DO UPDATE SET ${[...columns.filter((c) => c !== 'execution_id'), 'completed_at'].map((c) => `"${c}" = EXCLUDED."${c}"`).join(', ')} RETURNING *)`,
    ];
    const bindings: unknown[] = Object.values(result);
    if (chunk) {
      withs.push(`c AS (INSERT INTO result_chunks (execution_id, seq, first_row, row_count, raw_bytes, bytes) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (execution_id, seq) DO UPDATE SET first_row = EXCLUDED.first_row, row_count = EXCLUDED.row_count, raw_bytes = EXCLUDED.raw_bytes, bytes = EXCLUDED.bytes)`);
      bindings.push(begin.executionId, chunk.seq, chunk.firstRow, chunk.rowCount, chunk.rawBytes, chunk.bytes);
    }
    if (begin.retry) {
      withs.push('d AS (DELETE FROM result_chunks WHERE execution_id = ? AND seq >= ?)');
      bindings.push(begin.executionId, chunk ? 1 : 0);
    }
    const { rows } = (await this.db.raw(`WITH ${withs.join(', ')} SELECT * FROM r`, bindings as Knex.RawBinding[])) as { rows: ResultRow[] };
    return toStored(rows[0]!);
  }

  async discard(executionId: string): Promise<void> {
    await this.db('results').where({ execution_id: executionId, complete: false }).delete();
  }

  async findLatest(organizationId: string, dataKey: string): Promise<StoredResult | undefined> {
    const row = await this.db<ResultRow>('results')
      .where({ data_key: dataKey, organization_id: organizationId, complete: true })
      .orderBy('completed_at', 'desc')
      .first();
    return row ? toStored(row) : undefined;
  }

  async findLatestMany(organizationId: string, dataKeys: readonly string[]): Promise<Map<string, StoredResult>> {
    const out = new Map<string, StoredResult>();
    if (!dataKeys.length) return out;
    const rows = await this.db<ResultRow>('results')
      .distinctOn('data_key')
      .where({ organization_id: organizationId, complete: true })
      .whereIn('data_key', [...dataKeys])
      .orderBy([{ column: 'data_key' }, { column: 'completed_at', order: 'desc' }]);
    for (const row of rows) out.set(row.data_key, toStored(row));
    return out;
  }

  async findByExecution(organizationId: string, executionId: string): Promise<StoredResult | undefined> {
    const row = await this.db<ResultRow>('results').where({ execution_id: executionId, organization_id: organizationId, complete: true }).first();
    return row ? toStored(row) : undefined;
  }

  async chunkIndex(executionId: string): Promise<ChunkIndexEntry[]> {
    const rows = await this.db('result_chunks').where({ execution_id: executionId }).orderBy('seq').select('seq', 'first_row', 'row_count');
    return rows.map((r: { seq: number; first_row: number; row_count: number }) => ({ seq: r.seq, firstRow: Number(r.first_row), rowCount: r.row_count }));
  }

  /**
   * Reads chunks in batches through `COPY (SELECT …) TO STDOUT (FORMAT binary)`: bytea arrives as
   * raw bytes (a plain SELECT sends hex text, twice the size plus a decode — measured as the data
   * server's bottleneck: 105 MB/s vs 437 MB/s). The connection returns to the pool between batches,
   * so a slow client never pins one.
   *
   * While one batch is handed out, the next is fetched ahead if the store's prefetch budget allows:
   * a large one (few round trips) when the budget has room, a small one or none under many
   * concurrent readers. Bytes read ahead are charged to the budget until the reader takes them, so
   * memory is about `READ_BATCH` chunks per reader plus the budget in all.
   */
  async *readChunks(executionId: string, fromSeq: number, toSeq: number): AsyncIterable<StoredChunk> {
    // COPY takes no bind parameters: the three values are checked to be a UUID and integers instead.
    if (!isUuid(executionId) || !Number.isSafeInteger(fromSeq) || !Number.isSafeInteger(toSeq)) throw new Error('invalid chunk range');
    interface Batch {
      chunks: Promise<StoredChunk[]>;
      expected: number;
      /** Budget bytes taken for it (0: read on demand). */
      reserved: number;
    }
    let next = fromSeq;
    /** Average size of the chunks read so far: what a batch read ahead is expected to take. */
    let chunkBytes = 0;
    const request = (count: number, reserved: number): Batch => {
      const end = Math.min(toSeq, next + count - 1);
      const chunks = this.readBatch(executionId, next, end);
      // a failed read surfaces when it is awaited; this only silences "unhandled" warnings
      chunks.catch(() => {});
      const batch = { chunks, expected: end - next + 1, reserved };
      next = end + 1;
      return batch;
    };
    const readAhead = (): Batch | undefined => {
      for (const count of [PREFETCH_BATCH, READ_BATCH]) {
        const bytes = Math.min(count, toSeq - next + 1) * chunkBytes;
        if (this.prefetch.tryTake(bytes)) return request(count, bytes);
      }
      return undefined;
    };
    let batch: Batch | undefined = next <= toSeq ? request(READ_BATCH, 0) : undefined;
    try {
      while (batch) {
        const current = batch;
        batch = undefined;
        const chunks = await current.chunks;
        let reserved = current.reserved;
        if (chunks.length) chunkBytes = Math.ceil(chunks.reduce((n, c) => n + c.bytes.length, 0) / chunks.length);
        // a short batch is the end of the result
        const last = chunks.length < current.expected || next > toSeq;
        if (!last && chunkBytes > 0) batch = readAhead();
        try {
          while (chunks.length) {
            // each chunk is released (and its budget given back) as soon as the reader takes the next
            const chunk = chunks.shift()!;
            yield chunk;
            const back = Math.min(reserved, chunk.bytes.length);
            this.prefetch.give(back);
            reserved -= back;
          }
        } finally {
          this.prefetch.give(reserved);
        }
        if (last) return;
        batch ??= request(READ_BATCH, 0);
      }
    } finally {
      // the reader stopped early: the read in flight settles before its budget is given back
      if (batch) {
        await batch.chunks.catch(() => {});
        this.prefetch.give(batch.reserved);
      }
    }
  }

  private async readBatch(executionId: string, start: number, end: number): Promise<StoredChunk[]> {
    const sql = `COPY (SELECT seq, first_row, row_count, bytes FROM result_chunks WHERE execution_id = '${executionId}' AND seq BETWEEN ${start} AND ${end} ORDER BY seq) TO STDOUT (FORMAT binary)`;
    const conn = (await this.db.client.acquireConnection()) as pg.PoolClient;
    const pieces: Buffer[] = [];
    try {
      for await (const piece of conn.query(copyTo(sql))) pieces.push(piece as Buffer);
    } finally {
      await this.db.client.releaseConnection(conn);
    }
    return parseChunkCopy(pieces);
  }

  async purge(before: Date, supersededBefore: Date): Promise<number> {
    const old = await this.db('results').where('created_at', '<', before).delete();
    // A newer complete result of the same key replaces older ones once downloads had time to finish.
    const superseded = await this.db.raw(
      `DELETE FROM results r USING results n
        WHERE r.data_key = n.data_key AND r.complete AND n.complete AND n.completed_at > r.completed_at
          AND n.completed_at < ?`,
      [supersededBefore],
    );
    return old + (superseded.rowCount ?? 0);
  }
}
