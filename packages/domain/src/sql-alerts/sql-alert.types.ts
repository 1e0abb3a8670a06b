import type { RunSchedule } from '../scheduling/schedule-grammar.js';
import type { EmailCondition, SqlAlertResultStatus, TriggerCondition } from './alert-evaluation.js';

/** A SQL alert (contract §3.10). */
export interface SqlAlert {
  id: string;
  organizationId: string;
  datasourceId: string;
  name: string;
  description: string | null;
  sqlQuery: string;
  runSchedule: RunSchedule;
  /** Comma-separated times of day for `at`, as written. */
  runAt: string | null;
  /** Minutes between runs for `every`. */
  runEvery: number | null;
  triggerCondition: TriggerCondition;
  triggerValue: number | null;
  emailCondition: EmailCondition;
  emails: string | null;
  ccEmails: string | null;
  bccEmails: string | null;
  errorEmails: string | null;
  /** `csv`, `excel`, or null. */
  attachAs: string | null;
  /** Set while a run's query runs. */
  runningExecutionId: string | null;
  lastResultStatus: SqlAlertResultStatus | null;
  /** Alert-evaluation error of the last run (e.g. a non-numeric value). */
  lastErrorMessage: string | null;
  lastQueryRun: Date | null;
  lastQuerySuccess: Date | null;
  lastQueryErrorMessage: string | null;
  /** Next due time; null when `disabled`. */
  nextRunAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface SqlAlertRow {
  id: string;
  organization_id: string;
  datasource_id: string;
  name: string;
  description: string | null;
  sql_query: string;
  run_schedule: RunSchedule;
  run_at: string | null;
  run_every: number | null;
  trigger_condition: TriggerCondition;
  trigger_value: number | null;
  email_condition: EmailCondition;
  emails: string | null;
  cc_emails: string | null;
  bcc_emails: string | null;
  error_emails: string | null;
  attach_as: string | null;
  running_execution_id: string | null;
  last_result_status: SqlAlertResultStatus | null;
  last_error_message: string | null;
  last_query_run: Date | null;
  last_query_success: Date | null;
  last_query_error_message: string | null;
  next_run_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** Create/Update input; `undefined` = unchanged (create: default). */
export interface SqlAlertInput {
  name?: string;
  description?: string | null;
  sqlQuery?: string;
  runSchedule?: RunSchedule;
  runAt?: string | null;
  runEvery?: number | null;
  triggerCondition?: TriggerCondition;
  triggerValue?: number | null;
  emailCondition?: EmailCondition;
  emails?: string | null;
  ccEmails?: string | null;
  bccEmails?: string | null;
  errorEmails?: string | null;
  attachAs?: string | null;
  datasourceId?: string;
}

/** States of an alert run: pending (job enqueued) → running (query started) → evaluated. */
export type AlertRunStatus = 'pending' | 'running' | 'evaluated';

/** One (alert, due time) pair or one Run SQL Alert Query; an evaluated run is a result. */
export interface SqlAlertRun {
  id: string;
  organizationId: string;
  sqlAlertId: string;
  runKey: string;
  dueAt: Date | null;
  executionId: string | null;
  status: AlertRunStatus;
  resultSeq: number | null;
  resultStatus: SqlAlertResultStatus | null;
  errorMessage: string | null;
  sqlQuery: string | null;
  sqlQueryDuration: number | null;
  mailAudience: 'regular' | 'errors' | null;
  mailReason: 'triggered' | 'resolved' | 'ok' | 'error' | null;
  firstValue: unknown;
  rowCount: number | null;
  mailJobId: string | null;
  evaluatedAt: Date | null;
  createdAt: Date;
}

/** The contract's SqlAlertResult (plain JSON of List SQL Alert Results). */
export interface SqlAlertResult {
  result_status: SqlAlertResultStatus;
  error_message: string | null;
  /** Only for keys with Include SQL Details. */
  sql_query?: string | null;
  /** Milliseconds; only for keys with Include SQL Details. */
  sql_query_duration?: number | null;
  created_at: string;
}

/** A page of results, newest first. */
export interface SqlAlertResultPage {
  /** Pass back as `cursor` for older results; null when there are none. */
  cursor: string | null;
  /** Results within the 30-day window. */
  count: number;
  items: SqlAlertResult[];
}

/** The payload of a `sql_alerts.run` job. */
export interface SqlAlertRunJob {
  organizationId: string;
  runId: string;
}
