import { setTimeout as sleep } from 'node:timers/promises';
import type { Knex } from 'knex';
import { Principal } from '../api-keys/permissions.js';
import type { Clock } from '../clock.js';
import type { DashboardDataService } from '../dashboard-data/dashboard-data.service.js';
import type { DashboardService } from '../dashboards/dashboard.service.js';
import type { Dashboard } from '../dashboards/dashboard.types.js';
import { withTransaction } from '../db/db.js';
import { isAppError } from '../errors.js';
import type { ExecutionService } from '../executions/execution.service.js';
import type { Logger } from '../logger.js';
import type { MailService } from '../mail/mail.service.js';
import type { MailFile, MailMessage } from '../mail/mail.types.js';
import { parseEmailList } from '../mail/email-list.js';
import type { OrganizationService } from '../organizations/organization.service.js';
import type { Organization } from '../organizations/organization.types.js';
import type { InputParameters } from '../query/query.types.js';
import type { ReportService } from '../reports/report.service.js';
import type { Report } from '../reports/report.types.js';
import type { ResultStore, StoredResult } from '../results/result-store.js';
import { SCHEDULE_ATTACHMENT_FORMATS, parseAttachAs, type ScheduleAttachmentFormat } from '../scheduling/attach-as.js';
import { DashboardScheduleRepository } from './dashboard-schedule.repository.js';
import type { DashboardSchedule, DashboardScheduleRunJob } from './dashboard-schedule.types.js';
import { escapeHtml, formatInZone, slugify } from '../scheduling/mail-text.js';

/** One report of a scheduled mail with its data, or why it has none. */
export interface ScheduleReportData {
  report: Report;
  /** The newest stored result under the schedule's parameters, or null. */
  result: StoredResult | null;
  /** A compile or query error for a person, or null. */
  error: string | null;
}

/** What the renderer gets for one run. */
export interface ScheduleRenderInput {
  organization: Organization;
  dashboard: Dashboard;
  /** `report`: one report of the dashboard is scheduled; `dashboard`: all its reports. */
  target: 'dashboard' | 'report';
  reports: ScheduleReportData[];
  parameters: InputParameters;
  /** Zone that data times are shown in (the organization's). */
  timeZone: string;
  /** The schedule's `page_width`, or null for the dashboard's default. */
  pageWidth: number | null;
  /** When the run started (shown as "generated at"). */
  generatedAt: Date;
  /** File name stem, e.g. `sales-overview`. */
  baseName: string;
}

/** A rendered file for a mail, with a note for the body when it is not the whole data (cut rows). */
export interface RenderedAttachment extends Omit<MailFile, 'contentId'> {
  note?: string;
}

/**
 * Renders a schedule's attachments (the worker implements it with `@sightline/render`). Pictures
 * give one file; `csv` gives one file per report; `excel` one workbook. Inline formats are shown in
 * the mail body by the runner (it sets the Content-ID).
 */
export interface ScheduleRenderer {
  render(input: ScheduleRenderInput, format: ScheduleAttachmentFormat): Promise<RenderedAttachment[]>;
}

export interface DashboardScheduleRunnerDeps {
  db: Knex;
  clock: Clock;
  logger: Logger;
  mail: MailService;
  dashboards: DashboardService;
  reports: ReportService;
  organizations: OrganizationService;
  dashboardData: DashboardDataService;
  executions: ExecutionService;
  resultStore: ResultStore;
  /** Without one, a schedule with attachments fails its run (nothing is mailed without its files). */
  renderer?: ScheduleRenderer;
  /** Public base URL of the API server (links in the body). */
  apiBaseUrl: string;
  /** Longest wait for running queries before mailing what there is (default 15 min). */
  maxDataWaitMs?: number;
  /** Pause between two looks at running queries (default 1 s). */
  pollIntervalMs?: number;
  /** Attempts after which a run that keeps failing is given up (default 5). */
  maxAttempts?: number;
}

const INLINE_FORMATS: readonly ScheduleAttachmentFormat[] = ['inline_png', 'dark_inline_png'];

/**
 * Mails one schedule run (the `dashboard_schedules.run` job): refreshes stale data under the
 * schedule's parameters through the execution engine, waits for it, renders the attachments, and
 * enqueues ONE idempotent mail. The job is delivered at least once; the run's status (locked in the
 * transaction that enqueues the mail) makes every delivery after the first a no-op, and the mail's
 * idempotency key keeps a retried `mail.send` from sending twice.
 */
export class DashboardScheduleRunner {
  constructor(private readonly deps: DashboardScheduleRunnerDeps) {}

  private repo(db: Knex = this.deps.db): DashboardScheduleRepository {
    return new DashboardScheduleRepository(db);
  }

