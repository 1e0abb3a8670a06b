import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import type { Knex } from 'knex';
import type { Clock } from '../clock.js';
import { withTransaction } from '../db/db.js';
import { isAppError } from '../errors.js';
import type { ExecutionService } from '../executions/execution.service.js';
import { isFinished, type Execution } from '../executions/execution.types.js';
import type { Logger } from '../logger.js';
import { parseEmailList } from '../mail/email-list.js';
import type { MailService } from '../mail/mail.service.js';
import type { MailMessage } from '../mail/mail.types.js';
import type { OrganizationService } from '../organizations/organization.service.js';
import type { Organization } from '../organizations/organization.types.js';
import type { ResultStore, StoredResult } from '../results/result-store.js';
import { ALERT_ATTACHMENT_FORMATS, parseAttachAs, type AlertAttachmentFormat } from '../scheduling/attach-as.js';
import { escapeHtml, formatInZone, slugify } from '../scheduling/mail-text.js';
import { decideAlertMail, evaluateTrigger, statusOfFailedExecution, type SqlAlertResultStatus } from './alert-evaluation.js';
import { SqlAlertRepository } from './sql-alert.repository.js';
import type { RenderedAttachment } from '../dashboard-schedules/dashboard-schedule.runner.js';
import type { SqlAlertService } from './sql-alert.service.js';
import type { SqlAlert, SqlAlertRun, SqlAlertRunJob } from './sql-alert.types.js';

const gunzip = promisify(gunzipCallback);

/** Renders an alert's result as a mail attachment (the worker implements it with `@sightline/render`). */
export interface AlertAttachmentRenderer {
  render(input: { result: StoredResult; format: AlertAttachmentFormat; baseName: string; organization: Organization }): Promise<RenderedAttachment>;
}

export interface SqlAlertRunnerDeps {
  db: Knex;
  clock: Clock;
  logger: Logger;
  mail: MailService;
  alerts: SqlAlertService;
  executions: ExecutionService;
  organizations: OrganizationService;
  resultStore: ResultStore;
  /** Without one, a run that should attach its result fails (and is retried). */
  renderer?: AlertAttachmentRenderer;
  apiBaseUrl: string;
  /** Pause between two looks at the running query (default 500 ms). */
  pollIntervalMs?: number;
  /** Longest wait for the query in one attempt before the job is retried (default 60 min). */
  maxWaitMs?: number;
}

const SUBJECT: Record<'triggered' | 'resolved' | 'ok' | 'error', (name: string, status: SqlAlertResultStatus) => string> = {
  triggered: (name) => `Alert triggered: ${name}`,
  resolved: (name) => `Alert no longer triggered: ${name}`,
  ok: (name) => `Alert OK: ${name}`,
  error: (name, status) => `Alert failed (${status}): ${name}`,
};

