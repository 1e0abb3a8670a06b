import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { ALL_PERMISSIONS } from '../api-keys/api-key.service.js';
import { Principal } from '../api-keys/permissions.js';
import type { Clock } from '../clock.js';
import { DASHBOARD_VIEW_PERMISSIONS } from '../dashboards/dashboard.permissions.js';
import type { DashboardService } from '../dashboards/dashboard.service.js';
import type { DashboardDataService, ExportTargets } from '../dashboard-data/dashboard-data.service.js';
import { isCurrent } from '../dashboard-data/freshness.js';
import { withTransaction } from '../db/db.js';
import { ValidationError } from '../errors.js';
import type { ExecutionService } from '../executions/execution.service.js';
import { newUuid } from '../ids.js';
import type { InputParameters } from '../query/query.types.js';
import { QUEUES, type JobQueue } from '../queue/queue.js';
import type { ReportService } from '../reports/report.service.js';
import type { DataTokens } from '../tokens/data-token.js';
import { ExportJobRepository } from './export-job.repository.js';
import {
  CSV_EXPORT_INTERVAL_MINUTES,
  EXPORT_RETENTION_HOURS,
  EXPORT_URL_TTL_SECONDS,
  type ExportJob,
  type ExportJobMessage,
  type ExportJobStatusDocument,
  type ExportKind,
  type ExportTargetType,
} from './export-job.types.js';

export interface ExportJobServiceDeps {
  db: Knex;
  dashboards: DashboardService;
  reports: ReportService;
  dashboardData: DashboardDataService;
  executions: ExecutionService;
  queue: JobQueue;
  tokens: DataTokens;
  clock: Clock;
  /** Public base URL of the data server (file URLs point there). */
  dataBaseUrl: string;
}

/** What an export request may carry besides the target. */
export interface ExportRequest {
  parameters?: InputParameters;
  /** Render width in px (PDF/PNG); default: the dashboard's or report's `default_page_width`. */
  pageWidth?: number;
}

/** Sorted keys, filters ordered by name: equal parameter sets give equal text. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** Digest of the merged parameters and the page width (the reuse rules compare it). */
export function exportParametersDigest(parameters: InputParameters, pageWidth: number | null): string {
  const filters = [...(parameters.filters ?? [])].sort((a, b) => (a.variable_name < b.variable_name ? -1 : a.variable_name > b.variable_name ? 1 : 0));
  return createHash('sha256')
    .update(canonical({ p: { ...parameters, filters: filters.length ? filters : undefined }, w: pageWidth }))
    .digest('hex');
}

/**
 * Export jobs on the API side (contract rows 27, 28, 53–55, 88, 89; §4.5): start or reuse a job,
 * report its status with a short-lived file URL on the data server, cancel it. The work itself is
 * `ExportJobRunner` in the worker.
 */
export class ExportJobService {
  constructor(private readonly deps: ExportJobServiceDeps) {}

  private repo(db: Knex = this.deps.db): ExportJobRepository {
    return new ExportJobRepository(db);
  }

  /**
   * Export Dashboard PDF/PNG (rows 27, 28): a job for the dashboard under `parameters`, or the
   * recent successful one with the same parameters whose data is still current (or one still
   * running for them).
   * @throws NotFoundError, ForbiddenError, ValidationError (parameters)
   */
  async exportDashboard(principal: Principal, dashboardId: string, kind: 'pdf' | 'png', request: ExportRequest = {}): Promise<ExportJob> {
    principal.requireAny(...DASHBOARD_VIEW_PERMISSIONS);
    await this.deps.dashboards.get(principal, dashboardId);
    const targets = await this.deps.dashboardData.exportTargets(principal, dashboardId, request.parameters);
    return this.startOrReusePicture(principal, 'dashboard', dashboardId, kind, targets, request.pageWidth ?? null);
  }

