import type { Knex } from 'knex';
import { NotFoundError } from '../errors.js';
import type { DatasourceScope } from '../api-keys/permissions.js';
import type { SqlAlertResultStatus } from './alert-evaluation.js';
import { sqlAlertFields } from './sql-alert.fields.js';
import type { AlertRunStatus, NewSqlAlert, SqlAlert, SqlAlertPatch, SqlAlertRow, SqlAlertRun } from './sql-alert.types.js';

function toAlert(row: SqlAlertRow): SqlAlert {
  return sqlAlertFields.fromRow(row);
}

interface RunRow {
  id: string;
  organization_id: string;
  sql_alert_id: string;
  run_key: string;
  due_at: Date | null;
  execution_id: string | null;
  status: AlertRunStatus;
  result_seq: number | null;
  result_status: SqlAlertResultStatus | null;
  error_message: string | null;
  sql_query: string | null;
  sql_query_duration: number | null;
  mail_audience: 'regular' | 'errors' | null;
  mail_reason: 'triggered' | 'resolved' | 'ok' | 'error' | null;
  first_value: unknown;
  row_count: number | null;
  mail_job_id: string | null;
  evaluated_at: Date | null;
  created_at: Date;
}

function toRun(row: RunRow): SqlAlertRun {
  return {
    id: row.id,
    organizationId: row.organization_id,
    sqlAlertId: row.sql_alert_id,
    runKey: row.run_key,
    dueAt: row.due_at,
    executionId: row.execution_id,
    status: row.status,
    resultSeq: row.result_seq === null ? null : Number(row.result_seq),
    resultStatus: row.result_status,
    errorMessage: row.error_message,
    sqlQuery: row.sql_query,
    sqlQueryDuration: row.sql_query_duration,
    mailAudience: row.mail_audience,
    mailReason: row.mail_reason,
    firstValue: row.first_value,
    rowCount: row.row_count === null ? null : Number(row.row_count),
    mailJobId: row.mail_job_id,
    evaluatedAt: row.evaluated_at,
    createdAt: row.created_at,
  };
}

/** A due alert with its organization's time zone. */
export interface DueAlert {
  alert: SqlAlert;
  timeZone: string;
}

/** The evaluation written to a run. */
export interface RunEvaluation {
  result_status: SqlAlertResultStatus;
  error_message: string | null;
  sql_query: string;
  sql_query_duration: number | null;
  mail_audience: 'regular' | 'errors' | null;
  mail_reason: 'triggered' | 'resolved' | 'ok' | 'error' | null;
  first_value: unknown;
  row_count: number | null;
  evaluated_at: Date;
}

/** SQL of `sql_alerts` and `sql_alert_runs`; every method is scoped to one organization. */
export class SqlAlertRepository {
  constructor(private readonly db: Knex) {}

  /** Alerts on datasources within `scope`, by name. */
  async list(organizationId: string, scope: DatasourceScope): Promise<SqlAlert[]> {
    const q = this.db('sql_alerts')
      .where({ organization_id: organizationId })
      .orderBy([{ column: 'name' }, { column: 'id' }]);
    if (scope !== 'all') q.whereIn('datasource_id', [...scope]);
    const rows: SqlAlertRow[] = await q;
    return rows.map(toAlert);
  }

