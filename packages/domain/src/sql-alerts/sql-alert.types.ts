import type { CreateInputOf, NewRecordOf, PatchOf, RecordOf, RowOf, UpdateInputOf } from '../fields/index.js';
import type { SqlAlertResultStatus } from './alert-evaluation.js';
import type { sqlAlertFields } from './sql-alert.fields.js';

/** A SQL alert (contract §3.10). Fields: `sqlAlertFields`. */
export interface SqlAlert extends RecordOf<typeof sqlAlertFields> {
  // restated so that messages and hovers name the type
  id: string;
}

/** Create SQL Alert input (`datasourceId` from the relationship). */
export type CreateSqlAlertInput = CreateInputOf<typeof sqlAlertFields>;

/** Update SQL Alert input; `undefined` = unchanged. */
export type UpdateSqlAlertInput = UpdateInputOf<typeof sqlAlertFields>;

/** Row of `sql_alerts`. */
export interface SqlAlertRow extends RowOf<typeof sqlAlertFields> {
  id: string;
}

/** What `SqlAlertRepository.insert` takes. */
export type NewSqlAlert = NewRecordOf<typeof sqlAlertFields>;

/** What `SqlAlertRepository.update` takes. */
export type SqlAlertPatch = PatchOf<typeof sqlAlertFields>;

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
