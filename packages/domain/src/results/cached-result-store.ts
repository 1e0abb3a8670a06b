import pg from 'pg';
import type { Logger } from '../logger.js';
import type { ChunkIndexEntry, ResultFinish, ResultStore, StoredChunk, StoredResult } from './result-store.js';

/** The channel the `results` triggers notify with a data key (migration 20261204050100). */
export const RESULT_CHANGES_CHANNEL = 'sightline_result_changes';

export interface CachedResultStoreOptions {
  /** Results storing at most this many bytes are kept (default 256 KiB). */
  maxResultBytes?: number;
  /** Bytes kept in all (stored, compressed sizes; default 32 MiB). */
  maxTotalBytes?: number;
}

interface Entry {
  result: StoredResult;
  chunks: StoredChunk[];
  /** Whole response bodies made from this result, by variant (see `body`). */
  bodies: Map<string, Buffer>;
  bytes: number;
}

/**
 * A `ResultStore` that keeps small results in memory (a least-recently-used cache capped in bytes)
 * for the data server: a cached data key is answered with no database round trip.
 *
 * A stored result never changes once complete; what changes is which result is the newest of a
 * data key. That is learnt from `LISTEN sightline_result_changes` (`listen`): while the listening
 * connection is down, nothing is answered from memory. Writes and everything else go to `inner`.
 */
export class CachedResultStore implements ResultStore {
  private readonly entries = new Map<string, Entry>();
  private readonly byDataKey = new Map<string, Set<string>>();
  private readonly byExecution = new Map<string, string>();
  private totalBytes = 0;
  /** Bumped by every notification: a lookup that saw another value does not fill the cache. */
  private generation = 0;
  private listening = false;
  private client: pg.Client | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly maxResultBytes: number;
  private readonly maxTotalBytes: number;

  constructor(
    private readonly inner: ResultStore,
    options: CachedResultStoreOptions = {},
  ) {
    this.maxResultBytes = options.maxResultBytes ?? 256 * 1024;
    this.maxTotalBytes = options.maxTotalBytes ?? 32 * 1024 * 1024;
  }