  /**
   * Export Report PDF/PNG (rows 53, 54) with the same reuse rule, or Export Report CSV (row 55):
   * the unlimited CSV, which needs the report's `unlimited_csv_export_enabled` and starts at most
   * once per 10 minutes per parameter set (the recent job is answered otherwise).
   * @throws NotFoundError, ForbiddenError, ValidationError (422: CSV export disabled, parameters, a query that cannot run)
   */
  async exportReport(principal: Principal, reportId: string, kind: 'pdf' | 'png' | 'csv', request: ExportRequest = {}): Promise<ExportJob> {
    principal.requireAny(...DASHBOARD_VIEW_PERMISSIONS);
    const report = await this.deps.reports.get(principal, reportId);
    if (kind === 'csv' && !report.unlimitedCsvExportEnabled) {
      throw new ValidationError(`Unlimited CSV export is not enabled for report ${reportId} (unlimited_csv_export_enabled is false)`, {
        code: 'unlimited_csv_export_disabled',
      });
    }
    const targets = await this.deps.dashboardData.exportTargets(principal, report.dashboardId, request.parameters, { reportId });
    if (kind !== 'csv') return this.startOrReusePicture(principal, 'report', reportId, kind, targets, request.pageWidth ?? null);
    const target = targets.targets[0];
    if (!target?.query) throw new ValidationError(`The report's query cannot run: ${target?.error ?? 'it does not compile'}`, { code: 'report_query_invalid' });
    const digest = exportParametersDigest(targets.parameters, null);
    const now = this.deps.clock.now();
    const recent = await this.repo().listRecent({
      organizationId: principal.organizationId,
      targetType: 'report',
      targetId: reportId,
      kind: 'csv',
      parametersDigest: digest,
      since: new Date(now.getTime() - CSV_EXPORT_INTERVAL_MINUTES * 60_000),
      now,
    });
    const reusable = recent.find((j) => j.jobStatus !== 'error');
    if (reusable) return reusable;
    return this.create(principal.organizationId, principal.apiKeyId, principal.grants, {
      targetType: 'report',
      targetId: reportId,
      kind: 'csv',
      parameters: targets.parameters,
      digest,
      pageWidth: null,
    });
  }

  private async startOrReusePicture(
    principal: Principal,
    targetType: ExportTargetType,
    targetId: string,
    kind: ExportKind,
    targets: ExportTargets,
    pageWidth: number | null,
  ): Promise<ExportJob> {
    const digest = exportParametersDigest(targets.parameters, pageWidth);
    const now = this.deps.clock.now();
    const recent = await this.repo().listRecent({
      organizationId: principal.organizationId,
      targetType,
      targetId,
      kind,
      parametersDigest: digest,
      since: new Date(now.getTime() - EXPORT_RETENTION_HOURS * 3600_000),
      now,
    });
    for (const job of recent) {
      if ((job.jobStatus === 'started' || job.jobStatus === 'running') && !job.cancelRequestedAt) return job;
      if (job.jobStatus === 'success' && this.stillCurrent(job, targets, now)) return job;
    }
    return this.create(principal.organizationId, principal.apiKeyId, principal.grants, {
      targetType,
      targetId,
      kind,
      parameters: targets.parameters,
      digest,
      pageWidth,
    });
  }

  /** The job showed the same reports, from the same queries, with data still current now. */
  private stillCurrent(job: ExportJob, targets: ExportTargets, now: Date): boolean {
    if (job.reportData.length !== targets.targets.length) return false;
    const shown = new Map(job.reportData.map((d) => [d.report_id, d]));
    return targets.targets.every((t) => {
      const d = shown.get(t.report.id);
      return (
        d !== undefined && d.data_key !== null && d.data_key === t.dataKey && d.data_timestamp !== null && isCurrent(new Date(d.data_timestamp), t.rule, now)
      );
    });
  }

  private async create(
    organizationId: string,
    apiKeyId: string | null,
    grants: Principal['grants'],
    input: { targetType: ExportTargetType; targetId: string; kind: ExportKind; parameters: InputParameters; digest: string; pageWidth: number | null },
  ): Promise<ExportJob> {
    const now = this.deps.clock.now();
    return withTransaction(this.deps.db, async (trx) => {
      const job = await this.repo(trx).insert({
        id: newUuid(),
        organization_id: organizationId,
        target_type: input.targetType,
        target_id: input.targetId,
        kind: input.kind,
        parameters: JSON.stringify(input.parameters),
        parameters_digest: input.digest,
        page_width: input.pageWidth,
        api_key_id: apiKeyId,
        grants: JSON.stringify(grants),
        expires_at: new Date(now.getTime() + EXPORT_RETENTION_HOURS * 3600_000),
      });
      const message: ExportJobMessage = { exportJobId: job.id, organizationId };
      // enqueued in the same transaction: no job without its row, no row without its job
      await this.deps.queue.send(QUEUES.exports, message, { db: trx });
      return job;
    });
  }

