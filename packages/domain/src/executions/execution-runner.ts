import type { Knex } from 'knex';
import type { Clock } from '../clock.js';
import type { DatasourceService } from '../datasources/datasource.service.js';
import type { Datasource } from '../datasources/datasource.types.js';
import { QueryError, type QueryOptions, type RunningQuery } from '../drivers/index.js';
import { isConnectionFailure } from '../db/connection-errors.js';
import { tryLockSlot, withTransaction } from '../db/db.js';
import { isAppError } from '../errors.js';
import { newUuid } from '../ids.js';
import type { Logger } from '../logger.js';
import { QUEUES, type JobQueue } from '../queue/queue.js';
import type { ROutput, RRuntime } from '../r-runtime/r-runtime.js';
import type { ResultStore, StoredResult } from '../results/result-store.js';
import { ResultWriter, storeDocument } from '../results/result-writer.js';
import { ExecutionRepository } from './execution.repository.js';
import type { Execution, ExecutionJob, ExecutionRow, ExecutionStatus } from './execution.types.js';
import { isFinished } from './execution.types.js';

export interface ExecutionRunnerDeps {
  db: Knex;
  datasources: DatasourceService;
  resultStore: ResultStore;
  queue: JobQueue;
  logger: Logger;
  clock: Clock;
  /** Most rows stored per result; a result that reaches it says so. */
  rowLimit: number;
  /** How often a running execution reports liveness and checks for cancellation (ms). */
  heartbeatMs?: number;
  /** Where `export_query` executions (unlimited CSV) send their rows; without it they fail. */
  exportSink?: ExportQuerySink;
  /** R post-processing of executions with `r_query`; without it (or without R) they fail with a query_error. */
  rRuntime?: RRuntime;
}

/**
 * Receives the rows of an `export_query` execution (the unlimited CSV export) instead of the result
 * store: no row cap, nothing held in memory.
 */
export interface ExportQuerySink {
  /** Streams every row of `query` into the export's file; resolves with the row and byte counts. */
  write(execution: Execution, query: RunningQuery): Promise<{ rows: number; bytes: number }>;
  /**
   * Options for the datasource query of `execution` (e.g. `csv`: the driver may have the database
   * encode the lines), asked before the query starts.
   */
  queryOptions?(execution: Execution): Promise<Pick<QueryOptions, 'csv'>>;
  /** Drops what a failed or cancelled export wrote. */
  discard(execution: Execution): Promise<void>;
}

/** A datasource concurrency slot held for the length of one query (released on commit or crash). */
interface Slot {
  /**
   * Writes with `trx` (the transaction holding the slot) and releases the slot by committing them
   * (one commit for the execution's last writes); rolls back and rethrows when `write` fails.
   * Resolves with undefined when `write` asks to roll back (returns `{ rollback: true }`).
   */
  commitWith<T>(write: (trx: Knex) => Promise<T | { rollback: true }>): Promise<T | undefined>;
  release(): Promise<void>;
}

const WAIT_RETRY_SECONDS = 1;
/** How long a worker keeps trying to hand an execution back after its database went away. */
const OUTAGE_HAND_BACK_MS = 60_000;

/**
 * Runs one execution job on a worker: takes a datasource slot (max_concurrent_executions across
 * all workers), streams rows from the driver into the result store, honours timeout and cancel,
 * and settles the execution with the contract's status.
 */
export class ExecutionRunner {
  /** Queries running now, by execution id: how to stop each one to hand it back (shutdown). */
  private readonly inFlight = new Map<string, () => Promise<void>>();

  constructor(private readonly deps: ExecutionRunnerDeps) {}

  /** Executions whose query this runner is running now. */
  get runningCount(): number {
    return this.inFlight.size;
  }

