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

/** A running execution ended by the stale sweep, with the datasource session its query ran in. */
export interface StaleExecution {
  id: string;
  organizationId: string;
  datasourceId: string;
  /** pg backend pid / mysql connection id; null when the query had not started. */
  sessionId: number | null;
}

/** Executions are visible for 24 hours after they started (contract §1.9). */
export const EXECUTION_RETENTION_HOURS = 24;

/** SQL for `executions`. State changes are conditional updates: a finished execution never changes. */
export class ExecutionRepository {
  constructor(private readonly db: Knex) {}

  async insert(
    row: Omit<
      ExecutionRow,
      | 'created_at'
      | 'updated_at'
      | 'started_at'
      | 'completed_at'
      | 'result_columns'
      | 'result_rows'
      | 'result_size'
      | 'error_message'
      | 'backend_id'
      | 'attempts'
      | 'cancel_requested_at'
      | 'heartbeat_at'
    >,
  ): Promise<Execution> {
    const [inserted] = await this.db('executions')
      .insert({ ...row, sql_values: JSON.stringify(row.sql_values), options: JSON.stringify(row.options) })
      .returning('*');
    return toExecution(inserted as ExecutionRow);
  }

  /**
   * Inserts an unfinished execution unless one of its data key is unfinished already (single
   * flight by the unique index `executions_active_data_key`: a concurrent insert of the same key
   * waits for the other transaction). Returns undefined when there is one.
   */
  async insertUnlessRunning(row: Parameters<ExecutionRepository['insert']>[0]): Promise<Execution | undefined> {
    const statuses = UNFINISHED_STATUSES.map((s) => `'${s}'`).join(',');
    const [inserted] = await this.db('executions')
      .insert({ ...row, sql_values: JSON.stringify(row.sql_values), options: JSON.stringify(row.options) })
      .onConflict(this.db.raw(`(data_key) WHERE execution_status IN (${statuses})`))
      .ignore()
      .returning('*');
    return inserted ? toExecution(inserted as ExecutionRow) : undefined;
  }

  /**
   * `insertUnlessRunning` for many rows in one statement (distinct data keys): returns the rows
   * inserted; a row whose key has an unfinished execution already is skipped.
   */
  async insertManyUnlessRunning(rows: Array<Parameters<ExecutionRepository['insert']>[0]>): Promise<Execution[]> {
    if (!rows.length) return [];
    const statuses = UNFINISHED_STATUSES.map((s) => `'${s}'`).join(',');
    const inserted = await this.db('executions')
      .insert(rows.map((row) => ({ ...row, sql_values: JSON.stringify(row.sql_values), options: JSON.stringify(row.options) })))
      .onConflict(this.db.raw(`(data_key) WHERE execution_status IN (${statuses})`))
      .ignore()
      .returning('*');
    return (inserted as ExecutionRow[]).map(toExecution);
  }

  /** The unfinished execution of each of `dataKeys` that has one (at most one each: unique index). */
  async listUnfinishedByDataKeys(dataKeys: readonly string[]): Promise<Map<string, Execution>> {
    const out = new Map<string, Execution>();
    if (!dataKeys.length) return out;
    const rows = await this.db<ExecutionRow>('executions')
      .whereIn('data_key', [...dataKeys])
      .whereIn('execution_status', UNFINISHED_STATUSES);
    for (const row of rows) out.set(row.data_key, toExecution(row));
    return out;
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
  async transition(
    id: string,
    status: ExecutionStatus,
    patch: Partial<ExecutionRow> = {},
    from: readonly ExecutionStatus[] = UNFINISHED_STATUSES,
  ): Promise<boolean> {
    const finishing = !UNFINISHED_STATUSES.includes(status);
    const count = await this.db('executions')
      .where({ id })
      .whereIn('execution_status', from)
      // clock_timestamp(), not now(): inside a longer transaction (the worker's slot) now() is when it began
      .update({
        ...patch,
        execution_status: status,
        updated_at: this.db.raw('clock_timestamp()'),
        ...(finishing ? { completed_at: this.db.raw('clock_timestamp()') } : {}),
      });
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

  /**
   * Moves a queued execution to `running` (counting the attempt), with the datasource session its
   * query runs in when known (`recordSession` in the same statement); false when it is no longer
   * queued.
   */
  async markRunning(id: string, sessionId?: number): Promise<boolean> {
    const now = this.db.fn.now();
    const moved = await this.db('executions')
      .where({ id })
      .whereIn('execution_status', ['starting', 'scheduled', 'waiting'])
      .update({
        execution_status: 'running',
        started_at: now,
        heartbeat_at: now,
        updated_at: now,
        attempts: this.db.raw('attempts + 1'),
        ...(sessionId === undefined ? {} : { backend_id: sessionId }),
      });
    return moved > 0;
  }

  /** Heartbeat of a running execution; returns true when cancellation was requested. */
  async heartbeat(id: string): Promise<boolean> {
    const [row] = await this.db('executions').where({ id }).update({ heartbeat_at: this.db.fn.now() }).returning(['cancel_requested_at']);
    return Boolean((row as { cancel_requested_at: Date | null } | undefined)?.cancel_requested_at);
  }

  /** Records the datasource session (pg backend pid, mysql connection id) of a running execution. */
  async recordSession(id: string, sessionId: number): Promise<void> {
    await this.db('executions').where({ id }).update({ backend_id: sessionId });
  }

  /**
   * Ends running executions whose worker stopped sending heartbeats for `staleSeconds` as
   * `internal_error` with `message`; returns them with their datasource session (to end it there).
   * Rows another process is sweeping at the same moment are skipped.
   */
  async endStale(staleSeconds: number, message: string): Promise<StaleExecution[]> {
    const stale = this.db('executions')
      .select('id')
      .where('execution_status', 'running')
      .andWhere('heartbeat_at', '<', this.db.raw('now() - make_interval(secs => ?)', [staleSeconds]))
      .forUpdate()
      .skipLocked();
    const rows = (await this.db('executions')
      .whereIn('id', stale)
      .andWhere('execution_status', 'running')
      .update({ execution_status: 'internal_error', error_message: message, completed_at: this.db.fn.now(), updated_at: this.db.fn.now() })
      .returning(['id', 'organization_id', 'datasource_id', 'backend_id'])) as Array<
      Pick<ExecutionRow, 'id' | 'organization_id' | 'datasource_id' | 'backend_id'>
    >;
    return rows.map((r) => ({ id: r.id, organizationId: r.organization_id, datasourceId: r.datasource_id, sessionId: r.backend_id }));
  }

  /** Deletes executions (and their results) older than the retention window. */
  async purge(): Promise<number> {
    return this.db('executions')
      .where('created_at', '<', this.db.raw(`now() - interval '${EXECUTION_RETENTION_HOURS} hours'`))
      .delete();
  }
}
