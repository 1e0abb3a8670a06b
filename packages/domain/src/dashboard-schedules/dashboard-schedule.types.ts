import type { CreateInputOf, NewRecordOf, PatchOf, RecordOf, RowOf, UpdateInputOf } from '../fields/index.js';
import type { dashboardScheduleFields } from './dashboard-schedule.fields.js';

/** A dashboard schedule (contract §3.6): mails a dashboard or one report on a recurring schedule. Fields: `dashboardScheduleFields`. */
export interface DashboardSchedule extends RecordOf<typeof dashboardScheduleFields> {
  // restated so that messages and hovers name the type
  id: string;
}

/** Create Dashboard Schedule input (`dashboardId`/`reportId` from the relationships). */
export type CreateDashboardScheduleInput = CreateInputOf<typeof dashboardScheduleFields>;

/** Update Dashboard Schedule input; `undefined` = unchanged. */
export type UpdateDashboardScheduleInput = UpdateInputOf<typeof dashboardScheduleFields>;

/** Row of `dashboard_schedules`. */
export interface DashboardScheduleRow extends RowOf<typeof dashboardScheduleFields> {
  id: string;
}

/** What `DashboardScheduleRepository.insert` takes. */
export type NewDashboardSchedule = NewRecordOf<typeof dashboardScheduleFields>;

/** What `DashboardScheduleRepository.update` takes. */
export type DashboardSchedulePatch = PatchOf<typeof dashboardScheduleFields>;

/** States of a run: pending → mailed (mail job enqueued) → sent (handed to SMTP); skipped/failed end without mail. */
export type ScheduleRunStatus = 'pending' | 'mailed' | 'sent' | 'skipped' | 'failed';

/** One (schedule, due time) pair, or one Trigger. */
export interface DashboardScheduleRun {
  id: string;
  organizationId: string;
  dashboardScheduleId: string;
  runKey: string;
  dueAt: Date;
  status: ScheduleRunStatus;
  attempts: number;
  errorMessage: string | null;
  mailJobId: string | null;
  sentAt: Date | null;
  createdAt: Date;
}

/** The payload of a `dashboard_schedules.run` job. */
export interface DashboardScheduleRunJob {
  organizationId: string;
  runId: string;
}