  /**
   * Shutdown past its deadline: stops every query this runner is running in its database
   * (`pg_cancel_backend`, `KILL QUERY`) and hands each execution back to the queue (status
   * `starting`, a new job) for another worker to run from the start. Resolves once every one has
   * let go, or after `waitMs`; returns how many were handed back.
   */
  async handBackAll(waitMs = 5_000): Promise<number> {
    const stops = [...this.inFlight.values()];
    await Promise.all(stops.map((stop) => stop().catch(() => {})));
    const until = Date.now() + waitMs;
    while (this.inFlight.size && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    return stops.length;
  }

  /**
   * Sightline's database went away under a running query (its rows could not be stored): once the
   * database answers again, the execution goes back to the queue to run from the start (retried
   * every second for up to `OUTAGE_HAND_BACK_MS`; the heartbeat keeps it from looking orphaned).
   * @throws the last failure when the database stays away (pg-boss then retries the job)
   */
  private async handBackAfterOutage(execution: Execution, cause: unknown, log: Logger): Promise<void> {
    log.warn({ err: cause }, 'the database failed under a running execution; handing it back once it answers');
    const until = Date.now() + OUTAGE_HAND_BACK_MS;
    for (;;) {
      try {
        await this.handBack(execution, log);
        return;
      } catch (err) {
        if (!isConnectionFailure(err) || Date.now() > until) throw err;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  /** Puts a stopped execution back in the queue (same transaction as the new job). */
  private async handBack(execution: Execution, log: Logger): Promise<void> {
    const moved = await withTransaction(this.deps.db, async (trx) => {
      const repo = new ExecutionRepository(trx);
      if (!(await repo.transition(execution.id, 'starting', { backend_id: null, error_message: null }, ['running']))) return false;
      const jobId = newUuid();
      await repo.setJobId(execution.id, jobId);
      await this.deps.queue.send(
        execution.priority === 'background' ? QUEUES.executionsBackground : QUEUES.executionsInteractive,
        { executionId: execution.id, organizationId: execution.organizationId } satisfies ExecutionJob,
        { db: trx, id: jobId },
      );
      return true;
    });
    log.warn({ handed_back: moved }, 'handed the execution back to the queue');
  }

  private repo(): ExecutionRepository {
    return new ExecutionRepository(this.deps.db);
  }

  /**
   * Tries to take one of the datasource's slots with a transaction-scoped advisory lock. Background
   * executions leave the last slot free for interactive ones (when there are at least two).
   */
  private async acquireSlot(ds: Datasource, priority: Execution['priority']): Promise<Slot | undefined> {
    const slots = priority === 'background' && ds.maxConcurrentExecutions > 1 ? ds.maxConcurrentExecutions - 1 : ds.maxConcurrentExecutions;
    const trx = await this.deps.db.transaction();
    try {
      if ((await tryLockSlot(trx, `datasource-slot:${ds.id}`, slots)) === undefined) {
        await trx.rollback();
        return undefined;
      }
      let done = false;
      return {
        commitWith: async (write) => {
          done = true;
          try {
            const out = await write(trx);
            if (out && typeof out === 'object' && 'rollback' in out) {
              await trx.rollback();
              return undefined;
            }
            await trx.commit();
            return out as never;
          } catch (err) {
            await trx.rollback().catch(() => {});
            throw err;
          }
        },
        release: async () => {
          if (done) return;
          done = true;
          await trx.commit().catch(() => {});
        },
      };
    } catch (err) {
      await trx.rollback().catch(() => {});
      throw err;
    }
  }

  /** Handles one job of `executions.*`. Throws only for infrastructure failures (pg-boss retries). */
  async run(job: ExecutionJob): Promise<void> {
    const repo = this.repo();
    const execution = await repo.findById(job.executionId);
    if (!execution || isFinished(execution.executionStatus)) return;
    // Already running: a retry of a job whose worker died. The stale sweep ends it (and its query in
    // the datasource); running it twice could leave the first query orphaned.
    if (execution.executionStatus === 'running') return;
    if (execution.cancelRequestedAt) {
      await repo.transition(execution.id, 'cancelled');
      return;
    }
    const log = this.deps.logger.child({ execution_id: execution.id, datasource_id: execution.datasourceId });
    let ds: Datasource;
    try {
      ds = await this.deps.datasources.getByIdUnchecked(execution.organizationId, execution.datasourceId);
      this.deps.datasources.connectionSettings(ds);
    } catch (err) {
      await repo.transition(execution.id, 'query_error', { error_message: isAppError(err) ? (err.detail ?? err.title) : 'The datasource is not available' });
      return;
    }
    const slot = await this.acquireSlot(ds, execution.priority);
    if (!slot) {
      // All slots busy: wait without holding a worker, then try again.
      await repo.transition(execution.id, 'waiting', {}, ['starting', 'scheduled', 'waiting']);
      const jobId = await this.deps.queue.send(QUEUES.executionsWaiting, job, { startAfterSeconds: WAIT_RETRY_SECONDS });
      await repo.setJobId(execution.id, jobId);
      return;
    }
    try {
      // a query is marked running once its datasource session is known (one statement for both)
      if (execution.executionType === 'almanach_query' || execution.executionType === 'export_query') {
        if (!(await repo.markRunning(execution.id))) return;
        if (execution.executionType === 'almanach_query') await this.introspect(execution, ds, log);
        else await this.exportQuery(execution, ds, log);
      } else {
        await this.query(execution, ds, log, slot);
      }
    } finally {
      await slot.release();
    }
  }

  private async settle(execution: Execution, status: ExecutionStatus, message: string | null, log: Logger): Promise<void> {
    const moved = await this.repo().transition(execution.id, status, { error_message: message }, ['running']);
    log.info({ status, moved }, 'execution finished');
  }

  private async query(execution: Execution, ds: Datasource, log: Logger, slot: Slot): Promise<void> {
    const repo = this.repo();
    const driver = this.deps.datasources.openDriver(ds);
    // the result is begun with its first chunk (for a small result: in the settling transaction)
    const writer = new ResultWriter(this.deps.resultStore, execution.id, {
      executionId: execution.id,
      organizationId: execution.organizationId,
      dataKey: execution.dataKey,
      kind: 'rows',
      timeZone: execution.timeZone,
      retry: execution.attempts > 0,
    });
    let running: RunningQuery | undefined;
    let cancelled = false;
    let handingBack = false;
    let rowLimitReached = false;
    // stops the R process of an r_query execution (cancel requested, or the worker hands it back)
    const stopR = new AbortController();
    this.inFlight.set(execution.id, async () => {
      handingBack = true;
      stopR.abort();
      await running?.cancel();
    });
    let heartbeatFailing = false;
    const beat = setInterval(() => {
      repo
        .heartbeat(execution.id)
        .then(async (cancelRequested) => {
          if (cancelRequested && !cancelled) {
            cancelled = true;
            stopR.abort();
            await running?.cancel();
          }
        })
        .then(
          () => {
            heartbeatFailing = false;
          },
          (err: unknown) => {
            // once per failure spell (a database outage would otherwise log four lines a second)
            if (!heartbeatFailing) log.warn({ err }, 'heartbeat failed');
            heartbeatFailing = true;
          },
        );
    }, this.deps.heartbeatMs ?? 250);
    let rOutput: ROutput | undefined;
    let markedRunning = false;
    try {
      const rRuntime = this.deps.rRuntime;
      if (execution.rQuery && !rRuntime?.available) {
        throw new QueryError('query_error', 'R post-processing (r_query) is not available: this worker has no R runtime');
      }
      const dataTimestamp = this.deps.clock.now();
      // without R post-processing the rows go straight to the result writer, as JSON; the execution
      // becomes `running` with its datasource session id in one statement, before the SQL is sent
      running = await driver.query(execution.sqlText, execution.sqlValues, {
        timeoutMs: this.deps.datasources.queryTimeoutMs(ds),
        jsonText: !execution.rQuery,
        onSession: async (id) => {
          if (!(await repo.markRunning(execution.id, id))) throw new NotStartableError();
          markedRunning = true;
        },
      });
      // a driver that does not report its session before the statement
      if (!markedRunning) {
        if (!(await repo.markRunning(execution.id, running.backendId))) throw new NotStartableError();
        markedRunning = true;
      }
      if (cancelled || handingBack) await running.cancel();
      let columns = await running.columns();
      let rows: AsyncIterable<unknown[][]> = running.rows();
      if (execution.rQuery && rRuntime) {
        // The SQL result goes to R (as the data frame `data`); what R returns is the result.
        if (rRuntime.isolation === 'none') log.warn('R post-processing runs with the network of the worker: this machine allows no unshare');
        rOutput = await rRuntime.run(execution.rQuery, { columns, rows, rowLimit: this.deps.rowLimit }, stopR.signal);
        rowLimitReached = rOutput.inputRowLimitReached;
        await running.close();
        columns = rOutput.columns;
        rows = rOutput.rows();
      }
      writer.setColumns(columns);
      for await (const batch of rows) {
        // the limit is reached only when a row beyond it exists: exactly `rowLimit` rows is complete
        const room = this.deps.rowLimit - writer.rowCount;
        if (batch.length > room) {
          if (room > 0) await writer.write(batch.slice(0, room));
          rowLimitReached = true;
          break;
        }
        await writer.write(batch);
      }
      if (rowLimitReached && !rOutput) await running.cancel().catch(() => {});
      const backendId = running.backendId;
      const success = (stored: { sqlColumns: number; sqlRows: number; sizeInBytes: number }): Partial<ExecutionRow> => ({
        result_columns: stored.sqlColumns,
        result_rows: stored.sqlRows,
        result_size: stored.sizeInBytes,
        backend_id: backendId,
      });
      const inTransaction = this.deps.resultStore.inTransaction?.bind(this.deps.resultStore);
      let stored: StoredResult | undefined;
      if (inTransaction) {
        // The last chunk, the result's publication and `success` in the transaction that holds the
        // slot: one commit (which also frees the slot) instead of one per write. If the slot's
        // connection is gone (the database restarted), the failure is handled as any outage
        // under a running query: the execution is handed back.
        stored = await slot.commitWith(async (trx) => {
          const result = await writer.finish({ rowLimitReached, dataTimestamp }, inTransaction(trx));
          const moved = await new ExecutionRepository(trx).transition(execution.id, 'success', success(result), ['running']);
          return moved ? result : { rollback: true as const };
        });
        if (!stored) await this.deps.resultStore.discard(execution.id);
      } else {
        stored = await writer.finish({ rowLimitReached, dataTimestamp });
        const moved = await repo.transition(execution.id, 'success', success(stored), ['running']);
        if (!moved) await this.deps.resultStore.discard(execution.id);
      }
      if (stored) log.info({ rows: stored.sqlRows, bytes: stored.sizeInBytes, row_limit_reached: rowLimitReached }, 'execution succeeded');
    } catch (err) {
      await writer.settle().catch(() => {});
      await this.deps.resultStore.discard(execution.id).catch(() => {});
      // Failed before it was marked running (no session, no R): it is marked now, so that it ends
      // as every started execution does. Not startable (finished or taken meanwhile): nothing to do;
      // a failing database: pg-boss retries the job.
      if (err instanceof NotStartableError || (!markedRunning && !(await repo.markRunning(execution.id)))) return;
      if (handingBack && !cancelled) {
        await this.handBack(execution, log);
      } else if (!(err instanceof QueryError) && isConnectionFailure(err)) {
        await this.handBackAfterOutage(execution, err, log);
      } else if (err instanceof QueryError) {
        const status: ExecutionStatus = cancelled || err.kind === 'cancelled' ? 'cancelled' : err.kind === 'timed_out' ? 'timed_out' : 'query_error';
        await this.settle(execution, status, status === 'cancelled' ? 'Cancelled' : err.message, log);
      } else if (isAppError(err) && err.status < 500) {
        await this.settle(execution, 'query_error', err.detail ?? err.title, log);
      } else {
        log.error({ err }, 'execution failed');
        await this.settle(execution, 'internal_error', 'An internal error stopped this execution', log);
      }
    } finally {
      clearInterval(beat);
      await rOutput?.dispose();
      await running?.close().catch(() => {});
      await driver.close().catch(() => {});
      this.inFlight.delete(execution.id);
    }
  }

  /**
   * An `export_query`: the rows go to the export sink (unlimited CSV: no row cap, streamed), with
   * the same slot, statement timeout, heartbeat and cancel as any query.
   */
  private async exportQuery(execution: Execution, ds: Datasource, log: Logger): Promise<void> {
    const repo = this.repo();
    const sink = this.deps.exportSink;
    if (!sink) {
      await this.settle(execution, 'internal_error', 'This worker cannot write export files', log);
      return;
    }
    const driver = this.deps.datasources.openDriver(ds);
    let running: RunningQuery | undefined;
    let cancelled = false;
    const stopR = new AbortController();
    let handingBack = false;
    this.inFlight.set(execution.id, async () => {
      handingBack = true;
      stopR.abort();
      await running?.cancel();
    });
    let heartbeatFailing = false;
    const beat = setInterval(() => {
      repo
        .heartbeat(execution.id)
        .then(async (cancelRequested) => {
          if (cancelRequested && !cancelled) {
            cancelled = true;
            stopR.abort();
            await running?.cancel();
          }
        })
        .then(
          () => {
            heartbeatFailing = false;
          },
          (err: unknown) => {
            // once per failure spell (a database outage would otherwise log four lines a second)
            if (!heartbeatFailing) log.warn({ err }, 'heartbeat failed');
            heartbeatFailing = true;
          },
        );
    }, this.deps.heartbeatMs ?? 250);
    let rOutput: ROutput | undefined;
    try {
      const rRuntime = this.deps.rRuntime;
      if (execution.rQuery && !rRuntime?.available) {
        throw new QueryError('query_error', 'R post-processing (r_query) is not available: this worker has no R runtime');
      }
      // R post-processing reads values: the sink's options (database-encoded CSV) only without it
      const sinkOptions = !execution.rQuery && sink.queryOptions ? await sink.queryOptions(execution) : {};
      running = await driver.query(execution.sqlText, execution.sqlValues, {
        ...sinkOptions,
        timeoutMs: this.deps.datasources.queryTimeoutMs(ds),
        batchSize: 20_000,
        onSession: (id) => repo.recordSession(execution.id, id),
      });
      if (cancelled || handingBack) await running.cancel();
      let source: RunningQuery = running;
      if (execution.rQuery && rRuntime) {
        // The export of a report with R post-processing holds what R returns (R holds it in memory,
        // so its input is capped at the row limit like any stored result).
        rOutput = await rRuntime.run(execution.rQuery, { columns: await running.columns(), rows: running.rows(), rowLimit: this.deps.rowLimit }, stopR.signal);
        await running.close();
        source = rOutputAsQuery(rOutput, running.backendId);
      }
      const written = await sink.write(execution, source);
      const moved = await repo.transition(execution.id, 'success', { result_rows: written.rows, result_size: written.bytes, backend_id: running.backendId }, [
        'running',
      ]);
      if (!moved) await sink.discard(execution);
      log.info({ rows: written.rows, bytes: written.bytes }, 'export query succeeded');
    } catch (err) {
      await sink.discard(execution).catch(() => {});
      if (handingBack && !cancelled) {
        await this.handBack(execution, log);
      } else if (!(err instanceof QueryError) && isConnectionFailure(err)) {
        await this.handBackAfterOutage(execution, err, log);
      } else if (err instanceof QueryError) {
        const status: ExecutionStatus = cancelled || err.kind === 'cancelled' ? 'cancelled' : err.kind === 'timed_out' ? 'timed_out' : 'query_error';
        await this.settle(execution, status, status === 'cancelled' ? 'Cancelled' : err.message, log);
      } else if (isAppError(err) && err.status < 500) {
        await this.settle(execution, 'query_error', err.detail ?? err.title, log);
      } else {
        log.error({ err }, 'export query failed');
        await this.settle(execution, 'internal_error', 'An internal error stopped this export', log);
      }
    } finally {
      clearInterval(beat);
      await rOutput?.dispose();
      await running?.close().catch(() => {});
      await driver.close().catch(() => {});
      this.inFlight.delete(execution.id);
    }
  }

  private async introspect(execution: Execution, ds: Datasource, log: Logger): Promise<void> {
    const driver = this.deps.datasources.openDriver(ds);
    const beat = setInterval(
      () =>
        void this.repo()
          .heartbeat(execution.id)
          .catch(() => {}),
      1000,
    );
    try {
      const info = await driver.introspect({ timeoutMs: this.deps.datasources.queryTimeoutMs(ds) });
      const prefix = execution.options.schemaKeyPrefix ?? execution.dataKey;
      const stored = await storeDocument(this.deps.resultStore, {
        executionId: execution.id,
        organizationId: execution.organizationId,
        dataKey: prefix,
        timeZone: ds.dataTimeZone,
        document: { schemas: info.schemas },
        dataTimestamp: this.deps.clock.now(),
      });
      const totalRows = info.schemas.flatMap((s) => s.tables).reduce((sum, t) => sum + (t.row_count ?? 0), 0);
      await this.deps.datasources.recordSchemaRefresh(ds.id, {
        serverVersion: info.server_version,
        defaultSchemaName: info.default_schema_name,
        totalRowCount: totalRows,
      });
      await this.repo().transition(execution.id, 'success', { result_columns: 0, result_rows: info.schemas.length, result_size: stored.sizeInBytes }, [
        'running',
      ]);
    } catch (err) {
      await this.deps.resultStore.discard(execution.id).catch(() => {});
      const message =
        err instanceof QueryError || (isAppError(err) && err.status < 500) ? (err as Error).message : 'An internal error stopped the schema refresh';
      if (!(err instanceof QueryError)) log.error({ err }, 'schema refresh failed');
      await this.settle(execution, err instanceof QueryError && err.kind === 'timed_out' ? 'timed_out' : 'query_error', message, log);
    } finally {
      clearInterval(beat);
      await driver.close().catch(() => {});
    }
  }
}

/** The execution was no longer queued when its query was about to start (finished or taken meanwhile). */
class NotStartableError extends Error {
  constructor() {
    super('The execution is no longer queued');
  }
}

/** R's result in the shape of a running query (for the export sink); cancel and close drop it. */
function rOutputAsQuery(output: ROutput, backendId: number): RunningQuery {
  return {
    backendId,
    columns: async () => output.columns,
    rows: () => output.rows(),
    cancel: () => output.dispose(),
    close: () => output.dispose(),
  };
}
