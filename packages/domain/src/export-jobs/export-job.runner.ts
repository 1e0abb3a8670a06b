import { PassThrough, type Writable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import { Principal } from '../api-keys/permissions.js';
import type { Clock } from '../clock.js';
import type { DashboardDataService, ExportTarget, ExportTargets } from '../dashboard-data/dashboard-data.service.js';
import { ValidationError, isAppError } from '../errors.js';
import { ExecutionRepository } from '../executions/execution.repository.js';
import type { ExecutionService } from '../executions/execution.service.js';
import { isFinished, type Execution } from '../executions/execution.types.js';
import type { Logger } from '../logger.js';
import type { ReportService } from '../reports/report.service.js';
import type { Report } from '../reports/report.types.js';
import type { ResultField } from '../results/field-stats.js';
import type { ResultStore, StoredResult } from '../results/result-store.js';
import type { Knex } from 'knex';
import { withTransaction } from '../db/db.js';
import { QUEUES, type JobQueue } from '../queue/queue.js';
import { ExportJobRepository } from './export-job.repository.js';
import type { ExportJob, ExportJobMessage, ExportReportData } from './export-job.types.js';
import type { PgExportFileStore } from './export-file-store.js';

const gunzip = promisify(gunzipCallback);

/** One report as a picture shows it (the renderer's `RenderReportItem`). */
export interface PictureReportItem {
  report: {
    id: string;
    name: string;
    description: string | null;
    chartConfiguration: Record<string, unknown>;
    displayNameAsTitle: boolean;
    attribution: string | null;
    noDataMessage: string | null;
    row: number;
    column: number;
    width: number;
    height: number;
    defaultPageWidth: number;
    defaultPageHeight: number;
  };
  result: { fields: ResultField[]; rows: unknown[][]; totalRows: number; dataTimestamp: Date; timeZone: string } | null;
  error: string | null;
}

/** A picture to render (the renderer's `RenderTask`). */
export type PictureTask =
  | {
      kind: 'dashboard';
      dashboard: {
        name: string;
        description: string | null;
        colorScheme: string;
        timeZone: string;
        parameters: ExportJob['parameters'];
        pageWidth: number;
        reports: PictureReportItem[];
      };
      format: 'png' | 'pdf';
      options: { theme: 'light' | 'dark' };
    }
  | {
      kind: 'report';
      report: PictureReportItem & { timeZone: string; colorScheme: string; parameters: ExportJob['parameters']; width?: number };
      format: 'png' | 'pdf';
      options: { theme: 'light' | 'dark' };
    };

/** One sheet of an Excel export (the renderer's `ExcelSheet`). */
export interface ExcelSheetInput {
  name: string;
  fields: ResultField[];
  rows: AsyncIterable<unknown[]>;
  timeZone: string;
}

/** What the runner needs of the renderer (the worker passes `@sightline/render`). */
export interface ExportRenderer {
  /** Renders off the event loop; rejects with a message for a person; `signal` stops it. */
  renderPicture(task: PictureTask, options: { signal: AbortSignal; timeoutMs: number }): Promise<{ bytes: Buffer; contentType: string; extension: string }>;
  /** Streams an .xlsx with one sheet per report into `out`. */
  writeExcel(sheets: ExcelSheetInput[], out: Writable): Promise<void>;
}

export interface ExportJobRunnerDeps {
  db: Knex;
  dashboardData: DashboardDataService;
  reports: ReportService;
  executions: ExecutionService;
  resultStore: ResultStore;
  files: PgExportFileStore;
  renderer: ExportRenderer;
  clock: Clock;
  logger: Logger;
  /** Time limit of one render (default 120 s). */
  renderTimeoutMs?: number;
  /** How often waits look at executions and at the job's cancel flag (default 100 ms). */
  pollMs?: number;
  /** Rows a chart or table of a picture reads at most (default 5000). */
  maxPictureRows?: number;
  /** Where a job stopped by a shutdown goes back to (without it, such a job ends as error). */
  queue?: JobQueue;
}

/** The error of an export job stopped by a worker shutdown that could not go back to the queue. */
export const EXPORT_SHUTDOWN_MESSAGE = 'The worker shut down before this export finished; start the export again';

/** How often a running export job refreshes its heartbeat (well below the stale sweep's threshold). */
const EXPORT_HEARTBEAT_MS = 2_000;

/** A stop requested by Cancel Export Job. */
class ExportCancelled extends Error {}

/** Safe file name from a dashboard or report name (Content-Disposition adds the UTF-8 form). */
export function exportFileName(name: string, extension: string): string {
  const base =
    name
      .replace(/[\u0000-\u001f\u007f/\\:*?"<>|]+/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 120) || 'export';
  return `${base}.${extension}`;
}

/**
 * Reads the rows of a stored result in order, chunk by chunk (gzip members of JSON rows), stopping
 * after `limit` rows. Memory holds one chunk at a time.
 */
export async function* readResultRows(store: ResultStore, result: StoredResult, limit = Number.POSITIVE_INFINITY): AsyncIterable<unknown[]> {
  if (result.kind !== 'rows' || result.chunkCount === 0 || limit <= 0) return;
  let n = 0;
  for await (const chunk of store.readChunks(result.executionId, 0, result.chunkCount - 1)) {
    const text = (await gunzip(chunk.bytes)).toString('utf8');
    for (const row of JSON.parse(`[${text}]`) as unknown[][]) {
      yield row;
      if (++n >= limit) return;
    }
  }
}

/**
 * Runs export jobs in the worker: refreshes missing or stale data through the execution engine
 * (single flight, datasource slots, cancel), renders in a worker thread with a time limit, and
 * stores the file. Unlimited CSV runs as an `export_query` execution whose rows stream into the
 * file. Every failure ends the job as `error` with a message for a person.
 */
export class ExportJobRunner {
  /** Jobs running now, by id: how to stop each one to hand it back (shutdown). */
  private readonly inFlight = new Map<string, () => void>();

  constructor(private readonly deps: ExportJobRunnerDeps) {}

  /** Export jobs this runner is running now. */
  get runningCount(): number {
    return this.inFlight.size;
  }

  /**
   * Shutdown past its deadline: stops every job this runner is running and puts it back in the
   * queue (status `started`, a new message) for another worker; the executions it waits for keep
   * their own course. Resolves once every one has let go, or after `waitMs`; returns how many.
   */
  async handBackAll(waitMs = 5_000): Promise<number> {
    const stops = [...this.inFlight.values()];
    for (const stop of stops) stop();
    const until = Date.now() + waitMs;
    while (this.inFlight.size && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    return stops.length;
  }

  private async handBack(job: ExportJob, log: Logger): Promise<void> {
    const queue = this.deps.queue;
    const moved = queue
      ? await withTransaction(this.deps.db, async (trx) => {
          const n = await trx('export_jobs').where({ id: job.id, job_status: 'running' }).update({ job_status: 'started', updated_at: trx.fn.now() });
          if (!n) return false;
          await queue.send(QUEUES.exports, { exportJobId: job.id, organizationId: job.organizationId } satisfies ExportJobMessage, { db: trx });
          return true;
        })
      : false;
    if (!moved) await this.repo().markError(job.id, EXPORT_SHUTDOWN_MESSAGE);
    log.warn({ handed_back: moved }, 'worker shutting down: handed the export job back to the queue');
  }

  private repo(): ExportJobRepository {
    return new ExportJobRepository(this.deps.db);
  }

  /** Handles one `exports.run` job. Throws only for infrastructure failures (pg-boss retries). */
  async run(exportJobId: string): Promise<void> {
    const repo = this.repo();
    const job = await repo.findById(exportJobId);
    if (!job || !(await repo.markRunning(job.id))) return;
    const log = this.deps.logger.child({ export_job_id: job.id, kind: job.kind });
    const abort = new AbortController();
    let handingBack = false;
    this.inFlight.set(job.id, () => {
      handingBack = true;
      abort.abort();
    });
    const started: string[] = [];
    const poll = setInterval(() => {
      repo
        .isCancelRequested(job.id)
        .then((yes) => {
          if (yes) abort.abort();
        })
        .catch((err: unknown) => log.warn({ err }, 'cancel check failed'));
    }, this.deps.pollMs ?? 100);
    // liveness: without it the stale sweep (any process) ends the job as the work of a dead worker
    const beat = setInterval(() => {
      repo.heartbeat(job.id).catch((err: unknown) => log.warn({ err }, 'export heartbeat failed'));
    }, EXPORT_HEARTBEAT_MS);
    try {
      const principal = new Principal(job.organizationId, job.apiKeyId ?? 'system', job.grants);
      if (job.kind === 'csv') await this.runCsv(job, principal, abort.signal, started);
      else await this.runPicture(job, principal, abort.signal, started);
      log.info('export finished');
    } catch (err) {
      if (handingBack) {
        await this.handBack(job, log);
      } else if (abort.signal.aborted || err instanceof ExportCancelled) {
        await repo.markError(job.id, 'The export was cancelled');
        await Promise.all(started.map((id) => this.deps.executions.cancelById(job.organizationId, id).catch(() => {})));
        await this.deps.files.delete(job.id).catch(() => {});
      } else if (isAppError(err) && err.status < 500) {
        await repo.markError(job.id, err.detail ?? err.title);
      } else if (err instanceof Error && err.name === 'RenderError') {
        await repo.markError(job.id, err.message);
      } else {
        log.error({ err }, 'export failed');
        await repo.markError(job.id, 'An internal error stopped this export');
      }
    } finally {
      clearInterval(poll);
      clearInterval(beat);
      this.inFlight.delete(job.id);
    }
  }

  private async targetsOf(job: ExportJob, principal: Principal): Promise<ExportTargets> {
    if (job.targetType === 'dashboard') return this.deps.dashboardData.exportTargets(principal, job.targetId, job.parameters);
    const report = await this.deps.reports.getByIdUnchecked(job.organizationId, job.targetId);
    return this.deps.dashboardData.exportTargets(principal, report.dashboardId, job.parameters, { reportId: report.id });
  }

  /** Waits until every execution has finished; returns them as they ended. */
  private async waitFor(organizationId: string, ids: string[], signal: AbortSignal): Promise<Map<string, Execution>> {
    const ended = new Map<string, Execution>();
    while (ended.size < ids.length) {
      if (signal.aborted) throw new ExportCancelled();
      for (const id of ids) {
        if (ended.has(id)) continue;
        const execution = await this.deps.executions.findById(organizationId, id);
        if (!execution || isFinished(execution.executionStatus))
          ended.set(id, execution ?? ({ id, executionStatus: 'internal_error', errorMessage: 'The execution has expired' } as Execution));
      }
      if (ended.size < ids.length) await sleep(this.deps.pollMs ?? 100, signal);
    }
    return ended;
  }

  /** Starts executions for missing or stale data; remembers those this job started. */
  private async refresh(job: ExportJob, principal: Principal, targets: ExportTarget[], started: string[]): Promise<Map<string, string>> {
    const executionOf = new Map<string, string>(); // data key → execution id
    const repo = new ExecutionRepository(this.deps.db);
    for (const target of targets) {
      if (target.current || !target.query || !target.dataKey || executionOf.has(target.dataKey)) continue;
      const before = await repo.findUnfinishedByDataKey(target.dataKey);
      const execution = await this.deps.dashboardData.startExport(principal, target, { priority: 'interactive' });
      executionOf.set(target.dataKey, execution.id);
      if (!before || before.id !== execution.id) started.push(execution.id);
    }
    await this.repo().addExecutionIds(job.id, started);
    return executionOf;
  }

  private async runPicture(job: ExportJob, principal: Principal, signal: AbortSignal, started: string[]): Promise<void> {
    let targets = await this.targetsOf(job, principal);
    const executionOf = await this.refresh(job, principal, targets.targets, started);
    const ended = await this.waitFor(job.organizationId, [...executionOf.values()], signal);
    if (executionOf.size) targets = await this.targetsOf(job, principal);
    if (signal.aborted) throw new ExportCancelled();
    const maxRows = this.deps.maxPictureRows ?? 5000;
    const items: PictureReportItem[] = [];
    const reportData: ExportReportData[] = [];
    for (const t of targets.targets) {
      const ranId = t.dataKey ? executionOf.get(t.dataKey) : undefined;
      const ran = ranId ? ended.get(ranId) : undefined;
      let error = t.error ?? null;
      if (!error && ran && ran.executionStatus !== 'success') error = ran.errorMessage ?? `The query ended as ${ran.executionStatus}`;
      const result = !error && t.result ? await this.sample(t.result, maxRows) : null;
      items.push({ report: pictureReport(t.report), result, error });
      reportData.push({
        report_id: t.report.id,
        data_key: t.dataKey ?? null,
        data_timestamp: !error && t.result ? t.result.dataTimestamp.toISOString() : null,
      });
    }
    const name = job.targetType === 'dashboard' ? targets.dashboard.name : (targets.targets[0]?.report.name ?? 'report');
    if (job.kind === 'excel') {
      await this.storeExcel(job, targets, name, reportData);
      return;
    }
    const theme = job.kind === 'dark_pdf' || job.kind === 'dark_png' ? 'dark' : 'light';
    const format = job.kind === 'pdf' || job.kind === 'dark_pdf' ? 'pdf' : 'png';
    const task: PictureTask =
      job.targetType === 'dashboard'
        ? {
            kind: 'dashboard',
            format,
            options: { theme },
            dashboard: {
              name: targets.dashboard.name,
              description: targets.dashboard.description,
              colorScheme: targets.dashboard.colorScheme,
              timeZone: targets.timeZone,
              parameters: targets.parameters,
              pageWidth: job.pageWidth ?? targets.dashboard.defaultPageWidth,
              reports: items,
            },
          }
        : {
            kind: 'report',
            format,
            options: { theme },
            report: {
              ...items[0]!,
              timeZone: targets.timeZone,
              colorScheme: targets.dashboard.colorScheme,
              parameters: targets.parameters,
              ...(job.pageWidth ? { width: job.pageWidth } : {}),
            },
          };
    const file = await this.deps.renderer.renderPicture(task, { signal, timeoutMs: this.deps.renderTimeoutMs ?? 120_000 });
    if (signal.aborted) throw new ExportCancelled();
    const stored = await this.deps.files.put(job.id, file.bytes);
    const done = await this.repo().markSuccess(job.id, {
      fileName: exportFileName(name, file.extension),
      contentType: file.contentType,
      fileSize: stored.size,
      chunkCount: stored.chunkCount,
      reportData,
    });
    if (!done) throw new ExportCancelled();
  }

  private async sample(result: StoredResult, maxRows: number): Promise<PictureReportItem['result']> {
    const rows: unknown[][] = [];
    for await (const row of readResultRows(this.deps.resultStore, result, maxRows)) rows.push(row);
    return { fields: result.fields, rows, totalRows: result.sqlRows, dataTimestamp: result.dataTimestamp, timeZone: result.timeZone };
  }

  private async storeExcel(job: ExportJob, targets: ExportTargets, name: string, reportData: ExportReportData[]): Promise<void> {
    const writer = await this.deps.files.createWriter(job.id);
    const out = new PassThrough();
    const pump = (async () => {
      for await (const chunk of out) await writer.write(chunk as Buffer);
    })();
    const sheets: ExcelSheetInput[] = targets.targets.map((t) => ({
      name: t.report.name,
      fields: t.result?.fields ?? [],
      rows: t.result ? readResultRows(this.deps.resultStore, t.result) : emptyRows(),
      timeZone: targets.timeZone,
    }));
    try {
      await this.deps.renderer.writeExcel(sheets, out);
      out.end();
      await pump;
      const stored = await writer.end();
      const done = await this.repo().markSuccess(job.id, {
        fileName: exportFileName(name, 'xlsx'),
        contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        fileSize: stored.size,
        chunkCount: stored.chunkCount,
        reportData,
      });
      if (!done) throw new ExportCancelled();
    } catch (err) {
      out.destroy();
      await writer.abort().catch(() => {});
      throw err;
    }
  }

  /** Unlimited CSV: an `export_query` execution streams the report's rows into the job's file. */
  private async runCsv(job: ExportJob, principal: Principal, signal: AbortSignal, started: string[]): Promise<void> {
    const targets = await this.targetsOf(job, principal);
    const target = targets.targets[0];
    if (!target?.query) throw new ValidationError(`The report's query cannot run: ${target?.error ?? 'it does not compile'}`);
    const execution = await this.deps.executions.start({
      organizationId: job.organizationId,
      datasource: target.query.datasource,
      executionType: 'export_query',
      priority: 'interactive',
      dataKey: `${job.organizationId}/exports/${job.id}`,
      sqlText: target.query.sql,
      sqlValues: target.query.values,
      rQuery: target.query.rQuery,
      timeZone: target.query.timeZone,
      options: { reportId: target.report.id, exportJobId: job.id },
    });
    started.push(execution.id);
    await this.repo().addExecutionIds(job.id, started);
    const ended = (await this.waitFor(job.organizationId, [execution.id], signal)).get(execution.id)!;
    if (ended.executionStatus !== 'success') {
      if (ended.executionStatus === 'cancelled' && signal.aborted) throw new ExportCancelled();
      throw new ValidationError(ended.errorMessage ?? `The query ended as ${ended.executionStatus}`);
    }
    const stat = await this.deps.files.stat(job.id);
    const done = await this.repo().markSuccess(job.id, {
      // the sink stores CSV gzip-compressed; the execution counted the file's own bytes
      fileName: exportFileName(target.report.name, 'csv'),
      contentType: 'text/csv; charset=utf-8',
      contentEncoding: 'gzip',
      fileSize: ended.resultSize ?? 0,
      chunkCount: stat.chunkCount,
      reportData: [{ report_id: target.report.id, data_key: null, data_timestamp: null }],
    });
    if (!done) throw new ExportCancelled();
  }
}

async function* emptyRows(): AsyncIterable<unknown[]> {}

/** A report's settings as a picture shows them (exports and schedule mails). */
export function pictureReport(r: Report): PictureReportItem['report'] {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    chartConfiguration: r.chartConfiguration,
    displayNameAsTitle: r.displayNameAsTitle,
    attribution: r.attribution,
    noDataMessage: r.noDataMessage,
    row: r.row,
    column: r.column,
    width: r.width,
    height: r.height,
    defaultPageWidth: r.defaultPageWidth,
    defaultPageHeight: r.defaultPageHeight,
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
