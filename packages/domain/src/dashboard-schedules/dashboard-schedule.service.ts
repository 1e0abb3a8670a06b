import type { Knex } from 'knex';
import type { Principal } from '../api-keys/permissions.js';
import type { Clock } from '../clock.js';
import { DASHBOARD_MANAGE_PERMISSION, DASHBOARD_VIEW_PERMISSIONS } from '../dashboards/dashboard.permissions.js';
import type { DashboardService } from '../dashboards/dashboard.service.js';
import { withTransaction } from '../db/db.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { newId, newUuid } from '../ids.js';
import { parseEmailList } from '../mail/email-list.js';
import type { OrganizationService } from '../organizations/organization.service.js';
import type { JobQueue } from '../queue/queue.js';
import { SCHEDULING_QUEUES } from '../queue/scheduling-queues.js';
import type { ReportService } from '../reports/report.service.js';
import { SCHEDULE_ATTACHMENT_FORMATS, parseAttachAs } from '../scheduling/attach-as.js';
import { enqueueDueRuns } from '../scheduling/due-runs.js';
import { nextOccurrence } from '../scheduling/occurrences.js';
import { parseSchedule } from '../scheduling/schedule-grammar.js';
import { DashboardScheduleRepository } from './dashboard-schedule.repository.js';
import { dashboardScheduleFields } from './dashboard-schedule.fields.js';
import type {
  CreateDashboardScheduleInput,
  DashboardSchedule,
  DashboardSchedulePatch,
  DashboardScheduleRun,
  DashboardScheduleRunJob,
  UpdateDashboardScheduleInput,
} from './dashboard-schedule.types.js';

/** pg-boss queue of schedule runs (one job per run; the job id is the run id). */
export const DASHBOARD_SCHEDULE_RUN_QUEUE = SCHEDULING_QUEUES.dashboardScheduleRuns;

/** Who may read schedules (contract row 40: View ∨ Manage Dashboards) and who may change them. */
export const SCHEDULE_VIEW_PERMISSIONS = DASHBOARD_VIEW_PERMISSIONS;

export interface DashboardScheduleServiceDeps {
  db: Knex;
  clock: Clock;
  queue: JobQueue;
  dashboards: DashboardService;
  reports: ReportService;
  organizations: OrganizationService;
}

/**
 * Dashboard schedules (contract rows 39–44): CRUD with permission checks, Trigger, and the tick that
 * turns due times into runs. A run is mailed by `DashboardScheduleRunner` on a worker.
 */
export class DashboardScheduleService {
  constructor(private readonly deps: DashboardScheduleServiceDeps) {}

  private repo(db: Knex = this.deps.db): DashboardScheduleRepository {
    return new DashboardScheduleRepository(db);
  }

  /** A schedule on a report of a datasource the key cannot see is invisible to it (like the report). */
  private visible(principal: Principal, schedule: DashboardSchedule, reportDatasource: Map<string, string>): boolean {
    if (!schedule.reportId) return true;
    const ds = reportDatasource.get(schedule.reportId);
    return ds !== undefined && principal.canUseDatasource(ds, ...SCHEDULE_VIEW_PERMISSIONS);
  }

  private async reportDatasources(organizationId: string, schedules: DashboardSchedule[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const id of new Set(schedules.flatMap((s) => (s.reportId ? [s.reportId] : [])))) {
      const report = await this.deps.reports.findById(organizationId, id);
      if (report) out.set(id, report.datasourceId);
    }
    return out;
  }

  /** List Dashboard Schedules (row 40). */
  async list(principal: Principal): Promise<DashboardSchedule[]> {
    principal.requireAny(...SCHEDULE_VIEW_PERMISSIONS);
    const all = await this.repo().list(principal.organizationId);
    const ds = await this.reportDatasources(principal.organizationId, all);
    return all.filter((s) => this.visible(principal, s, ds));
  }

  /** Get Dashboard Schedule (row 41). @throws NotFoundError (`dashboard_schedule_not_found`) */
  async get(principal: Principal, id: string): Promise<DashboardSchedule> {
    principal.requireAny(...SCHEDULE_VIEW_PERMISSIONS);
    return this.getVisible(principal, id);
  }