  async find(organizationId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<SqlAlert | undefined> {
    const q = this.db('sql_alerts').where({ organization_id: organizationId, id }).first();
    if (options.forUpdate) q.forUpdate();
    const row: SqlAlertRow | undefined = await q;
    return row && toAlert(row);
  }

  async insert(alert: NewSqlAlert): Promise<SqlAlert> {
    const [inserted] = await this.db('sql_alerts').insert(sqlAlertFields.toColumns(alert)).returning('*');
    return toAlert(inserted as SqlAlertRow);
  }

  /**
   * Changes an alert. `touch: false` for the status attributes the runner keeps current (they are
   * not an edit: `updated_at` stays).
   */
  async update(organizationId: string, id: string, patch: SqlAlertPatch, options: { touch?: boolean } = {}): Promise<SqlAlert> {
    const columns = sqlAlertFields.toColumns(patch);
    const [row] = await this.db('sql_alerts')
      .where({ organization_id: organizationId, id })
      .update(options.touch === false ? columns : { ...columns, updated_at: this.db.fn.now() })
      .returning('*');
    if (!row) throw new NotFoundError(`SQL alert ${id} not found`, { code: 'sql_alert_not_found' });
    return toAlert(row as SqlAlertRow);
  }

  async delete(organizationId: string, id: string): Promise<void> {
    await this.db('sql_alerts').where({ organization_id: organizationId, id }).delete();
  }

  /** True when something is due at `now` (one indexed read; the tick skips its transaction otherwise). */
  async hasDue(now: Date): Promise<boolean> {
    const row = await this.db('sql_alerts').where('next_run_at', '<=', now).first('id');
    return row !== undefined;
  }

  /** Locks due alerts of every organization, skipping rows another tick holds (see the schedules' `lockDue`). */
  async lockDue(now: Date, limit: number): Promise<DueAlert[]> {
    const rows: Array<SqlAlertRow & { org_time_zone: string }> = await this.db('sql_alerts as a')
      .join('organizations as o', 'o.id', 'a.organization_id')
      .where('a.next_run_at', '<=', now)
      .orderBy('a.next_run_at')
      .limit(limit)
      .forUpdate('a')
      .skipLocked()
      .select('a.*', 'o.time_zone as org_time_zone');
    return rows.map(({ org_time_zone, ...row }) => ({ alert: toAlert(row), timeZone: org_time_zone }));
  }

  async setNextRun(id: string, nextRunAt: Date | null): Promise<void> {
    await this.db('sql_alerts').where({ id }).update({ next_run_at: nextRunAt });
  }

  /** Inserts a run unless its key exists. @returns the new run, or undefined for a duplicate */
  async insertRun(run: {
    id: string;
    organization_id: string;
    sql_alert_id: string;
    run_key: string;
    due_at: Date | null;
    execution_id?: string | null;
    status: AlertRunStatus;
    created_at: Date;
  }): Promise<SqlAlertRun | undefined> {
    const rows: RunRow[] = await this.db('sql_alert_runs')
      .insert({ ...run, updated_at: run.created_at })
      .onConflict(['sql_alert_id', 'run_key'])
      .ignore()
      .returning('*');
    return rows[0] && toRun(rows[0]);
  }

  async findRun(organizationId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<SqlAlertRun | undefined> {
    const q = this.db('sql_alert_runs').where({ organization_id: organizationId, id }).first();
    if (options.forUpdate) q.forUpdate();
    const row: RunRow | undefined = await q;
    return row && toRun(row);
  }

  /** Sets the execution of a pending run. @returns false when it already had one */
  async startRun(id: string, executionId: string, now: Date): Promise<boolean> {
    const n = await this.db('sql_alert_runs').where({ id, status: 'pending' }).update({ status: 'running', execution_id: executionId, updated_at: now });
    return n > 0;
  }

  /** The newest evaluated run of an alert, and the newest one that evaluated to ok/alert_triggered. */
  async previousResults(alertId: string): Promise<{ previous?: SqlAlertResultStatus; lastEvaluated?: 'ok' | 'alert_triggered' }> {
    const [previous, lastEvaluated] = await Promise.all([
      this.db('sql_alert_runs').where({ sql_alert_id: alertId }).whereNotNull('result_seq').orderBy('result_seq', 'desc').first('result_status'),
      this.db('sql_alert_runs')
        .where({ sql_alert_id: alertId })
        .whereIn('result_status', ['ok', 'alert_triggered'])
        .orderBy('result_seq', 'desc')
        .first('result_status'),
    ]);
    return { previous: previous?.result_status, lastEvaluated: lastEvaluated?.result_status };
  }

  /** Writes the evaluation and gives the run the next position in the results. */
  async evaluateRun(id: string, evaluation: RunEvaluation): Promise<SqlAlertRun> {
    const [row] = await this.db('sql_alert_runs')
      .where({ id })
      .update({
        ...evaluation,
        first_value: JSON.stringify(evaluation.first_value ?? null),
        status: 'evaluated',
        result_seq: this.db.raw("nextval('sql_alert_result_seq')"),
        updated_at: evaluation.evaluated_at,
      })
      .returning('*');
    return toRun(row as RunRow);
  }

  async setRunMailJob(id: string, mailJobId: string, now: Date): Promise<void> {
    await this.db('sql_alert_runs').where({ id }).update({ mail_job_id: mailJobId, updated_at: now });
  }

  /**
   * Results of an alert created at or after `since`, newest first, older than `beforeSeq` when given.
   * @returns `limit + 1` rows at most (the extra one says there are more)
   */
  async listResults(alertId: string, since: Date, beforeSeq: bigint | undefined, limit: number): Promise<SqlAlertRun[]> {
    const q = this.db('sql_alert_runs')
      .where({ sql_alert_id: alertId })
      .whereNotNull('result_seq')
      .where('evaluated_at', '>=', since)
      .orderBy('result_seq', 'desc')
      .limit(limit + 1);
    if (beforeSeq !== undefined) q.where('result_seq', '<', beforeSeq.toString());
    const rows: RunRow[] = await q;
    return rows.map(toRun);
  }

  async countResults(alertId: string, since: Date): Promise<number> {
    const row = await this.db('sql_alert_runs')
      .where({ sql_alert_id: alertId })
      .whereNotNull('result_seq')
      .where('evaluated_at', '>=', since)
      .count<{ count: string | number }[]>('* as count');
    return Number(row[0]?.count ?? 0);
  }

  /** Deletes runs created before `before` (results are kept 30 days). @returns rows deleted */
  async purgeRuns(before: Date): Promise<number> {
    return this.db('sql_alert_runs').where('created_at', '<', before).delete();
  }
}
