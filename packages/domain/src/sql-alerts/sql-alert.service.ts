import type { Knex } from 'knex';
import type { Permission, Principal } from '../api-keys/permissions.js';
import type { Clock } from '../clock.js';
import type { DatasourceService } from '../datasources/datasource.service.js';
import { withTransaction } from '../db/db.js';
import { dialectOf } from '../drivers/index.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { computeDataKey } from '../executions/data-key.js';
import type { ExecutionService } from '../executions/execution.service.js';
import type { Execution, ExecutionPriority } from '../executions/execution.types.js';
import type { FilterService } from '../filters/filter.service.js';
import { newId, newUuid } from '../ids.js';
import { parseEmailList } from '../mail/email-list.js';
import type { OrganizationService } from '../organizations/organization.service.js';
import { compileQuery } from '../query/index.js';
import type { JobQueue } from '../queue/queue.js';
import { SCHEDULING_QUEUES } from '../queue/scheduling-queues.js';
import { ALERT_ATTACHMENT_FORMATS, parseAttachAs } from '../scheduling/attach-as.js';
import { enqueueDueRuns } from '../scheduling/due-runs.js';
import { nextOccurrence } from '../scheduling/occurrences.js';
import { parseRunSchedule } from '../scheduling/schedule-grammar.js';
import type { SqlSnippetService } from '../sql-snippets/sql-snippet.service.js';
import { COMPARISON_CONDITIONS } from './alert-evaluation.js';
import { decodeResultCursor, encodeResultCursor } from './result-cursor.js';
import { SqlAlertRepository } from './sql-alert.repository.js';
import { sqlAlertFields } from './sql-alert.fields.js';
import type { CreateSqlAlertInput, SqlAlert, SqlAlertPatch, SqlAlertResultPage, SqlAlertRun, SqlAlertRunJob, UpdateSqlAlertInput } from './sql-alert.types.js';

/** pg-boss queue of alert runs (one job per run; the job id is the run id). */
export const SQL_ALERT_RUN_QUEUE = SCHEDULING_QUEUES.sqlAlertRuns;

/** Who may read alerts (contract rows 69, 70, 74: View ∨ Manage Alerts). */
export const ALERT_VIEW_PERMISSIONS: Permission[] = ['View Alerts', 'Manage Alerts'];
/** Who may change and run them (rows 68, 71–73), on top of access to the alert's datasource. */
export const ALERT_MANAGE_PERMISSION: Permission = 'Manage Alerts';

/** Results are listed for this long (contract §1.9: "available only for the last 30 days"). */
export const ALERT_RESULT_RETENTION_DAYS = 30;

export interface SqlAlertServiceDeps {
  db: Knex;
  clock: Clock;
  queue: JobQueue;
  datasources: DatasourceService;
  sqlSnippets: SqlSnippetService;
  filters: FilterService;
  executions: ExecutionService;
  organizations: OrganizationService;
}

/**
 * SQL alerts (contract rows 68–74): CRUD with permission and datasource checks, Run SQL Alert
 * Query, List SQL Alert Results, and the tick that turns due times into runs. Runs are evaluated
 * and mailed by `SqlAlertRunner` on a worker; their queries go through the execution engine.
 */
export class SqlAlertService {
  constructor(private readonly deps: SqlAlertServiceDeps) {}

  private repo(db: Knex = this.deps.db): SqlAlertRepository {
    return new SqlAlertRepository(db);
  }

  /** List SQL Alerts (row 69): alerts on datasources the key reaches. */
  list(principal: Principal): Promise<SqlAlert[]> {
    principal.requireAny(...ALERT_VIEW_PERMISSIONS);
    return this.repo().list(principal.organizationId, principal.datasourceScope(...ALERT_VIEW_PERMISSIONS));
  }

  /**
   * Get SQL Alert (row 70).
   * @throws NotFoundError (`sql_alert_not_found`) when unknown, of another organization, or on a
   *   datasource the key cannot reach
   */
  async get(principal: Principal, id: string): Promise<SqlAlert> {
    principal.requireAny(...ALERT_VIEW_PERMISSIONS);
    return this.getVisible(principal, id, ALERT_VIEW_PERMISSIONS);
  }

  private async getVisible(principal: Principal, id: string, permissions: Permission[], db: Knex = this.deps.db, forUpdate = false): Promise<SqlAlert> {
    const alert = await this.repo(db).find(principal.organizationId, id, { forUpdate });
    if (!alert || !principal.canUseDatasource(alert.datasourceId, ...permissions)) {
      throw new NotFoundError(`SQL alert ${id} not found`, { code: 'sql_alert_not_found' });
    }
    return alert;
  }

  /** @throws ValidationError (422) when the datasource is unknown or outside the key's Manage Alerts scope */
  private async checkDatasource(principal: Principal, datasourceId: string): Promise<void> {
    const unknown = await this.deps.datasources.unknownIds(this.deps.db, principal.organizationId, [datasourceId]);
    if (unknown.length || !principal.canUseDatasource(datasourceId, ALERT_MANAGE_PERMISSION)) {
      throw new ValidationError(`Datasource ${datasourceId} not found`, {
        code: 'datasource_not_found',
        source: { pointer: '/data/relationships/datasource' },
      });
    }
  }

