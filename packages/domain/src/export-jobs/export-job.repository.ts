import type { Knex } from 'knex';
import { NotFoundError } from '../errors.js';
import { isUuid } from '../ids.js';
import type { ExportJob, ExportJobRow, ExportJobStatus, ExportKind, ExportReportData, ExportTargetType } from './export-job.types.js';

function toExportJob(row: ExportJobRow): ExportJob {
  return {
    id: row.id,
    organizationId: row.organization_id,
    targetType: row.target_type,
    targetId: row.target_id,
    kind: row.kind,
    parameters: row.parameters ?? {},
    parametersDigest: row.parameters_digest,
    pageWidth: row.page_width,
    jobStatus: row.job_status,
    errorMessage: row.error_message,
    apiKeyId: row.api_key_id,
    grants: row.grants ?? [],
    reportData: row.report_data ?? [],
    executionIds: row.execution_ids ?? [],
    fileName: row.file_name,
    contentType: row.content_type,
    contentEncoding: row.content_encoding,
    fileSize: row.file_size === null ? null : Number(row.file_size),
    chunkCount: row.chunk_count,
    cancelRequestedAt: row.cancel_requested_at,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
  };
}

/** A new job row. */
export interface ExportJobInsert {
  id: string;
  organization_id: string;
  target_type: ExportTargetType;
  target_id: string;
  kind: ExportKind;
  parameters: string;
  parameters_digest: string;
  page_width: number | null;
  api_key_id: string | null;
  grants: string;
  expires_at: Date;
}

/** SQL of `export_jobs`. */
export class ExportJobRepository {
  constructor(private readonly db: Knex) {}

  async insert(row: ExportJobInsert): Promise<ExportJob> {
    const [inserted] = await this.db('export_jobs').insert(row).returning('*');
    return toExportJob(inserted as ExportJobRow);
  }