  /**
   * Listens for result changes on a connection of its own (reconnecting after a failure, with
   * the cache emptied and bypassed until it listens again). Resolves once listening or failed once.
   */
  async listen(connectionString: string, logger?: Logger): Promise<void> {
    this.stopped = false;
    const connect = async (): Promise<void> => {
      const client = new pg.Client({ connectionString, application_name: 'sightline-data-results' });
      const lost = (err?: Error) => {
        if (this.client !== client) return;
        this.client = undefined;
        this.setListening(false);
        client.end().catch(() => {});
        if (this.stopped) return;
        if (err) logger?.warn({ err }, 'result change listener lost; small results are read from the database until it is back');
        this.retryTimer = setTimeout(() => void connect().catch(() => {}), 1000);
        this.retryTimer.unref();
      };
      this.client = client;
      client.on('error', lost);
      client.on('end', () => lost());
      client.on('notification', (n) => {
        if (n.channel === RESULT_CHANGES_CHANNEL) this.invalidate(n.payload ?? '');
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${RESULT_CHANGES_CHANNEL}`);
        if (this.client === client) this.setListening(true);
      } catch (err) {
        lost(err as Error);
        throw err;
      }
    };
    await connect().catch(() => {});
  }

  /** Stops listening (and caching). */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    this.setListening(false);
    await client?.end().catch(() => {});
  }

  /** Whether answers may come from memory now. */
  get isListening(): boolean {
    return this.listening;
  }

  /** Bytes held. */
  get size(): number {
    return this.totalBytes;
  }

  private setListening(on: boolean): void {
    this.listening = on;
    this.generation++;
    if (!on) this.clear();
  }

  private clear(): void {
    this.entries.clear();
    this.byDataKey.clear();
    this.byExecution.clear();
    this.totalBytes = 0;
  }

  /** Drops every entry of `dataKey` (a newer result completed, or results were deleted). */
  invalidate(dataKey: string): void {
    this.generation++;
    for (const key of this.byDataKey.get(dataKey) ?? []) this.remove(key);
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.byExecution.delete(entry.result.executionId);
    this.totalBytes -= entry.bytes;
    const set = this.byDataKey.get(entry.result.dataKey);
    set?.delete(key);
    if (set && !set.size) this.byDataKey.delete(entry.result.dataKey);
  }

  private add(key: string, entry: Entry): void {
    this.remove(key);
    this.entries.set(key, entry);
    this.byExecution.set(entry.result.executionId, key);
    this.totalBytes += entry.bytes;
    let set = this.byDataKey.get(entry.result.dataKey);
    if (!set) this.byDataKey.set(entry.result.dataKey, (set = new Set()));
    set.add(key);
    // least recently used first
    for (const [oldest] of this.entries) {
      if (this.totalBytes <= this.maxTotalBytes) break;
      this.remove(oldest);
    }
  }

  async findLatest(organizationId: string, dataKey: string): Promise<StoredResult | undefined> {
    const key = `${organizationId}\u0000${dataKey}`;
    if (this.listening) {
      const hit = this.entries.get(key);
      if (hit) {
        this.entries.delete(key);
        this.entries.set(key, hit);
        return hit.result;
      }
    }
    const generation = this.generation;
    const result = await this.inner.findLatest(organizationId, dataKey);
    if (!result || !this.listening || result.storedBytes > this.maxResultBytes) return result;
    const chunks: StoredChunk[] = [];
    for await (const chunk of this.inner.readChunks(result.executionId, 0, Math.max(0, result.chunkCount - 1)))
      chunks.push({ ...chunk, bytes: Buffer.from(chunk.bytes) });
    // a change notified meanwhile may concern this key: answer, but keep nothing
    if (this.generation === generation && chunks.length === result.chunkCount) {
      this.add(key, { result, chunks, bodies: new Map(), bytes: chunks.reduce((n, c) => n + c.bytes.length, 0) + 1024 });
    }
    return result;
  }

  /**
   * A whole response body made from a cached result (`variant` names how, e.g. `json.gz`): made
   * once by `make` and kept with the result (counted in the byte cap). Undefined when the result
   * is not cached; the caller then streams as usual.
   */
  async body(executionId: string, variant: string, make: () => Promise<Buffer>): Promise<Buffer | undefined> {
    const key = this.listening ? this.byExecution.get(executionId) : undefined;
    const entry = key === undefined ? undefined : this.entries.get(key);
    if (!entry) return undefined;
    const known = entry.bodies.get(variant);
    if (known) return known;
    const generation = this.generation;
    const body = await make();
    // still the same entry (not dropped or replaced meanwhile): keep the body with it
    if (this.generation === generation && this.entries.get(key!) === entry && body.length <= this.maxResultBytes * 8) {
      entry.bodies.set(variant, body);
      entry.bytes += body.length;
      // re-added: counts the new size, moves it to most recently used, evicts over the cap
      this.add(key!, entry);
    }
    return body;
  }

  private cachedChunks(executionId: string): StoredChunk[] | undefined {
    if (!this.listening) return undefined;
    const key = this.byExecution.get(executionId);
    return key === undefined ? undefined : this.entries.get(key)?.chunks;
  }

  async chunkIndex(executionId: string): Promise<ChunkIndexEntry[]> {
    const chunks = this.cachedChunks(executionId);
    return chunks ? chunks.map((c) => ({ seq: c.seq, firstRow: c.firstRow, rowCount: c.rowCount })) : this.inner.chunkIndex(executionId);
  }

  async *readChunks(executionId: string, fromSeq: number, toSeq: number): AsyncIterable<StoredChunk> {
    const chunks = this.cachedChunks(executionId);
    if (!chunks) {
      yield* this.inner.readChunks(executionId, fromSeq, toSeq);
      return;
    }
    for (const chunk of chunks) if (chunk.seq >= fromSeq && chunk.seq <= toSeq) yield chunk;
  }

  begin(input: Parameters<ResultStore['begin']>[0]): Promise<void> {
    return this.inner.begin(input);
  }

  appendChunk(executionId: string, chunk: StoredChunk, rawBytes: number): Promise<void> {
    return this.inner.appendChunk(executionId, chunk, rawBytes);
  }

  finish(executionId: string, finish: ResultFinish): Promise<StoredResult> {
    return this.inner.finish(executionId, finish);
  }

  discard(executionId: string): Promise<void> {
    return this.inner.discard(executionId);
  }

  findLatestMany(organizationId: string, dataKeys: readonly string[]): Promise<Map<string, StoredResult>> {
    return this.inner.findLatestMany(organizationId, dataKeys);
  }

  findByExecution(organizationId: string, executionId: string): Promise<StoredResult | undefined> {
    return this.inner.findByExecution(organizationId, executionId);
  }

  purge(before: Date, supersededBefore: Date): Promise<number> {
    return this.inner.purge(before, supersededBefore);
  }
}