function showValue(value: unknown): string {
  if (value === undefined || value === null) return 'NULL';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/**
 * Evaluates and mails one alert run (the `sql_alerts.run` job): starts the query through the
 * execution engine (scheduled runs; Run SQL Alert Query started it already), waits for it, evaluates
 * the trigger condition on the first column of the first row, records the result, keeps the alert's
 * status attributes current, and enqueues ONE idempotent mail when `email_condition` says so. Every
 * step is guarded by the run's stored state, so a job delivered twice evaluates and mails once.
 */
export class SqlAlertRunner {
  constructor(private readonly deps: SqlAlertRunnerDeps) {}

  private repo(db: Knex = this.deps.db): SqlAlertRepository {
    return new SqlAlertRepository(db);
  }

  /**
   * Handles one job.
   * @throws on a transient failure (the queue retries)
   */
  async run(job: SqlAlertRunJob): Promise<'evaluated' | 'done'> {
    let run = await this.repo().findRun(job.organizationId, job.runId);
    if (!run) return 'done';
    const log = this.deps.logger.child({ sql_alert_run: run.id, sql_alert: run.sqlAlertId });
    if (run.status !== 'evaluated') {
      const alert = await this.repo().find(job.organizationId, run.sqlAlertId);
      if (!alert) return 'done';
      run = await this.execute(alert, run, log);
    }
    if (run.mailAudience && !run.mailJobId) await this.mail(run, log);
    return 'evaluated';
  }

  private async execute(alert: SqlAlert, run: SqlAlertRun, log: Logger): Promise<SqlAlertRun> {
    let execution: Execution | undefined;
    if (run.executionId) {
      execution = await this.deps.executions.findById(alert.organizationId, run.executionId);
    } else {
      try {
        execution = await this.deps.alerts.startExecution(alert, 'background');
      } catch (err) {
        // The query cannot even start (compile error, disabled datasource): a query error result.
        if (!isAppError(err) || err.status >= 500) throw err;
        return this.evaluate(alert, run, undefined, { status: 'query_error', errorMessage: null, queryError: err.detail ?? err.title });
      }
      await withTransaction(this.deps.db, async (trx) => {
        if (await this.repo(trx).startRun(run.id, execution!.id, this.deps.clock.now())) {
          await this.repo(trx).update(alert.organizationId, alert.id, { runningExecutionId: execution!.id }, { touch: false });
        }
      });
      const fresh = await this.repo().findRun(alert.organizationId, run.id);
      if (fresh?.executionId && fresh.executionId !== execution.id) execution = await this.deps.executions.findById(alert.organizationId, fresh.executionId);
    }
    const deadline = Date.now() + (this.deps.maxWaitMs ?? 60 * 60_000);
    while (execution && !isFinished(execution.executionStatus)) {
      if (Date.now() > deadline) throw new Error(`execution ${execution.id} still runs; the alert run is retried later`);
      await sleep(this.deps.pollIntervalMs ?? 500);
      execution = await this.deps.executions.findById(alert.organizationId, execution.id);
    }
    if (!execution) {
      return this.evaluate(alert, run, undefined, { status: 'internal_error', errorMessage: null, queryError: 'The execution is no longer available' });
    }
    if (execution.executionStatus !== 'success') {
      const status = statusOfFailedExecution(execution.executionStatus);
      return this.evaluate(alert, run, execution, {
        status,
        errorMessage: null,
        queryError: execution.errorMessage ?? `The query ended with status ${execution.executionStatus}`,
      });
    }
    const stored = await this.deps.resultStore.findByExecution(alert.organizationId, execution.id);
    if (!stored) {
      return this.evaluate(alert, run, execution, { status: 'internal_error', errorMessage: null, queryError: 'The result of the query is no longer stored' });
    }
    const firstValue = await this.firstCell(stored);
    const evaluation = evaluateTrigger(alert.triggerCondition, alert.triggerValue, { rowCount: stored.sqlRows, firstValue });
    log.debug({ status: evaluation.status }, 'alert evaluated');
    return this.evaluate(alert, run, execution, { ...evaluation, queryError: null, firstValue, rowCount: stored.sqlRows });
  }

  /** First column of the first row (reads the first stored chunk only), undefined without one. */
  private async firstCell(result: StoredResult): Promise<unknown> {
    if (result.sqlRows === 0 || result.chunkCount === 0 || result.sqlColumns === 0) return undefined;
    for await (const chunk of this.deps.resultStore.readChunks(result.executionId, 0, 0)) {
      const text = (await gunzip(chunk.bytes)).toString('utf8');
      const rows = JSON.parse(`[${text}]`) as unknown[][];
      return rows[0]?.[0];
    }
    return undefined;
  }

  /**
   * Records the evaluation (once per run: the alert row and the run are locked, so runs of one
   * alert evaluate one after the other and `changed` compares with the right predecessor) and keeps
   * the alert's status attributes current.
   */
  private async evaluate(
    alert: SqlAlert,
    run: SqlAlertRun,
    execution: Execution | undefined,
    outcome: { status: SqlAlertResultStatus; errorMessage: string | null; queryError: string | null; firstValue?: unknown; rowCount?: number },
  ): Promise<SqlAlertRun> {
    const now = this.deps.clock.now();
    return withTransaction(this.deps.db, async (trx) => {
      const repo = this.repo(trx);
      const current = (await repo.find(alert.organizationId, alert.id, { forUpdate: true })) ?? alert;
      const locked = await repo.findRun(alert.organizationId, run.id, { forUpdate: true });
      if (!locked || locked.status === 'evaluated') return locked ?? run;
      const { previous, lastEvaluated } = await repo.previousResults(alert.id);
      const hasRegular = [current.emails, current.ccEmails, current.bccEmails].some((list) => parseEmailList(list, 'emails').length > 0);
      const hasErrorEmails = parseEmailList(current.errorEmails, 'error_emails').length > 0;
      const decision = decideAlertMail(current.emailCondition, outcome.status, previous, lastEvaluated, { hasRegular, hasErrorEmails });
      const duration = execution?.startedAt && execution.completedAt ? execution.completedAt.getTime() - execution.startedAt.getTime() : null;
      const evaluated = await repo.evaluateRun(run.id, {
        result_status: outcome.status,
        error_message: outcome.queryError ?? outcome.errorMessage,
        sql_query: current.sqlQuery,
        sql_query_duration: duration,
        mail_audience: decision.send ? decision.audience : null,
        mail_reason: decision.send ? decision.reason : null,
        first_value: outcome.firstValue ?? null,
        row_count: outcome.rowCount ?? null,
        evaluated_at: now,
      });
      const succeeded = execution?.executionStatus === 'success';
      await repo.update(
        alert.organizationId,
        alert.id,
        {
          lastResultStatus: outcome.status,
          lastErrorMessage: outcome.status === 'alert_error' ? outcome.errorMessage : null,
          lastQueryRun: execution ? (execution.startedAt ?? execution.createdAt) : now,
          ...(succeeded ? { lastQuerySuccess: execution!.completedAt ?? now, lastQueryErrorMessage: null } : {}),
          ...(outcome.queryError && outcome.status !== 'cancelled' ? { lastQueryErrorMessage: outcome.queryError } : {}),
          ...(current.runningExecutionId && (!execution || current.runningExecutionId === execution.id) ? { runningExecutionId: null } : {}),
        },
        { touch: false },
      );
      return evaluated;
    });
  }

  /** Renders the attachment (if any) and enqueues the run's one mail. */
  private async mail(run: SqlAlertRun, log: Logger): Promise<void> {
    const alert = await this.repo().find(run.organizationId, run.sqlAlertId);
    if (!alert) return;
    const organization = await this.deps.organizations.get(alert.organizationId);
    const regular = run.mailAudience === 'regular';
    const files: RenderedAttachment[] = [];
    const [format] = parseAttachAs(alert.attachAs, ALERT_ATTACHMENT_FORMATS);
    if (regular && format && run.executionId && run.resultStatus !== null && ['ok', 'alert_triggered', 'alert_error'].includes(run.resultStatus)) {
      const stored = await this.deps.resultStore.findByExecution(alert.organizationId, run.executionId);
      if (stored) {
        if (!this.deps.renderer) throw new Error('This worker has no renderer for alert attachments');
        files.push(await this.deps.renderer.render({ result: stored, format, baseName: slugify(alert.name), organization }));
      }
    }
    const message = this.compose(
      alert,
      run,
      organization,
      files.map((f) => (f.note ? `${f.filename} (${f.note})` : f.filename)),
    );
    await withTransaction(this.deps.db, async (trx) => {
      const locked = await this.repo(trx).findRun(run.organizationId, run.id, { forUpdate: true });
      if (!locked || locked.mailJobId) return;
      const attachments = [];
      for (const { note: _note, ...file } of files) attachments.push({ id: await this.deps.mail.storeAttachment(trx, run.organizationId, file) });
      const mailJobId = await this.deps.mail.enqueue(trx, 'sql_alert', { ...message, attachments }, run.organizationId, {
        idempotencyKey: `sql_alert_run:${run.id}`,
      });
      await this.repo(trx).setRunMailJob(run.id, mailJobId, this.deps.clock.now());
    });
    log.info({ audience: run.mailAudience, reason: run.mailReason }, 'alert mail enqueued');
  }

  private compose(alert: SqlAlert, run: SqlAlertRun, organization: Organization, attached: string[]): MailMessage {
    const status = run.resultStatus!;
    const reason = run.mailReason!;
    const subject = SUBJECT[reason](alert.name, status);
    const when = formatInZone(run.evaluatedAt ?? this.deps.clock.now(), organization.timeZone);
    const lines = [subject, ''];
    if (alert.description) lines.push(alert.description, '');
    lines.push(`Result: ${status} at ${when} (${organization.timeZone})`);
    if (run.rowCount !== null) lines.push(`Rows: ${run.rowCount}`);
    if (run.rowCount) lines.push(`First value: ${showValue(run.firstValue)}`);
    const condition = alert.triggerCondition;
    lines.push(`Condition: ${condition}${alert.triggerValue !== null && !['has_results', 'no_results'].includes(condition) ? ` ${alert.triggerValue}` : ''}`);
    if (run.errorMessage) lines.push(`Error: ${run.errorMessage}`);
    if (attached.length) lines.push(`Attached: ${attached.join(', ')}`);
    lines.push('', `Sent by the Sightline alert "${alert.name}" (${this.deps.apiBaseUrl}/sql_alerts/${alert.id}).`);
    const text = lines.join('\n');
    const html = ['<!doctype html><html><body>', ...lines.map((l) => (l === '' ? '<br>' : `<p style="margin:0">${escapeHtml(l)}</p>`)), '</body></html>'].join(
      '\n',
    );
    const audience =
      run.mailAudience === 'errors'
        ? { to: parseEmailList(alert.errorEmails, 'error_emails') }
        : { to: parseEmailList(alert.emails, 'emails'), cc: parseEmailList(alert.ccEmails, 'cc_emails'), bcc: parseEmailList(alert.bccEmails, 'bcc_emails') };
    return { ...audience, subject: subject.slice(0, 998), text, html };
  }
}
