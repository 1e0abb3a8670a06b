import type { InputParameters } from '../query/query.types.js';

/** A dashboard schedule (contract §3.6): mails a dashboard or one report on a recurring schedule. */
export interface DashboardSchedule {
  id: string;
  organizationId: string;
  /** Null when the schedule targets a report (the report wins, contract §4.8 rule 52). */
  dashboardId: string | null;
  reportId: string | null;
  name: string;
  /** Comma-separated recipients, as written. */
  emails: string;
  ccEmails: string | null;
  bccEmails: string | null;
  /** Comma-separated subset of `SCHEDULE_ATTACHMENT_FORMATS`, as written. */
  attachAs: string;
  /** The §4.8 schedule text, as written. */
  schedule: string;
  subjectText: string | null;
  bodyText: string | null;
  sendVia: string | null;
  pageWidth: number | null;
  parameters: InputParameters | null;
  /** Datasources whose reports a run shows (the author's Manage Dashboards scope); null = all. */
  runDatasourceIds: string[] | null;
  /** When the last run's mail was handed to SMTP. */
  lastSentAt: Date | null;
  /** Next due time; null when `disabled`. */
  nextDueAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface DashboardScheduleRow {
  id: string;
  organization_id: string;
  dashboard_id: string | null;
  report_id: string | null;
  name: string;
  emails: string;
  cc_emails: string | null;
  bcc_emails: string | null;
  attach_as: string;
  schedule: string;
  subject_text: string | null;
  body_text: string | null;
  send_via: string | null;
  page_width: number | null;
  parameters: InputParameters | null;
  run_datasource_ids: string[] | null;
  last_sent_at: Date | null;
  next_due_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** Create/Update input; `undefined` = unchanged. */
export interface DashboardScheduleInput {
  name?: string;
  emails?: string;
  ccEmails?: string | null;
  bccEmails?: string | null;
  attachAs?: string;
  schedule?: string;
  subjectText?: string | null;
  bodyText?: string | null;
  sendVia?: string | null;
  pageWidth?: number | null;
  parameters?: InputParameters | null;
  /** From the request's relationships: `null` clears, `undefined` keeps. */
  dashboardId?: string | null;
  reportId?: string | null;
}

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