  /** Checks the rules of §3.10 on the merged values; returns the next due time. */
  private validate(
    a: Pick<
      SqlAlert,
      'runSchedule' | 'runAt' | 'runEvery' | 'triggerCondition' | 'triggerValue' | 'emails' | 'ccEmails' | 'bccEmails' | 'errorEmails' | 'attachAs'
    >,
    timeZone: string,
  ): Date | null {
    const recurrence = parseRunSchedule({ runSchedule: a.runSchedule, runAt: a.runAt, runEvery: a.runEvery });
    if (COMPARISON_CONDITIONS.includes(a.triggerCondition) && (a.triggerValue === null || !Number.isFinite(a.triggerValue))) {
      throw new ValidationError(`trigger_value is required for trigger_condition "${a.triggerCondition}"`, {
        code: 'trigger_value_required',
        source: { pointer: '/data/attributes/trigger_value' },
      });
    }
    parseEmailList(a.emails, 'emails');
    parseEmailList(a.ccEmails, 'cc_emails');
    parseEmailList(a.bccEmails, 'bcc_emails');
    parseEmailList(a.errorEmails, 'error_emails');
    if (parseAttachAs(a.attachAs, ALERT_ATTACHMENT_FORMATS).length > 1) {
      throw new ValidationError('attach_as takes one format: csv or excel', { code: 'invalid_attach_as', source: { pointer: '/data/attributes/attach_as' } });
    }
    return nextOccurrence(recurrence, this.deps.clock.now(), timeZone);
  }

  /**
   * Create SQL Alert (row 68).
   * @throws ForbiddenError without Manage Alerts; ValidationError (422) for a bad attribute or datasource
   */
  async create(principal: Principal, input: CreateSqlAlertInput): Promise<SqlAlert> {
    principal.requireAny(ALERT_MANAGE_PERMISSION);
    await this.checkDatasource(principal, input.datasourceId);
    const organization = await this.deps.organizations.get(principal.organizationId);
    const prepared = sqlAlertFields.prepareCreate(input);
    const nextRunAt = this.validate(prepared, organization.timeZone);
    return this.repo().insert({ ...prepared, id: newId(), organizationId: principal.organizationId, nextRunAt });
  }

  /**
   * Update SQL Alert (row 71): partial. Needs access to the current and (when it changes) the new
   * datasource. A changed `run_schedule`/`run_at`/`run_every` moves the next due time.
   * @throws ForbiddenError, NotFoundError, ValidationError
   */
  async update(principal: Principal, id: string, input: UpdateSqlAlertInput): Promise<SqlAlert> {
    principal.requireAny(ALERT_MANAGE_PERMISSION);
    const organization = await this.deps.organizations.get(principal.organizationId);
    return withTransaction(this.deps.db, async (trx) => {
      const current = await this.getVisible(principal, id, [ALERT_MANAGE_PERMISSION], trx, true);
      if (input.datasourceId !== undefined && input.datasourceId !== current.datasourceId) await this.checkDatasource(principal, input.datasourceId);
      const patch: SqlAlertPatch = sqlAlertFields.prepareUpdate(input, current);
      const nextRunAt = this.validate({ ...current, ...patch }, organization.timeZone);
      if (input.runSchedule !== undefined || input.runAt !== undefined || input.runEvery !== undefined) patch.nextRunAt = nextRunAt;
      return this.repo(trx).update(principal.organizationId, id, patch);
    });
  }

  /** Delete SQL Alert (row 72). @throws ForbiddenError, NotFoundError */
  async delete(principal: Principal, id: string): Promise<void> {
    principal.requireAny(ALERT_MANAGE_PERMISSION);
    await withTransaction(this.deps.db, async (trx) => {
      await this.getVisible(principal, id, [ALERT_MANAGE_PERMISSION], trx, true);
      await this.repo(trx).delete(principal.organizationId, id);
    });
  }

  /**
   * Starts (or joins, single flight) the execution of an alert's query through the execution engine.
   * @throws ValidationError when the datasource is disabled or unsupported, or the SQL does not compile
   */
  async startExecution(alert: SqlAlert, priority: ExecutionPriority): Promise<Execution> {
    const org = alert.organizationId;
    const ds = await this.deps.datasources.getByIdUnchecked(org, alert.datasourceId);
    this.deps.datasources.connectionSettings(ds);
    const dialect = dialectOf(ds.databaseType);
    if (!dialect) throw new ValidationError(`Database type "${ds.databaseType}" is not supported by this build`, { code: 'database_type_not_supported' });
    const [snippets, filters] = await Promise.all([this.deps.sqlSnippets.listAll(org), this.deps.filters.listAll(org)]);
    const compiled = compileQuery({
      sql: alert.sqlQuery,
      dialect,
      snippets: snippets.map((s) => ({ name: s.name, text: s.text, params: s.params })),
      filters,
      parameters: {},
      dataTimeZone: ds.dataTimeZone,
      dashboardTimeZone: null,
      now: this.deps.clock.now(),
    });
    const dataKey = computeDataKey({
      organizationId: org,
      kind: 'alerts',
      ownerId: alert.id,
      datasourceId: ds.id,
      sql: compiled.sql,
      values: compiled.values,
      timeZone: ds.dataTimeZone,
    });
    return this.deps.executions.start({
      organizationId: org,
      datasource: ds,
      executionType: 'sql_alert',
      priority,
      dataKey,
      sqlText: compiled.sql,
      sqlValues: compiled.values,
      timeZone: ds.dataTimeZone,
    });
  }

