import type { Knex } from 'knex';
import type { DatasourceService } from '../datasources/datasource.service.js';
import { ExportJobRepository } from '../export-jobs/export-job.repository.js';
import type { Logger } from '../logger.js';
import { ExecutionRepository, type StaleExecution } from './execution.repository.js';

/** The error of an execution whose worker died while it ran. */
export const STALE_EXECUTION_MESSAGE = 'The worker running this query stopped; run it again';
/** The error of an export job whose worker died while it ran. */
export const STALE_EXPORT_MESSAGE = 'The worker running this export stopped; start the export again';

export interface StaleWorkSweeperDeps {
  db: Knex;
  /** Opens the datasource of an ended execution to end its query there. */
  datasources: DatasourceService;
  logger: Logger;
  /** Heartbeat age after which running work counts as orphaned (default 30 s). */
  staleSeconds?: number;
  /** Time between sweeps (default 5 s). */
  intervalMs?: number;
  /**
   * Time the metadata database must have answered without interruption before anything is ended
   * (default 10 s): after an outage every heartbeat is old, and live workers need a moment to
   * refresh theirs.
   */
  graceMs?: number;
}

/** What one sweep ended. */
export interface SweepResult {
  executions: StaleExecution[];
  exportJobIds: string[];
  /** Datasource sessions that were still there and were ended. */
  sessionsEnded: number;
}

/**
 * Ends work whose worker died: running executions and export jobs whose heartbeat is older than
 * `staleSeconds` become `internal_error` / `error` with a message saying so, and the queries of
 * those executions are ended in their datasource (`pg_terminate_backend`, `KILL CONNECTION`) by
 * the session id the worker recorded when the query started. Any process may run it (the API
 * server and every worker do); concurrent sweeps skip each other's rows.
 */
export class StaleWorkSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private healthySince: number | undefined;
  private failing = false;
  private readonly staleSeconds: number;
  private readonly graceMs: number;

  constructor(private readonly deps: StaleWorkSweeperDeps) {
    this.staleSeconds = deps.staleSeconds ?? 30;
    this.graceMs = deps.graceMs ?? 10_000;
  }

  /** Sweeps every `intervalMs` until `stop()` (the timer does not keep the process alive). */
  start(): this {
    if (this.timer) return this;
    this.timer = setInterval(() => {
      if (!this.running)
        this.running = this.tick().finally(() => {
          this.running = undefined;
        });
    }, this.deps.intervalMs ?? 5_000);
    this.timer.unref();
    return this;
  }

  /** Stops sweeping; resolves once a sweep in progress has finished. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async tick(): Promise<void> {
    try {
      if (this.healthySince === undefined || Date.now() - this.healthySince < this.graceMs) {
        await this.deps.db.raw('SELECT 1');
        this.healthySince ??= Date.now();
      } else {
        await this.sweep();
      }
      if (this.failing) this.deps.logger.info('stale work sweep resumed');
      this.failing = false;
    } catch (err) {
      this.healthySince = undefined;
      if (!this.failing) this.deps.logger.warn({ err }, 'stale work sweep failed; retrying');
      this.failing = true;
    }
  }

  /** One sweep now (no grace period). @throws when the metadata database fails */
  async sweep(): Promise<SweepResult> {
    const executions = await new ExecutionRepository(this.deps.db).endStale(this.staleSeconds, STALE_EXECUTION_MESSAGE);
    const exportJobIds = await new ExportJobRepository(this.deps.db).endStale(this.staleSeconds, STALE_EXPORT_MESSAGE);
    for (const e of executions) {
      this.deps.logger.warn({ execution_id: e.id, datasource_id: e.datasourceId, session_id: e.sessionId }, 'ended an execution whose worker stopped');
    }
    for (const id of exportJobIds) this.deps.logger.warn({ export_job_id: id }, 'ended an export job whose worker stopped');
    const sessionsEnded = await this.endSessions(executions.filter((e) => e.sessionId !== null));
    return { executions, exportJobIds, sessionsEnded };
  }

  /** Ends the datasource sessions of orphaned queries, one driver per datasource. */
  private async endSessions(executions: StaleExecution[]): Promise<number> {
    const byDatasource = new Map<string, StaleExecution[]>();
    for (const e of executions) byDatasource.set(e.datasourceId, [...(byDatasource.get(e.datasourceId) ?? []), e]);
    let ended = 0;
    await Promise.all(
      [...byDatasource.values()].map(async (list) => {
        const first = list[0]!;
        try {
          const ds = await this.deps.datasources.getByIdUnchecked(first.organizationId, first.datasourceId);
          // a datasource disabled meanwhile still gets its orphaned queries ended
          const driver = this.deps.datasources.openDriver({ ...ds, enabled: true });
          try {
            for (const e of list) {
              if (await driver.endSession(e.sessionId!)) ended++;
            }
          } finally {
            await driver.close().catch(() => {});
          }
        } catch (err) {
          // an unreachable or deleted datasource: its orphaned queries end with their statement timeout
          this.deps.logger.warn(
            { err, datasource_id: first.datasourceId, execution_ids: list.map((e) => e.id) },
            'could not end the queries of stopped executions',
          );
        }
      }),
    );
    return ended;
  }
}
