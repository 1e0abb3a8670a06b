import type { Knex } from 'knex';
import type { Permission, Principal } from '../api-keys/permissions.js';
import type { Clock } from '../clock.js';
import { lock, withTransaction } from '../db/db.js';
import type { Datasource } from '../datasources/datasource.types.js';
import type { DatasourceService } from '../datasources/datasource.service.js';
import { dialectOf } from '../drivers/index.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { newUuid } from '../ids.js';
import { compileQuery, mayReferenceDefinitions, type FilterDefinition, type InputParameters } from '../query/index.js';
import { QUEUES, type JobQueue } from '../queue/queue.js';
import type { ResultStore } from '../results/result-store.js';
import type { SqlSnippetService } from '../sql-snippets/sql-snippet.service.js';
import type { DataTokens } from '../tokens/data-token.js';
import { computeDataKey, schemaDataKey } from './data-key.js';
import { ExecutionRepository } from './execution.repository.js';
import { ExecutionStarter, type NewExecutionRow } from './execution-starter.js';
import type { Execution, ExecutionJob, ExecutionOptions, ExecutionPriority, ExecutionType } from './execution.types.js';

/** Who may start ad hoc executions (contract row 14). */
export const EXECUTION_RUN_PERMISSIONS: Permission[] = ['Manage Datasources', 'Manage Dashboards', 'Manage Alerts'];
/** Who may read executions (contract rows 15, 17). */
export const EXECUTION_VIEW_PERMISSIONS: Permission[] = ['Manage Datasources', 'View Dashboards', 'Manage Dashboards', 'View Alerts', 'Manage Alerts'];

/** Everything needed to start (or join) an execution. */
export interface StartExecutionInput {
  organizationId: string;
  datasource: Datasource;
  executionType: ExecutionType;
  priority: ExecutionPriority;
  dataKey: string;
  sqlText: string;
  sqlValues: unknown[];
  rQuery?: string | null;
  timeZone: string;
  options?: ExecutionOptions;
  /** Reuse a successful result of the same key completed within this many seconds (0 = never). */
  reuseSeconds?: number;
  /** Cancel an unfinished execution of the same key and start anew (Refresh Dashboard/Report). */
  force?: boolean;
}

export interface AdHocExecutionInput {
  sqlQuery: string;
  rQuery?: string | null;
  parameters?: InputParameters;
  reuseSeconds?: number;
}

export interface ExecutionServiceDeps {
  db: Knex;
  datasources: DatasourceService;
  sqlSnippets: SqlSnippetService;
  queue: JobQueue;
  tokens: DataTokens;
  resultStore: ResultStore;
  clock: Clock;
  /** Filter definitions of the organization by variable name (filters arrive with dashboards). */
  filterDefinitions?: (organizationId: string) => Promise<FilterDefinition[]>;
}

/** Executions: compile, key, single-flight start, status, cancel, data tokens, schema refresh. */
export class ExecutionService {
  private readonly starter: ExecutionStarter;

  constructor(private readonly deps: ExecutionServiceDeps) {
    this.starter = new ExecutionStarter({ db: deps.db, queue: deps.queue });
  }