  /**
   * Handles one job.
   * @throws on a transient failure (the queue retries); gives up after `maxAttempts`
   */
  async run(job: DashboardScheduleRunJob): Promise<'mailed' | 'skipped' | 'failed' | 'done'> {
    const run = await this.repo().findRun(job.organizationId, job.runId);
    if (!run || run.status !== 'pending') return 'done';
    const attempt = await this.repo().countAttempt(run.id, this.deps.clock.now());
    const log = this.deps.logger.child({ dashboard_schedule_run: run.id, dashboard_schedule: run.dashboardScheduleId, attempt });
    try {
      const schedule = await this.repo().find(job.organizationId, run.dashboardScheduleId);
      if (!schedule) return await this.end(run.id, 'skipped', 'The schedule was deleted');
      const message = await this.compose(schedule, run.dueAt, run.id);
      if (!message) return await this.end(run.id, 'skipped', "The dashboard or report is gone, or out of the schedule's reach");
      const enqueued = await withTransaction(this.deps.db, async (trx) => {
        const locked = await this.repo(trx).findRun(job.organizationId, run.id, { forUpdate: true });
        if (!locked || locked.status !== 'pending') return false;
        const attachments = [];
        for (const file of message.files) {
          const id = await this.deps.mail.storeAttachment(trx, job.organizationId, file);
          attachments.push(file.contentId ? { id, cid: file.contentId } : { id });
        }
        const { files: _files, ...mail } = message;
        void _files;
        const mailJobId = await this.deps.mail.enqueue(trx, 'dashboard_schedule', { ...mail, attachments }, job.organizationId, {
          idempotencyKey: `dashboard_schedule_run:${run.id}`,
          onDelivered: { type: 'dashboard_schedule_run', id: run.id },
        });
        return this.repo(trx).transitionRun(run.id, ['pending'], 'mailed', { mail_job_id: mailJobId, error_message: null }, this.deps.clock.now());
      });
      log.info({ enqueued }, 'dashboard schedule run mailed');
      return enqueued ? 'mailed' : 'done';
    } catch (err) {
      if (attempt >= (this.deps.maxAttempts ?? 5)) {
        log.error({ err }, 'dashboard schedule run failed; giving up');
        return this.end(run.id, 'failed', isAppError(err) ? (err.detail ?? err.title) : 'Internal error');
      }
      log.warn({ err }, 'dashboard schedule run failed; the queue retries');
      throw err;
    }
  }

  private async end(runId: string, status: 'skipped' | 'failed', reason: string): Promise<'skipped' | 'failed'> {
    await this.repo().transitionRun(runId, ['pending'], status, { error_message: reason }, this.deps.clock.now());
    return status;
  }

