import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { Knex } from 'knex';
import { isUuid } from '../ids.js';

/** A stored export file. */
export interface ExportFileInfo {
  fileName: string;
  contentType: string;
  /** `gzip` when the chunks are a gzip stream of the file. */
  contentEncoding: 'gzip' | null;
  /** Size of the file itself. */
  size: number;
  chunkCount: number;
}

/** Size of one stored piece of an export file. */
export const EXPORT_CHUNK_BYTES = 1024 * 1024;
const READ_BATCH = 4;

/** Writes one export file in chunks; `write` applies back-pressure (at most one insert in flight). */
export interface ExportFileWriter {
  write(data: Buffer | Uint8Array | string): Promise<void>;
  /** Flushes the last chunk; returns the file's size and chunk count. */
  end(): Promise<{ size: number; chunkCount: number }>;
  /** Drops what was written (failed or cancelled export). */
  abort(): Promise<void>;
}

/**
 * Export files in PostgreSQL: chunks of 1 MiB in `export_file_chunks`, streamed in and out, so any
 * data-server instance can serve any file and nothing holds a whole file in memory.
 */
export class PgExportFileStore {
  constructor(private readonly db: Knex) {}

  /**
   * A writer for the file of `exportJobId` (replaces what a previous attempt wrote). With `gzip`,
   * the chunks hold a gzip stream of the file (level 1: CSV shrinks about 4×, and the database
   * writes that much less); `end` reports the size of the file itself.
   */
  async createWriter(exportJobId: string, options: { gzip?: boolean } = {}): Promise<ExportFileWriter> {
    await this.db('export_file_chunks').where({ export_job_id: exportJobId }).delete();
    let parts: Buffer[] = [];
    let buffered = 0;
    let seq = 0;
    let size = 0;
    let failure: unknown;
    let pending: Promise<unknown> = Promise.resolve();
    const flush = async (all: boolean) => {
      while (buffered >= EXPORT_CHUNK_BYTES || (all && buffered > 0)) {
        const joined = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        const piece = joined.subarray(0, Math.min(EXPORT_CHUNK_BYTES, joined.length));
        const rest = joined.subarray(piece.length);
        parts = rest.length ? [Buffer.from(rest)] : [];
        buffered = rest.length;
        // one insert in flight while the next chunk fills up
        await pending;
        pending = this.db('export_file_chunks').insert({ export_job_id: exportJobId, seq: seq++, bytes: piece });
      }
    };
    const collect = (buf: Buffer) => {
      parts.push(buf);
      buffered += buf.length;
    };
    const gzip = options.gzip ? createGzip({ level: 1, chunkSize: 256 * 1024 }) : undefined;
    gzip?.on('data', collect);
    gzip?.on('error', (err) => {
      failure = err;
    });
    const gzipEnded = gzip ? once(gzip, 'end') : Promise.resolve([]);
    gzipEnded.catch(() => {});
    return {
      write: async (data) => {
        if (failure) throw failure;
        const buf =
          typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
        if (!buf.length) return;
        size += buf.length;
        if (gzip) {
          if (!gzip.write(buf)) await once(gzip, 'drain');
        } else collect(buf);
        if (buffered >= EXPORT_CHUNK_BYTES) await flush(false);
      },
      end: async () => {
        if (gzip) {
          gzip.end();
          await gzipEnded;
        }
        if (failure) throw failure;
        await flush(true);
        await pending;
        return { size, chunkCount: seq };
      },
      abort: async () => {
        gzip?.destroy();
        await pending.catch(() => {});
        await this.db('export_file_chunks').where({ export_job_id: exportJobId }).delete();
      },
    };
  }

  /** Stores a whole rendered file. */
  async put(exportJobId: string, bytes: Buffer): Promise<{ size: number; chunkCount: number }> {
    const writer = await this.createWriter(exportJobId);
    try {
      await writer.write(bytes);
      return await writer.end();
    } catch (err) {
      await writer.abort().catch(() => {});
      throw err;
    }
  }

  /**
   * The finished, unexpired file of an export job of `organizationId` (the data server's lookup;
   * another organization's job is not found).
   */
  async findFile(organizationId: string, exportJobId: string, now: Date): Promise<ExportFileInfo | undefined> {
    if (!isUuid(exportJobId)) return undefined;
    const row = await this.db('export_jobs')
      .where({ id: exportJobId, organization_id: organizationId, job_status: 'success' })
      .where('expires_at', '>', now)
      .first('file_name', 'content_type', 'content_encoding', 'file_size', 'chunk_count');
    if (!row) return undefined;
    return {
      fileName: row.file_name,
      contentType: row.content_type,
      contentEncoding: row.content_encoding,
      size: Number(row.file_size),
      chunkCount: row.chunk_count,
    };
  }

  /** Size and chunk count of what is stored for `exportJobId`. */
  async stat(exportJobId: string): Promise<{ size: number; chunkCount: number }> {
    const row = await this.db('export_file_chunks')
      .where({ export_job_id: exportJobId })
      .first(this.db.raw('coalesce(sum(octet_length(bytes)), 0)::bigint AS size'), this.db.raw('count(*)::int AS chunks'));
    return { size: Number(row?.size ?? 0), chunkCount: Number(row?.chunks ?? 0) };
  }

  /** Deletes what is stored for `exportJobId`. */
  async delete(exportJobId: string): Promise<void> {
    await this.db('export_file_chunks').where({ export_job_id: exportJobId }).delete();
  }

  /** The chunks of a file in order, a few at a time (bounded memory). */
  async *read(exportJobId: string, chunkCount: number): AsyncIterable<Buffer> {
    for (let start = 0; start < chunkCount; start += READ_BATCH) {
      const rows: Array<{ bytes: Buffer }> = await this.db('export_file_chunks')
        .where({ export_job_id: exportJobId })
        .whereBetween('seq', [start, start + READ_BATCH - 1])
        .orderBy('seq')
        .select('bytes');
      for (const row of rows) yield row.bytes;
      if (rows.length < READ_BATCH) return;
    }
  }
}