  /**
   * Starts an execution, or joins the unfinished one with the same data key (single flight), or
   * reuses a fresh result. The row and its job are written in one transaction.
   */
  async start(input: StartExecutionInput): Promise<Execution> {
    const queueName = input.priority === 'interactive' ? QUEUES.executionsInteractive : QUEUES.executionsBackground;
    const row = (): NewExecutionRow => ({
      id: newUuid(),
      // The job id is chosen here so the row carries it from the start (no second write).
      job_id: newUuid(),
      organization_id: input.organizationId,
      datasource_id: input.datasource.id,
      execution_type: input.executionType,
      execution_status: input.priority === 'interactive' ? 'starting' : 'scheduled',
      priority: input.priority,
      data_key: input.dataKey,
      sql_text: input.sqlText,
      sql_values: input.sqlValues,
      r_query: input.rQuery ?? null,
      time_zone: input.timeZone,
      options: input.options ?? {},
    });
    // The common case: batched with the starts that arrive meanwhile; the unique index on the
    // unfinished executions of a key is the single flight (no lock).
    if (!input.force && !(input.reuseSeconds && input.reuseSeconds > 0)) return this.starter.start(row(), queueName);
    return withTransaction(this.deps.db, async (trx) => {
      const repo = new ExecutionRepository(trx);
      // Serialise starts of one key across every api-server instance (a forced start cancels the
      // running one first).
      await lock(trx, `execution:${input.dataKey}`);
      const running = await repo.findUnfinishedByDataKey(input.dataKey);
      if (running) {
        if (!input.force) return running;
        await repo.transition(running.id, 'cancelled', { error_message: 'Superseded by a refresh', cancel_requested_at: this.deps.clock.now() });
      }
      if (!input.force && input.reuseSeconds && input.reuseSeconds > 0) {
        const fresh = await repo.findSuccessSince(input.dataKey, new Date(this.deps.clock.now().getTime() - input.reuseSeconds * 1000));
        if (fresh && (await this.deps.resultStore.findByExecution(input.organizationId, fresh.id))) return fresh;
      }
      const execution = await repo.insert(row());
      const job: ExecutionJob = { executionId: execution.id, organizationId: input.organizationId };
      await this.deps.queue.send(queueName, job, { db: trx, id: execution.jobId! });
      return execution;
    });
  }
  /**
   * Run Execution (contract row 14): compiles `sql_query` with its parameters and starts it.
   * @throws NotFoundError (datasource not visible), ValidationError (compile errors, unsupported datasource)
   */
  async runAdHoc(principal: Principal, datasourceId: string, input: AdHocExecutionInput): Promise<Execution> {
    principal.requireAny(...EXECUTION_RUN_PERMISSIONS);
    const ds = await this.deps.datasources.getVisibleShared(principal, datasourceId, EXECUTION_RUN_PERMISSIONS);
    this.deps.datasources.connectionSettings(ds);
    const dialect = dialectOf(ds.databaseType);
    if (!dialect) throw new ValidationError(`Database type "${ds.databaseType}" is not supported by this build`, { code: 'database_type_not_supported' });
    const parameters = input.parameters ?? {};
    // plain SQL (no brackets) needs neither snippets nor filters: two statements fewer per submit
    const [snippets, filters] = mayReferenceDefinitions(input.sqlQuery)
      ? await Promise.all([
          this.deps.sqlSnippets.listAll(principal.organizationId),
          this.deps.filterDefinitions?.(principal.organizationId) ?? Promise.resolve([]),
        ])
      : [[], []];
    // Without a dashboard, a given `tz` acts as the dashboard time zone (param-language §7.7).
    const dashboardTimeZone = parameters.tz ?? null;
    const compiled = compileQuery({
      sql: input.sqlQuery,
      dialect,
      snippets: snippets.map((s) => ({ name: s.name, text: s.text, params: s.params })),
      filters,
      parameters,
      dataTimeZone: ds.dataTimeZone,
      dashboardTimeZone,
      now: this.deps.clock.now(),
    });
    const timeZone = dashboardTimeZone ?? ds.dataTimeZone;
    const dataKey = computeDataKey({
      organizationId: principal.organizationId,
      kind: 'executions',
      datasourceId: ds.id,
      sql: compiled.sql,
      values: compiled.values,
      timeZone,
      rQuery: input.rQuery ?? null,
    });
    return this.start({
      organizationId: principal.organizationId,
      datasource: ds,
      executionType: 'sql_query',
      priority: 'interactive',
      dataKey,
      sqlText: compiled.sql,
      sqlValues: compiled.values,
      rQuery: input.rQuery ?? null,
      timeZone,
      reuseSeconds: input.reuseSeconds ?? 0,
    });
  }

  /**
   * An execution the key may see (its datasource within the key's scope).
   * @throws NotFoundError (also after the 24 h retention)
   */
  async get(principal: Principal, id: string): Promise<Execution> {
    principal.requireAny(...EXECUTION_VIEW_PERMISSIONS);
    const execution = await new ExecutionRepository(this.deps.db).get(principal.organizationId, id);
    if (!principal.canUseDatasource(execution.datasourceId, ...EXECUTION_VIEW_PERMISSIONS, 'View Datasources')) {
      throw new NotFoundError(`Execution ${id} not found`, { code: 'execution_not_found' });
    }
    return execution;
  }

  /** Internal lookup (worker, dashboards). */
  findById(organizationId: string, id: string): Promise<Execution | undefined> {
    return new ExecutionRepository(this.deps.db).find(organizationId, id);
  }

