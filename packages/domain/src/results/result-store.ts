import type { Knex } from 'knex';
import type { ResultField } from './field-stats.js';

/** Metadata of a stored result (the contract's ResultData minus the rows). */
export interface StoredResult {
  executionId: string;
  organizationId: string;
  dataKey: string;
  /** `rows`: a result set; `document`: one JSON document (schemas). */
  kind: 'rows' | 'document';
  fields: ResultField[];
  sqlRows: number;
  sqlColumns: number;
  /** Size of the uncompressed JSON of the rows. */
  sizeInBytes: number;
  /** Size of what is stored (gzip). */
  storedBytes: number;
  chunkCount: number;
  timeZone: string;
  rowLimitReached: boolean;
  dataTimestamp: Date;
  completedAt: Date;
}

/** One stored chunk: a gzip member holding the JSON text of consecutive rows. */
export interface StoredChunk {
  seq: number;
  firstRow: number;
  rowCount: number;
  bytes: Buffer;
}

/** Chunk positions without bytes (for paging). */
export interface ChunkIndexEntry {
  seq: number;
  firstRow: number;
  rowCount: number;
}

export interface ResultFinish {
  fields: ResultField[];
  sqlRows: number;
  sqlColumns: number;
  sizeInBytes: number;
  rowLimitReached: boolean;
  dataTimestamp: Date;
}

/**
 * Where results live. The default implementation is a PostgreSQL chunk table; a filesystem or
 * S3-compatible store implements the same interface.
 */
export interface ResultStore {
  /** Starts a result for an execution (invisible to readers until `finish`). */
  begin(input: { executionId: string; organizationId: string; dataKey: string; kind: 'rows' | 'document'; timeZone: string; retry?: boolean }): Promise<void>;
  appendChunk(executionId: string, chunk: StoredChunk, rawBytes: number): Promise<void>;
  /** Publishes the result: from now on it is the newest one of its data key. */
  finish(executionId: string, finish: ResultFinish): Promise<StoredResult>;
  /** Drops an unfinished result (failed or cancelled execution). */
  discard(executionId: string): Promise<void>;
  /** The newest complete result of a data key within an organization. */
  findLatest(organizationId: string, dataKey: string): Promise<StoredResult | undefined>;
  /** The newest complete result of each of `dataKeys` (keys without one are absent from the map). */
  findLatestMany(organizationId: string, dataKeys: readonly string[]): Promise<Map<string, StoredResult>>;
  /** The complete result of one execution. */
  findByExecution(organizationId: string, executionId: string): Promise<StoredResult | undefined>;
  chunkIndex(executionId: string): Promise<ChunkIndexEntry[]>;
  /** Chunks `fromSeq..toSeq` (inclusive) in order, fetched a few at a time (bounded memory). */
  readChunks(executionId: string, fromSeq: number, toSeq: number): AsyncIterable<StoredChunk>;
  /** Deletes results completed before `before`, and superseded results older than `supersededBefore`. */
  purge(before: Date, supersededBefore: Date): Promise<number>;
  /**
   * Begins, stores and publishes a result of at most one chunk in one statement (`begin`,
   * `appendChunk` and `finish` in one). Optional: without it the writer makes those calls.
   */
  storeWhole?(begin: Parameters<ResultStore['begin']>[0], chunk: (StoredChunk & { rawBytes: number }) | null, finish: ResultFinish): Promise<StoredResult>;
  /**
   * The same store writing through `trx` (a transaction on Sightline's database), so that a
   * result's last writes commit together with the execution's status. Stores that do not live in
   * that database leave it out.
   */
  inTransaction?(trx: Knex): ResultStore;
}