  /**
   * The run's mail with its files, or undefined when the target is gone or the schedule's scope no
   * longer covers a report target.
   */
  private async compose(schedule: DashboardSchedule, dueAt: Date, runId: string): Promise<(MailMessage & { files: MailFile[] }) | undefined> {
    const org = schedule.organizationId;
    const principal = new Principal(org, `dashboard_schedule:${schedule.id}`, [{ permission: 'Manage Dashboards', datasourceIds: schedule.runDatasourceIds }]);
    const organization = await this.deps.organizations.get(org);
    let dashboard: Dashboard | undefined;
    let report: Report | undefined;
    if (schedule.reportId) {
      report = await this.deps.reports.findById(org, schedule.reportId);
      if (!report || !principal.canUseDatasource(report.datasourceId, 'Manage Dashboards')) return undefined;
      dashboard = await this.deps.dashboards.findById(org, report.dashboardId);
    } else if (schedule.dashboardId) {
      dashboard = await this.deps.dashboards.findById(org, schedule.dashboardId);
    }
    if (!dashboard) return undefined;
    const generatedAt = this.deps.clock.now();
    const parameters = schedule.parameters ?? {};
    let reports: ScheduleReportData[] = [];
    let problem: string | undefined;
    try {
      reports = await this.collectData(principal, dashboard, report, parameters);
    } catch (err) {
      // e.g. parameters the dashboard no longer accepts: the mail says so instead of arriving empty
      if (!isAppError(err) || err.status >= 500) throw err;
      problem = err.detail ?? err.title;
    }
    const targetName = report?.name ?? dashboard.name;
    const baseName = slugify(targetName);
    const formats = parseAttachAs(schedule.attachAs, SCHEDULE_ATTACHMENT_FORMATS);
    const files: MailFile[] = [];
    const notes: string[] = [];
    if (!problem && formats.length) {
      const renderer = this.deps.renderer;
      if (!renderer) throw new Error('This worker has no renderer for schedule attachments');
      const input: ScheduleRenderInput = {
        organization,
        dashboard,
        target: report ? 'report' : 'dashboard',
        reports,
        parameters,
        timeZone: organization.timeZone,
        pageWidth: schedule.pageWidth,
        generatedAt,
        baseName,
      };
      for (const format of formats) {
        const rendered = await renderer.render(input, format);
        rendered.forEach(({ note, ...file }, i) => {
          files.push(INLINE_FORMATS.includes(format) ? { ...file, contentId: `${format}-${i}.${runId}` } : file);
          if (note) notes.push(`${file.filename}: ${note}`);
        });
      }
    }
    const when = formatInZone(dueAt, organization.timeZone);
    const subject = schedule.subjectText?.trim() || (schedule.name === targetName ? targetName : `${targetName} – ${schedule.name}`);
    const intro = schedule.bodyText?.trim() || `${report ? 'The report' : 'The dashboard'} "${targetName}" as of ${when} (${organization.timeZone}).`;
    const lines = [intro, ''];
    if (problem) lines.push(`The data could not be prepared: ${problem}`, '');
    for (const r of reports) {
      if (r.error) lines.push(`- ${r.report.name}: ${r.error}`);
      else if (!r.result) lines.push(`- ${r.report.name}: no data`);
    }
    const attached = files.filter((f) => !f.contentId).map((f) => f.filename);
    if (attached.length) lines.push(`Attached: ${attached.join(', ')}`);
    lines.push(...notes);
    lines.push('', `Sent by the Sightline schedule "${schedule.name}" (${this.deps.apiBaseUrl}/dashboard_schedules/${schedule.id}).`);
    const text = lines.join('\n').replace(/\n{3,}/g, '\n\n');
    const inline = files.filter((f) => f.contentId);
    const html = [
      '<!doctype html><html><body>',
      ...text.split('\n').map((l) => (l === '' ? '<br>' : `<p style="margin:0">${escapeHtml(l)}</p>`)),
      ...inline.map((f) => `<p><img src="cid:${f.contentId}" alt="${escapeHtml(targetName)}" style="max-width:100%"></p>`),
      '</body></html>',
    ].join('\n');
    return {
      to: parseEmailList(schedule.emails, 'emails'),
      cc: parseEmailList(schedule.ccEmails, 'cc_emails'),
      bcc: parseEmailList(schedule.bccEmails, 'bcc_emails'),
      subject: subject.slice(0, 998),
      text,
      html,
      files,
    };
  }

  /**
   * Starts queries for stale data (through the execution engine: single flight, datasource
   * concurrency, timeouts), waits until none of the target's queries runs (bounded), and returns
   * each report with its newest result under the parameters.
   */
  private async collectData(
    principal: Principal,
    dashboard: Dashboard,
    report: Report | undefined,
    parameters: InputParameters,
  ): Promise<ScheduleReportData[]> {
    const data = this.deps.dashboardData;
    let status = await data.pollStatus(principal, dashboard.id, { refreshData: !report, parameters });
    if (report) {
      const entry = status.reports[report.id];
      const key = entry && 'data_key' in entry ? entry.data_key : undefined;
      const state = key ? status.data_keys[key] : undefined;
      if (key && state && !state.running && !state.data_current) {
        await data.refreshReport(principal, report.id, parameters);
      }
    }
    const wanted = (s: typeof status) => Object.entries(s.reports).filter(([id]) => !report || id === report.id);
    const deadline = Date.now() + (this.deps.maxDataWaitMs ?? 15 * 60_000);
    for (;;) {
      status = await data.pollStatus(principal, dashboard.id, { refreshData: false, parameters });
      const running = wanted(status).some(([, e]) => 'data_key' in e && status.data_keys[e.data_key]?.running);
      if (!running || Date.now() > deadline) break;
      await sleep(this.deps.pollIntervalMs ?? 1000);
    }
    const targets = report ? [report] : await this.deps.reports.listByDashboard(principal.organizationId, dashboard.id);
    const out: ScheduleReportData[] = [];
    for (const r of targets) {
      const entry = status.reports[r.id];
      if (!entry) continue; // outside the schedule's datasource scope
      if ('error' in entry) {
        out.push({ report: r, result: null, error: entry.error });
        continue;
      }
      const result = (await this.deps.resultStore.findLatest(principal.organizationId, entry.data_key)) ?? null;
      let error: string | null = null;
      const state = status.data_keys[entry.data_key];
      if (!result && state?.execution_id && state.execution_status && state.execution_status !== 'success') {
        const execution = await this.deps.executions.findById(principal.organizationId, state.execution_id);
        error = execution?.errorMessage ?? `The query ended with status ${state.execution_status}`;
      } else if (!result && state?.running) {
        error = 'The query was still running when the mail was sent';
      }
      out.push({ report: r, result, error });
    }
    return out;
  }
}
