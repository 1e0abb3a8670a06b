import type { Knex } from 'knex';
import { NotFoundError } from '../errors.js';
import { isUuid } from '../ids.js';
import type { Execution, ExecutionRow, ExecutionStatus } from './execution.types.js';
import { UNFINISHED_STATUSES } from './execution.types.js';

function toExecution(row: ExecutionRow): Execution {
  return {
    id: row.id,
    organizationId: row.organization_id,
    datasourceId: row.datasource_id,
    executionType: row.execution_type,
    executionStatus: row.execution_status,
    priority: row.priority,
    dataKey: row.data_key,
    sqlText: row.sql_text,
    sqlValues: row.sql_values,
    rQuery: row.r_query,
    timeZone: row.time_zone,
    options: row.options ?? {},
    resultColumns: row.result_columns,
    resultRows: row.result_rows === null ? null : Number(row.result_rows),
    resultSize: row.result_size === null ? null : Number(row.result_size),
    errorMessage: row.error_message,
    backendId: row.backend_id,
    jobId: row.job_id,
    attempts: row.attempts,
    cancelRequestedAt: row.cancel_requested_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
  };
}

/** Executions are visible for 24 hours after they started (contract §1.9). */
export const EXECUTION_RETENTION_HOURS = 24;

/** SQL for `executions`. State changes are conditional updates: a finished execution never changes. */
export class ExecutionRepository {
  constructor(private readonly db: Knex) {}

  async insert(row: Omit<ExecutionRow, 'created_at' | 'updated_at' | 'started_at' | 'completed_at' | 'result_columns' | 'result_rows' | 'result_size' | 'error_message' | 'backend_id' | 'attempts' | 'cancel_requested_at' | 'heartbeat_at'>): Promise<Execution> {
    const [inserted] = await this.db('executions')
      .insert({ ...row, sql_values: JSON.stringify(row.sql_values), options: JSON.stringify(row.options) })
      .returning('*');
    return toExecution(inserted as ExecutionRow);
  }

  /** An execution of the organization started within the retention window. */
  async find(organizationId: string, id: string): Promise<Execution | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await this.db<ExecutionRow>('executions')
      .where({ id, organization_id: organizationId })
      .andWhere('created_at', '>', this.db.raw(`now() - interval '${EXECUTION_RETENTION_HOURS} hours'`))
      .first();
    return row ? toExecution(row) : undefined;
  }

  /** @throws NotFoundError */
  async get(organizationId: string, id: string): Promise<Execution> {
    const e = await this.find(organizationId, id);
    if (!e) throw new NotFoundError(`Execution ${id} not found`, { code: 'execution_not_found' });
    return e;
  }

  /** Worker lookup by id only (the job names it). */
  async findById(id: string): Promise<Execution | undefined> {
    const row = await this.db<ExecutionRow>('executions').where({ id }).first();
    return row ? toExecution(row) : undefined;
  }

  async findUnfinishedByDataKey(dataKey: string): Promise<Execution | undefined> {
    const row = await this.db<ExecutionRow>('executions').where({ data_key: dataKey }).whereIn('execution_status', UNFINISHED_STATUSES).first();
    return row ? toExecution(row) : undefined;
  }

  /** The newest execution (any status) of each data key within the retention window. */
  async latestByDataKeys(organizationId: string, dataKeys: readonly string[]): Promise<Map<string, Execution>> {
    const out = new Map<string, Execution>();
    if (!dataKeys.length) return out;
    const rows = await this.db<ExecutionRow>('executions')
      .distinctOn('data_key')
      .where({ organization_id: organizationId })
      .whereIn('data_key', [...dataKeys])
      .andWhere('created_at', '>', this.db.raw(`now() - interval '${EXECUTION_RETENTION_HOURS} hours'`))
      .orderBy([{ column: 'data_key' }, { column: 'created_at', order: 'desc' }]);
    for (const row of rows) out.set(row.data_key, toExecution(row));
    return out;
  }

  /** The newest successful execution of a data key completed after `since`. */
  async findSuccessSince(dataKey: string, since: Date): Promise<Execution | undefined> {
    const row = await this.db<ExecutionRow>('executions')
      .where({ data_key: dataKey, execution_status: 'success' })
      .andWhere('completed_at', '>', since)
      .orderBy('completed_at', 'desc')
      .first();
    return row ? toExecution(row) : undefined;
  }

  async setJobId(id: string, jobId: string | null): Promise<void> {
    await this.db('executions').where({ id }).update({ job_id: jobId });
  }

  /**
   * Moves an unfinished execution to `status`; returns false when it had already finished (or is
   * not in one of `from`).
   */
  async transition(id: string, status: ExecutionStatus, patch: Partial<ExecutionRow> = {}, from: readonly ExecutionStatus[] = UNFINISHED_STATUSES): Promise<boolean> {
    const finishing = !UNFINISHED_STATUSES.includes(status);
    const count = await this.db('executions')
      .where({ id })
      .whereIn('execution_status', from)
      .update({ ...patch, execution_status: status, updated_at: this.db.fn.now(), ...(finishing ? { completed_at: this.db.fn.now() } : {}) });
    return count > 0;
  }

  /** Marks cancellation requested; returns the row as it is afterwards. */
  async requestCancel(organizationId: string, id: string): Promise<Execution | undefined> {
    const [row] = await this.db('executions')
      .where({ id, organization_id: organizationId })
      .whereIn('execution_status', UNFINISHED_STATUSES)
      .update({ cancel_requested_at: this.db.fn.now(), updated_at: this.db.fn.now() })
      .returning('*');
    return row ? toExecution(row as ExecutionRow) : undefined;
  }

  /** Heartbeat of a running execution; returns true when cancellation was requested. */
  async heartbeat(id: string): Promise<boolean> {
    const [row] = await this.db('executions').where({ id }).update({ heartbeat_at: this.db.fn.now() }).returning(['cancel_requested_at']);
    return Boolean((row as { cancel_requested_at: Date | null } | undefined)?.cancel_requested_at);
  }

  /** Ends executions whose worker stopped sending heartbeats. Returns how many. */
  async failStale(staleSeconds: number): Promise<number> {
    return this.db('executions')
      .whereIn('execution_status', ['running'])
      .andWhere('heartbeat_at', '<', this.db.raw(`now() - make_interval(secs => ?)`, [staleSeconds]))
      .update({
        execution_status: 'internal_error',
        error_message: 'The worker running this query stopped; run it again',
        completed_at: this.db.fn.now(),
        updated_at: this.db.fn.now(),
      });
  }

  /** Deletes executions (and their results) older than the retention window. */
  async purge(): Promise<number> {
    return this.db('executions').where('created_at', '<', this.db.raw(`now() - interval '${EXECUTION_RETENTION_HOURS} hours'`)).delete();
  }
}
