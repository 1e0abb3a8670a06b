import type { Knex } from 'knex';
import { NotFoundError } from '../errors.js';
import { dashboardScheduleFields } from './dashboard-schedule.fields.js';
import type {
  DashboardSchedule,
  DashboardSchedulePatch,
  DashboardScheduleRow,
  DashboardScheduleRun,
  NewDashboardSchedule,
  ScheduleRunStatus,
} from './dashboard-schedule.types.js';

function toSchedule(row: DashboardScheduleRow): DashboardSchedule {
  return dashboardScheduleFields.fromRow(row);
}

interface RunRow {
  id: string;
  organization_id: string;
  dashboard_schedule_id: string;
  run_key: string;
  due_at: Date;
  status: ScheduleRunStatus;
  attempts: number;
  error_message: string | null;
  mail_job_id: string | null;
  sent_at: Date | null;
  created_at: Date;
}

function toRun(row: RunRow): DashboardScheduleRun {
  return {
    id: row.id,
    organizationId: row.organization_id,
    dashboardScheduleId: row.dashboard_schedule_id,
    runKey: row.run_key,
    dueAt: row.due_at,
    status: row.status,
    attempts: row.attempts,
    errorMessage: row.error_message,
    mailJobId: row.mail_job_id,
    sentAt: row.sent_at,
    createdAt: row.created_at,
  };
}

/** A schedule whose due time has come, with its organization's time zone. */
export interface DueSchedule {
  schedule: DashboardSchedule;
  timeZone: string;
}

/** SQL of `dashboard_schedules` and `dashboard_schedule_runs`; every method is scoped to one organization. */
export class DashboardScheduleRepository {
  constructor(private readonly db: Knex) {}

  async list(organizationId: string): Promise<DashboardSchedule[]> {
    const rows: DashboardScheduleRow[] = await this.db('dashboard_schedules')
      .where({ organization_id: organizationId })
      .orderBy([{ column: 'name' }, { column: 'id' }]);
    return rows.map(toSchedule);
  }