  private async getVisible(principal: Principal, id: string, db: Knex = this.deps.db, forUpdate = false): Promise<DashboardSchedule> {
    const schedule = await this.repo(db).get(principal.organizationId, id, { forUpdate });
    if (!this.visible(principal, schedule, await this.reportDatasources(principal.organizationId, [schedule]))) {
      throw new NotFoundError(`Dashboard schedule ${id} not found`, { code: 'dashboard_schedule_not_found' });
    }
    return schedule;
  }

  /**
   * Resolves the target: the report wins over the dashboard (contract §4.8 rule 52).
   * @throws ValidationError (422) for an unknown dashboard or a report the key cannot manage
   */
  private async resolveTarget(
    principal: Principal,
    db: Knex,
    dashboardId: string | null,
    reportId: string | null,
  ): Promise<{ dashboardId: string | null; reportId: string | null }> {
    if (reportId) {
      const report = await this.deps.reports.findById(principal.organizationId, reportId, db);
      if (!report || !principal.canUseDatasource(report.datasourceId, DASHBOARD_MANAGE_PERMISSION)) {
        throw new ValidationError(`Report ${reportId} not found`, { code: 'report_not_found', source: { pointer: '/data/relationships/report' } });
      }
      return { dashboardId: null, reportId };
    }
    if (dashboardId) {
      if (!(await this.deps.dashboards.findById(principal.organizationId, dashboardId, db))) {
        throw new ValidationError(`Dashboard ${dashboardId} not found`, { code: 'dashboard_not_found', source: { pointer: '/data/relationships/dashboard' } });
      }
      return { dashboardId, reportId: null };
    }
    throw new ValidationError('A dashboard schedule needs a "dashboard" or a "report" relationship', {
      code: 'schedule_target_required',
      source: { pointer: '/data/relationships' },
    });
  }

  /**
   * Checks every list and the schedule text (the API checked them already; direct callers such as
   * the CLI and tests are held to the same rules); returns the next due time.
   */
  private validate(values: Pick<DashboardSchedule, 'emails' | 'ccEmails' | 'bccEmails' | 'attachAs' | 'schedule'>, timeZone: string): Date | null {
    if (parseEmailList(values.emails, 'emails').length === 0) {
      throw new ValidationError('emails needs at least one address', { code: 'invalid_email', source: { pointer: '/data/attributes/emails' } });
    }
    parseEmailList(values.ccEmails, 'cc_emails');
    parseEmailList(values.bccEmails, 'bcc_emails');
    parseAttachAs(values.attachAs, SCHEDULE_ATTACHMENT_FORMATS);
    return nextOccurrence(parseSchedule(values.schedule), this.deps.clock.now(), timeZone);
  }

  /** The Manage Dashboards scope of the key, stored with the schedule (a run never shows more). */
  private runScope(principal: Principal): string[] | null {
    const scope = principal.datasourceScope(DASHBOARD_MANAGE_PERMISSION);
    return scope === 'all' ? null : [...scope].sort();
  }