  /**
   * An export for a schedule or an alert (no API key): organization-wide permissions, no reuse.
   * The worker runs it like any other; `ExportJobRunner.run` can also be called directly.
   */
  async createSystemExport(input: {
    organizationId: string;
    targetType: ExportTargetType;
    targetId: string;
    kind: ExportKind;
    parameters?: InputParameters;
    pageWidth?: number;
  }): Promise<ExportJob> {
    if (input.kind === 'csv' && input.targetType !== 'report')
      throw new ValidationError('A CSV export is made of one report', { code: 'csv_export_needs_report' });
    const principal = new Principal(input.organizationId, 'system', ALL_PERMISSIONS);
    let dashboardId = input.targetId;
    let reportId: string | undefined;
    if (input.targetType === 'report') {
      reportId = input.targetId;
      dashboardId = (await this.deps.reports.getByIdUnchecked(input.organizationId, input.targetId)).dashboardId;
    } else await this.deps.dashboards.getByIdUnchecked(input.organizationId, input.targetId);
    const targets = await this.deps.dashboardData.exportTargets(principal, dashboardId, input.parameters, reportId ? { reportId } : undefined);
    const pageWidth = input.pageWidth ?? null;
    return this.create(input.organizationId, null, ALL_PERMISSIONS, {
      targetType: input.targetType,
      targetId: input.targetId,
      kind: input.kind,
      parameters: targets.parameters,
      digest: exportParametersDigest(targets.parameters, pageWidth),
      pageWidth,
    });
  }

  /**
   * Get Export Job (row 88): status, and for `success` a `file_url` on the data server valid for
   * 15 minutes.
   * @throws NotFoundError for unknown, expired or other organizations' jobs
   */
  async status(principal: Principal, id: string): Promise<ExportJobStatusDocument> {
    principal.requireAny(...DASHBOARD_VIEW_PERMISSIONS);
    const job = await this.repo().get(principal.organizationId, id, this.deps.clock.now());
    return {
      job_status: job.jobStatus,
      file_url: job.jobStatus === 'success' ? this.fileUrl(job) : null,
      error_message: job.jobStatus === 'error' ? job.errorMessage : null,
    };
  }

  /** A signed download URL of a finished job's file on the data server. */
  fileUrl(job: ExportJob): string {
    const token = this.deps.tokens.signExportFile({ organizationId: job.organizationId, exportJobId: job.id }, EXPORT_URL_TTL_SECONDS);
    const base = this.deps.dataBaseUrl.replace(/\/+$/, '');
    return `${base}/exports/${job.id}/${encodeURIComponent(job.fileName ?? 'export')}?token=${token}`;
  }

  /**
   * Cancel Export Job (row 89): an unfinished job ends as `error` ("cancelled") at once; its worker
   * stops rendering within a second and the executions the job started are cancelled. No effect on
   * finished jobs.
   * @throws NotFoundError
   */
  async cancel(principal: Principal, id: string): Promise<void> {
    principal.requireAny(...DASHBOARD_VIEW_PERMISSIONS);
    const repo = this.repo();
    await repo.get(principal.organizationId, id, this.deps.clock.now());
    const job = await repo.requestCancel(principal.organizationId, id);
    if (!job) return;
    await repo.markError(id, 'The export was cancelled');
    for (const executionId of job.executionIds) await this.deps.executions.cancelById(principal.organizationId, executionId);
  }

  /** Internal: a job by id (worker, schedules). */
  findById(id: string): Promise<ExportJob | undefined> {
    return this.repo().findById(id);
  }

  /** Deletes expired jobs and their files; returns how many. */
  purgeExpired(): Promise<number> {
    return this.repo().purgeExpired(this.deps.clock.now());
  }
}
