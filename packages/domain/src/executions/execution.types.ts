/** The contract's execution statuses (§3.3). */
export type ExecutionStatus =
  'starting' | 'running' | 'waiting' | 'scheduled' | 'cancelled' | 'success' | 'query_error' | 'timed_out' | 'internal_error' | 'internal_timeout';

/** The contract's execution types: ad hoc/report SQL, drop-down filter SQL, alert SQL, schema refresh, export. */
export type ExecutionType = 'sql_query' | 'sql_filter' | 'sql_alert' | 'almanach_query' | 'export_query';

/** Interactive executions never wait behind background ones. */
export type ExecutionPriority = 'interactive' | 'background';

/** Not finished yet: queued (`starting`, `scheduled`), waiting for a datasource slot, or running. */
export const UNFINISHED_STATUSES: readonly ExecutionStatus[] = ['starting', 'running', 'waiting', 'scheduled'];

export function isFinished(status: ExecutionStatus): boolean {
  return !UNFINISHED_STATUSES.includes(status);
}

export interface Execution {
  id: string;
  organizationId: string;
  datasourceId: string;
  executionType: ExecutionType;
  executionStatus: ExecutionStatus;
  priority: ExecutionPriority;
  dataKey: string;
  sqlText: string;
  sqlValues: unknown[];
  rQuery: string | null;
  timeZone: string;
  options: ExecutionOptions;
  resultColumns: number | null;
  resultRows: number | null;
  resultSize: number | null;
  errorMessage: string | null;
  backendId: number | null;
  /** The pg-boss job currently carrying this execution. */
  jobId: string | null;
  attempts: number;
  cancelRequestedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
}

/** Extra instructions stored with an execution. */
export interface ExecutionOptions {
  /** For `almanach_query`: the schema data key prefix. */
  schemaKeyPrefix?: string;
  /** Report or filter that this execution refreshes (for bookkeeping). */
  reportId?: string;
  filterId?: string;
  /** For `export_query`: the export job whose file receives the rows (unlimited CSV). */
  exportJobId?: string;
}

export interface ExecutionRow {
  id: string;
  organization_id: string;
  datasource_id: string;
  execution_type: ExecutionType;
  execution_status: ExecutionStatus;
  priority: ExecutionPriority;
  data_key: string;
  sql_text: string;
  sql_values: unknown[];
  r_query: string | null;
  time_zone: string;
  options: ExecutionOptions;
  result_columns: number | null;
  result_rows: number | null;
  result_size: number | null;
  error_message: string | null;
  backend_id: number | null;
  job_id: string | null;
  attempts: number;
  cancel_requested_at: Date | null;
  heartbeat_at: Date | null;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
}

/** The job payload of `executions.*` queues. */
export interface ExecutionJob {
  executionId: string;
  organizationId: string;
}