  /**
   * Create Dashboard Schedule (row 39).
   * @throws ForbiddenError without Manage Dashboards; ValidationError (422) for a bad attribute or target
   */
  async create(principal: Principal, input: CreateDashboardScheduleInput): Promise<DashboardSchedule> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    const organization = await this.deps.organizations.get(principal.organizationId);
    const prepared = dashboardScheduleFields.prepareCreate(input);
    const nextDueAt = this.validate(prepared, organization.timeZone);
    return withTransaction(this.deps.db, async (trx) => {
      const target = await this.resolveTarget(principal, trx, prepared.dashboardId ?? null, prepared.reportId ?? null);
      return this.repo(trx).insert({
        ...prepared,
        ...target,
        id: newId(),
        organizationId: principal.organizationId,
        runDatasourceIds: this.runScope(principal),
        nextDueAt,
      });
    });
  }

  /**
   * Update Dashboard Schedule (row 42): partial; a new `schedule` moves the next due time.
   * Relationships in the request replace the target: a new dashboard alone switches a report
   * schedule to that dashboard; given together, the report wins.
   * @throws ForbiddenError, NotFoundError, ValidationError
   */
  async update(principal: Principal, id: string, input: UpdateDashboardScheduleInput): Promise<DashboardSchedule> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    const organization = await this.deps.organizations.get(principal.organizationId);
    return withTransaction(this.deps.db, async (trx) => {
      const current = await this.getVisible(principal, id, trx, true);
      const patch: DashboardSchedulePatch = dashboardScheduleFields.prepareUpdate(input, current);
      const merged = { ...current, ...patch };
      const nextDueAt = this.validate(merged, organization.timeZone);
      if (input.dashboardId !== undefined || input.reportId !== undefined) {
        const reportId = input.reportId !== undefined ? input.reportId : input.dashboardId ? null : current.reportId;
        const dashboardId = input.dashboardId !== undefined ? input.dashboardId : current.dashboardId;
        Object.assign(patch, await this.resolveTarget(principal, trx, dashboardId, reportId));
      } else if (current.reportId) {
        // the kept report must be one this key can manage (its scope becomes the run scope)
        await this.resolveTarget(principal, trx, null, current.reportId);
      }
      if (input.schedule !== undefined) patch.nextDueAt = nextDueAt;
      patch.runDatasourceIds = this.runScope(principal);
      return this.repo(trx).update(principal.organizationId, id, patch);
    });
  }

  /** Delete Dashboard Schedule (row 43). @throws ForbiddenError, NotFoundError */
  async delete(principal: Principal, id: string): Promise<void> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    await withTransaction(this.deps.db, async (trx) => {
      await this.getVisible(principal, id, trx, true);
      await this.repo(trx).delete(principal.organizationId, id);
    });
  }

  /**
   * Trigger Dashboard Schedule (row 44): a run now, even when the schedule is `disabled`. Each call
   * is its own run (its own idempotency key).
   * @returns the run
   */
  async trigger(principal: Principal, id: string): Promise<DashboardScheduleRun> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    return withTransaction(this.deps.db, async (trx) => {
      const schedule = await this.getVisible(principal, id, trx);
      const run = await this.createRun(trx, schedule, `trigger:${newUuid()}`, this.deps.clock.now());
      return run!;
    });
  }

  /** Inserts a run and enqueues its job in the same transaction. @returns undefined when the key already ran */
  private async createRun(trx: Knex.Transaction, schedule: DashboardSchedule, runKey: string, dueAt: Date): Promise<DashboardScheduleRun | undefined> {
    const run = await this.repo(trx).insertRun({
      id: newUuid(),
      organization_id: schedule.organizationId,
      dashboard_schedule_id: schedule.id,
      run_key: runKey,
      due_at: dueAt,
      created_at: this.deps.clock.now(),
    });
    if (!run) return undefined;
    const job: DashboardScheduleRunJob = { organizationId: schedule.organizationId, runId: run.id };
    await this.deps.queue.send(DASHBOARD_SCHEDULE_RUN_QUEUE, job, { db: trx, id: run.id });
    return run;
  }

  /**
   * The tick's share for schedules: every due schedule gets ONE run for the latest due time it
   * missed, and its next due time moves past `now` (see `enqueueDueRuns`).
   * @returns runs created
   */
  async enqueueDue(now: Date = this.deps.clock.now()): Promise<number> {
    return enqueueDueRuns<DashboardSchedule>(this.deps.db, now, {
      hasDue: (at) => this.repo().hasDue(at),
      lockDue: async (trx, at, limit) => (await this.repo(trx).lockDue(at, limit)).map(({ schedule, timeZone }) => ({ item: schedule, timeZone })),
      recurrenceOf: (schedule) => parseSchedule(schedule.schedule),
      storedDueAt: (schedule) => schedule.nextDueAt,
      createRun: async (trx, schedule, runKey, dueAt) => (await this.createRun(trx, schedule, runKey, dueAt)) !== undefined,
      setNextDue: (trx, schedule, next) => this.repo(trx).setNextDue(schedule.id, next),
    });
  }

  /** Mail hook (`onDelivered` type `dashboard_schedule_run`): the run's mail was handed to SMTP. */
  async markDelivered(trx: Knex.Transaction, runId: string, sentAt: Date): Promise<void> {
    const repo = this.repo(trx);
    await repo.transitionRun(runId, ['mailed', 'pending'], 'sent', { sent_at: sentAt }, sentAt);
    const scheduleId = await repo.scheduleIdOfRun(runId);
    if (scheduleId) await repo.setLastSent(scheduleId, sentAt);
  }

  /** Runs of a schedule, oldest first (operators and tests). */
  listRuns(organizationId: string, scheduleId: string): Promise<DashboardScheduleRun[]> {
    return this.repo().listRuns(organizationId, scheduleId);
  }
}