  /** A job of the organization that has not expired. */
  async find(organizationId: string, id: string, now: Date): Promise<ExportJob | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await this.db<ExportJobRow>('export_jobs').where({ id, organization_id: organizationId }).where('expires_at', '>', now).first();
    return row ? toExportJob(row) : undefined;
  }

  /** @throws NotFoundError for unknown, expired or other organizations' jobs */
  async get(organizationId: string, id: string, now: Date): Promise<ExportJob> {
    const job = await this.find(organizationId, id, now);
    if (!job) throw new NotFoundError(`Export job ${id} not found`, { code: 'export_job_not_found' });
    return job;
  }

  /** Internal lookup by id (the worker). */
  async findById(id: string): Promise<ExportJob | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await this.db<ExportJobRow>('export_jobs').where({ id }).first();
    return row ? toExportJob(row) : undefined;
  }

  /** The newest unexpired jobs of a target, kind and parameter set created after `since`, newest first. */
  async listRecent(input: {
    organizationId: string;
    targetType: ExportTargetType;
    targetId: string;
    kind: ExportKind;
    parametersDigest: string;
    since: Date;
    now: Date;
  }): Promise<ExportJob[]> {
    const rows = await this.db<ExportJobRow>('export_jobs')
      .where({
        organization_id: input.organizationId,
        target_type: input.targetType,
        target_id: input.targetId,
        kind: input.kind,
        parameters_digest: input.parametersDigest,
      })
      .where('created_at', '>=', input.since)
      .where('expires_at', '>', input.now)
      .orderBy('created_at', 'desc')
      .limit(20);
    return rows.map(toExportJob);
  }

  /** started (or running, when pg-boss retries after a worker died) → running; false when cancelled or finished. */
  async markRunning(id: string): Promise<boolean> {
    const n = await this.db('export_jobs')
      .where({ id })
      .whereIn('job_status', ['started', 'running'])
      .whereNull('cancel_requested_at')
      .update({ job_status: 'running', started_at: this.db.fn.now(), heartbeat_at: this.db.fn.now(), updated_at: this.db.fn.now() });
    return n > 0;
  }

  /** Liveness of a running job (its worker calls it every few seconds). */
  async heartbeat(id: string): Promise<void> {
    await this.db('export_jobs').where({ id, job_status: 'running' }).update({ heartbeat_at: this.db.fn.now() });
  }

  /**
   * Ends running jobs whose worker stopped sending heartbeats for `staleSeconds` as `error` with
   * `message`; returns their ids. Rows another process is sweeping at the same moment are skipped.
   */
  async endStale(staleSeconds: number, message: string): Promise<string[]> {
    const stale = this.db('export_jobs')
      .select('id')
      .where('job_status', 'running')
      .andWhere(this.db.raw('coalesce(heartbeat_at, started_at, updated_at)'), '<', this.db.raw('now() - make_interval(secs => ?)', [staleSeconds]))
      .forUpdate()
      .skipLocked();
    const rows = (await this.db('export_jobs')
      .whereIn('id', stale)
      .andWhere('job_status', 'running')
      .update({ job_status: 'error', error_message: message, completed_at: this.db.fn.now(), updated_at: this.db.fn.now() })
      .returning(['id'])) as Array<{ id: string }>;
    return rows.map((r) => r.id);
  }

  /** Remembers executions the job started (cancel stops them). */
  async addExecutionIds(id: string, executionIds: string[]): Promise<void> {
    if (!executionIds.length) return;
    await this.db('export_jobs')
      .where({ id })
      .update({
        execution_ids: this.db.raw(`(SELECT coalesce(jsonb_agg(DISTINCT v), '[]'::jsonb) FROM jsonb_array_elements(execution_ids || ?::jsonb) v)`, [
          JSON.stringify(executionIds),
        ]),
        updated_at: this.db.fn.now(),
      });
  }

  /** running → success with the stored file; false when the job was cancelled meanwhile. */
  async markSuccess(
    id: string,
    file: { fileName: string; contentType: string; contentEncoding?: 'gzip' | null; fileSize: number; chunkCount: number; reportData: ExportReportData[] },
  ): Promise<boolean> {
    const n = await this.db('export_jobs')
      .where({ id, job_status: 'running' })
      .whereNull('cancel_requested_at')
      .update({
        job_status: 'success',
        file_name: file.fileName,
        content_type: file.contentType,
        content_encoding: file.contentEncoding ?? null,
        file_size: file.fileSize,
        chunk_count: file.chunkCount,
        report_data: JSON.stringify(file.reportData),
        completed_at: this.db.fn.now(),
        updated_at: this.db.fn.now(),
      });
    return n > 0;
  }

  /** Ends an unfinished job as `error` with a message for a person. */
  async markError(id: string, message: string): Promise<boolean> {
    const n = await this.db('export_jobs')
      .where({ id })
      .whereIn('job_status', ['started', 'running'] satisfies ExportJobStatus[])
      .update({ job_status: 'error', error_message: message, completed_at: this.db.fn.now(), updated_at: this.db.fn.now() });
    return n > 0;
  }

  /** Records a cancel request on an unfinished job; the job when it was unfinished. */
  async requestCancel(organizationId: string, id: string): Promise<ExportJob | undefined> {
    const [row] = await this.db('export_jobs')
      .where({ id, organization_id: organizationId })
      .whereIn('job_status', ['started', 'running'])
      .update({ cancel_requested_at: this.db.raw('coalesce(cancel_requested_at, now())'), updated_at: this.db.fn.now() })
      .returning('*');
    return row ? toExportJob(row as ExportJobRow) : undefined;
  }

  /** True once a cancel was requested (the worker checks between steps). */
  async isCancelRequested(id: string): Promise<boolean> {
    const row = await this.db('export_jobs').where({ id }).first('cancel_requested_at', 'job_status');
    return !row || row.cancel_requested_at !== null || row.job_status === 'error';
  }

  /** Deletes expired jobs (their file chunks go with them). */
  async purgeExpired(now: Date): Promise<number> {
    return this.db('export_jobs').where('expires_at', '<=', now).delete();
  }
}