  async find(organizationId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<DashboardSchedule | undefined> {
    const q = this.db('dashboard_schedules').where({ organization_id: organizationId, id }).first();
    if (options.forUpdate) q.forUpdate();
    const row: DashboardScheduleRow | undefined = await q;
    return row && toSchedule(row);
  }

  /** @throws NotFoundError (`dashboard_schedule_not_found`) */
  async get(organizationId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<DashboardSchedule> {
    const found = await this.find(organizationId, id, options);
    if (!found) throw new NotFoundError(`Dashboard schedule ${id} not found`, { code: 'dashboard_schedule_not_found' });
    return found;
  }

  async insert(schedule: NewDashboardSchedule): Promise<DashboardSchedule> {
    const [inserted] = await this.db('dashboard_schedules').insert(dashboardScheduleFields.toColumns(schedule)).returning('*');
    return toSchedule(inserted as DashboardScheduleRow);
  }

  async update(organizationId: string, id: string, patch: DashboardSchedulePatch): Promise<DashboardSchedule> {
    const [row] = await this.db('dashboard_schedules')
      .where({ organization_id: organizationId, id })
      .update({ ...dashboardScheduleFields.toColumns(patch), updated_at: this.db.fn.now() })
      .returning('*');
    if (!row) throw new NotFoundError(`Dashboard schedule ${id} not found`, { code: 'dashboard_schedule_not_found' });
    return toSchedule(row as DashboardScheduleRow);
  }

  async delete(organizationId: string, id: string): Promise<void> {
    const n = await this.db('dashboard_schedules').where({ organization_id: organizationId, id }).delete();
    if (!n) throw new NotFoundError(`Dashboard schedule ${id} not found`, { code: 'dashboard_schedule_not_found' });
  }

  /** True when something is due at `now` (one indexed read; the tick skips its transaction otherwise). */
  async hasDue(now: Date): Promise<boolean> {
    const row = await this.db('dashboard_schedules').where('next_due_at', '<=', now).first('id');
    return row !== undefined;
  }

  /**
   * Locks up to `limit` schedules (of every organization) whose next due time is at or before `now`.
   * Rows another transaction holds are skipped, so concurrent ticks share the work without
   * waiting; the caller moves `next_due_at` on in the same transaction.
   */
  async lockDue(now: Date, limit: number): Promise<DueSchedule[]> {
    const rows: Array<DashboardScheduleRow & { org_time_zone: string }> = await this.db('dashboard_schedules as s')
      .join('organizations as o', 'o.id', 's.organization_id')
      .where('s.next_due_at', '<=', now)
      .orderBy('s.next_due_at')
      .limit(limit)
      .forUpdate('s')
      .skipLocked()
      .select('s.*', 'o.time_zone as org_time_zone');
    return rows.map(({ org_time_zone, ...row }) => ({ schedule: toSchedule(row), timeZone: org_time_zone }));
  }

  async setNextDue(id: string, nextDueAt: Date | null): Promise<void> {
    await this.db('dashboard_schedules').where({ id }).update({ next_due_at: nextDueAt });
  }

  /** Sets `last_sent_at` (never moving it back). */
  async setLastSent(id: string, sentAt: Date): Promise<void> {
    await this.db('dashboard_schedules')
      .where({ id })
      .where((q) => q.whereNull('last_sent_at').orWhere('last_sent_at', '<', sentAt))
      .update({ last_sent_at: sentAt });
  }

  /** Inserts a run unless one with the same key exists. @returns the new run, or undefined for a duplicate */
  async insertRun(run: {
    id: string;
    organization_id: string;
    dashboard_schedule_id: string;
    run_key: string;
    due_at: Date;
    created_at: Date;
  }): Promise<DashboardScheduleRun | undefined> {
    const rows: RunRow[] = await this.db('dashboard_schedule_runs')
      .insert({ ...run, updated_at: run.created_at })
      .onConflict(['dashboard_schedule_id', 'run_key'])
      .ignore()
      .returning('*');
    return rows[0] && toRun(rows[0]);
  }

  async findRun(organizationId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<DashboardScheduleRun | undefined> {
    const q = this.db('dashboard_schedule_runs').where({ organization_id: organizationId, id }).first();
    if (options.forUpdate) q.forUpdate();
    const row: RunRow | undefined = await q;
    return row && toRun(row);
  }

  /** Runs of a schedule, oldest first (tests, operators). */
  async listRuns(organizationId: string, scheduleId: string): Promise<DashboardScheduleRun[]> {
    const rows: RunRow[] = await this.db('dashboard_schedule_runs')
      .where({ organization_id: organizationId, dashboard_schedule_id: scheduleId })
      .orderBy([{ column: 'due_at' }, { column: 'created_at' }]);
    return rows.map(toRun);
  }

  async countAttempt(id: string, now: Date): Promise<number> {
    const [row] = await this.db('dashboard_schedule_runs').where({ id }).increment('attempts', 1).update({ updated_at: now }).returning('attempts');
    return (row as { attempts: number } | undefined)?.attempts ?? 0;
  }

  /**
   * Moves a run from one status to another.
   * @returns false when it was not in one of `from` (another attempt got there first)
   */
  async transitionRun(
    id: string,
    from: ScheduleRunStatus[],
    to: ScheduleRunStatus,
    changes: { mail_job_id?: string; error_message?: string | null; sent_at?: Date },
    now: Date,
  ): Promise<boolean> {
    const n = await this.db('dashboard_schedule_runs')
      .where({ id })
      .whereIn('status', from)
      .update({ status: to, ...changes, updated_at: now });
    return n > 0;
  }

  /** The run's schedule id (mail delivery hook). */
  async scheduleIdOfRun(runId: string): Promise<string | undefined> {
    const row: { dashboard_schedule_id: string } | undefined = await this.db('dashboard_schedule_runs').where({ id: runId }).first('dashboard_schedule_id');
    return row?.dashboard_schedule_id;
  }

  /** Deletes runs created before `before`. @returns rows deleted */
  async purgeRuns(before: Date): Promise<number> {
    return this.db('dashboard_schedule_runs').where('created_at', '<', before).delete();
  }
}