  /**
   * Cancel Execution: a queued one ends at once; a running one is stopped in the database by its
   * worker within a second. No effect on finished executions.
   */
  async cancel(principal: Principal, id: string): Promise<void> {
    principal.requireAny(...EXECUTION_RUN_PERMISSIONS);
    await this.get(principal, id);
    await this.cancelById(principal.organizationId, id);
  }

  /** Cancels without permission checks (refreshes cancelling superseded runs). */
  async cancelById(organizationId: string, id: string): Promise<void> {
    const repo = new ExecutionRepository(this.deps.db);
    const execution = await repo.requestCancel(organizationId, id);
    if (!execution) return;
    if (execution.executionStatus === 'running') return; // its worker sees the request within a heartbeat
    const ended = await repo.transition(id, 'cancelled', {}, ['starting', 'scheduled', 'waiting']);
    const jobId = execution.jobId;
    if (ended && jobId) {
      const queueName =
        execution.executionStatus === 'waiting'
          ? QUEUES.executionsWaiting
          : execution.priority === 'interactive'
            ? QUEUES.executionsInteractive
            : QUEUES.executionsBackground;
      // The job would find the execution finished anyway; cancelling it just saves a worker the look.
      await this.deps.queue.cancel(queueName, jobId).catch(() => {});
    }
  }

  /**
   * Get Execution Data: a data key and token when the execution succeeded and its data is still
   * stored; undefined (→ 204) while running or after a failure.
   */
  async data(principal: Principal, id: string): Promise<{ data_key: string; data_access_token: string; data_timestamp: number } | undefined> {
    const execution = await this.get(principal, id);
    if (execution.executionStatus !== 'success') return undefined;
    const stored = await this.deps.resultStore.findByExecution(principal.organizationId, id);
    if (!stored) return undefined;
    return {
      data_key: stored.dataKey,
      data_access_token: this.deps.tokens.sign({ organizationId: principal.organizationId, dataKey: stored.dataKey, kind: 'result', format: 'json' }),
      data_timestamp: Math.floor(stored.dataTimestamp.getTime() / 1000),
    };
  }

  /** Refresh Datasource (row 7): schema introspection as an `almanach_query` execution. */
  async refreshDatasource(principal: Principal, datasourceId: string, priority: ExecutionPriority = 'interactive'): Promise<Execution> {
    principal.requireAny('Manage Datasources');
    const ds = await this.deps.datasources.getVisible(principal, datasourceId, ['Manage Datasources']);
    return this.startSchemaRefresh(principal.organizationId, ds, priority);
  }

  /**
   * Starts (or joins, single flight) the schema introspection of a datasource without a permission
   * check. @throws ValidationError when this build cannot connect to the datasource
   */
  private startSchemaRefresh(organizationId: string, ds: Datasource, priority: ExecutionPriority): Promise<Execution> {
    this.deps.datasources.connectionSettings(ds);
    if (!dialectOf(ds.databaseType))
      throw new ValidationError(`Database type "${ds.databaseType}" is not supported by this build`, { code: 'database_type_not_supported' });
    const prefix = schemaDataKey(organizationId, ds.id);
    return this.start({
      organizationId,
      datasource: ds,
      executionType: 'almanach_query',
      priority,
      dataKey: `${prefix}/refresh`,
      sqlText: '-- schema introspection',
      sqlValues: [],
      timeZone: ds.dataTimeZone,
      options: { schemaKeyPrefix: prefix },
    });
  }

  /**
   * Get Datasource Schema (row 8): key and token of the stored schema (one schema with `name`),
   * always at once. When no schema is stored yet, a refresh starts (joining one that runs, for any
   * key that may see the datasource) and the data server answers 204 until the schema is there.
   * An unknown schema name is answered 404 by the data server.
   * @throws NotFoundError (datasource not visible); ValidationError when there is no schema and this
   *   build cannot connect to the datasource to read one
   */
  async schema(principal: Principal, datasourceId: string, name?: string): Promise<{ data_key: string; data_access_token: string }> {
    const ds = await this.deps.datasources.getVisible(principal, datasourceId);
    const full = await this.deps.resultStore.findLatest(principal.organizationId, schemaDataKey(principal.organizationId, ds.id));
    if (!full) await this.startSchemaRefresh(principal.organizationId, ds, 'interactive');
    const dataKey = schemaDataKey(principal.organizationId, ds.id, name);
    return {
      data_key: dataKey,
      data_access_token: this.deps.tokens.sign({ organizationId: principal.organizationId, dataKey, kind: 'schema', format: 'json' }),
    };
  }
}