  /**
   * Run SQL Alert Query (row 73): starts the query now and evaluates it when it ends (mails as
   * `email_condition` says), whatever `run_schedule` is.
   * @returns the execution (its id is the answer)
   * @throws ForbiddenError, NotFoundError, ValidationError (the SQL does not compile, datasource disabled)
   */
  async run(principal: Principal, id: string): Promise<Execution> {
    principal.requireAny(ALERT_MANAGE_PERMISSION);
    const alert = await this.getVisible(principal, id, [ALERT_MANAGE_PERMISSION]);
    const execution = await this.startExecution(alert, 'interactive');
    await withTransaction(this.deps.db, async (trx) => {
      const now = this.deps.clock.now();
      const run = await this.repo(trx).insertRun({
        id: newUuid(),
        organization_id: alert.organizationId,
        sql_alert_id: alert.id,
        run_key: `run:${newUuid()}`,
        due_at: null,
        execution_id: execution.id,
        status: 'running',
        created_at: now,
      });
      await this.repo(trx).update(alert.organizationId, alert.id, { runningExecutionId: execution.id }, { touch: false });
      const job: SqlAlertRunJob = { organizationId: alert.organizationId, runId: run!.id };
      await this.deps.queue.send(SQL_ALERT_RUN_QUEUE, job, { db: trx, id: run!.id });
    });
    return execution;
  }

  /**
   * List SQL Alert Results (row 74): newest first, `limit` per page, `cursor` for older ones, within
   * the last 30 days; `sql_query`/`sql_query_duration` only with Include SQL Details.
   * @throws ForbiddenError, NotFoundError, BadRequestError (foreign or malformed cursor)
   */
  async results(principal: Principal, id: string, options: { cursor?: string; limit: number }): Promise<SqlAlertResultPage> {
    principal.requireAny(...ALERT_VIEW_PERMISSIONS);
    const alert = await this.getVisible(principal, id, ALERT_VIEW_PERMISSIONS);
    const beforeSeq = options.cursor === undefined ? undefined : decodeResultCursor(alert.id, options.cursor);
    const since = new Date(this.deps.clock.now().getTime() - ALERT_RESULT_RETENTION_DAYS * 86_400_000);
    const [rows, count] = await Promise.all([this.repo().listResults(alert.id, since, beforeSeq, options.limit), this.repo().countResults(alert.id, since)]);
    const page = rows.slice(0, options.limit);
    const details = principal.has('Include SQL Details');
    const last = page[page.length - 1];
    return {
      cursor: rows.length > options.limit && last ? encodeResultCursor(alert.id, last.resultSeq!) : null,
      count,
      items: page.map((r) => ({
        result_status: r.resultStatus!,
        error_message: r.errorMessage,
        ...(details ? { sql_query: r.sqlQuery, sql_query_duration: r.sqlQueryDuration } : {}),
        created_at: r.evaluatedAt!.toISOString(),
      })),
    };
  }

  /**
   * The tick's share for alerts: every alert whose next run is due gets ONE run for the latest due
   * time it missed, its next run moves past `now` (see `enqueueDueRuns`).
   * @returns runs created
   */
  async enqueueDue(now: Date = this.deps.clock.now()): Promise<number> {
    return enqueueDueRuns<SqlAlert>(this.deps.db, now, {
      hasDue: (at) => this.repo().hasDue(at),
      lockDue: async (trx, at, limit) => (await this.repo(trx).lockDue(at, limit)).map(({ alert, timeZone }) => ({ item: alert, timeZone })),
      recurrenceOf: (alert) => parseRunSchedule({ runSchedule: alert.runSchedule, runAt: alert.runAt, runEvery: alert.runEvery }),
      storedDueAt: (alert) => alert.nextRunAt,
      createRun: async (trx, alert, runKey, dueAt) => {
        const run = await this.repo(trx).insertRun({
          id: newUuid(),
          organization_id: alert.organizationId,
          sql_alert_id: alert.id,
          run_key: runKey,
          due_at: dueAt,
          status: 'pending',
          created_at: this.deps.clock.now(),
        });
        if (!run) return false;
        const job: SqlAlertRunJob = { organizationId: alert.organizationId, runId: run.id };
        await this.deps.queue.send(SQL_ALERT_RUN_QUEUE, job, { db: trx, id: run.id });
        return true;
      },
      setNextDue: (trx, alert, next) => this.repo(trx).setNextRun(alert.id, next),
    });
  }

  /** A run (worker, tests). */
  findRun(organizationId: string, runId: string): Promise<SqlAlertRun | undefined> {
    return this.repo().findRun(organizationId, runId);
  }
}
