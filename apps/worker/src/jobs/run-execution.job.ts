import {
  ExecutionRepository,
  ExecutionRunner,
  QUEUES,
  StaleWorkSweeper,
  createJobQueue,
  ensureQueues,
  workEagerly,
  type DomainServices,
  type ExecutionJob,
  type Knex,
  type Logger,
  type PgBoss,
} from '@sightline/domain';
import { CsvExportSink } from './export-csv.sink.js';

export interface ExecutionConsumerOptions {
  db: Knex;
  boss: PgBoss;
  logger: Logger;
  services: DomainServices;
  /** Interactive executions run at once in this process (background ones get half, at least 1). */
  concurrency: number;
  rowLimit: number;
  /**
   * Seconds between polls of the execution queues when no job wakes a slot: `pollingIntervalSeconds`
   * without LISTEN/NOTIFY, `notifyPollingIntervalSeconds` the backstop with it (defaults 0.5 and 5).
   * A slot that just ran a job never waits for them (see workEagerly); tests make them very long so
   * that a slot relying on them would stall unmistakably.
   */
  polling?: ExecutionPollingOptions;
}

/** Poll intervals of the execution consumers (see `ExecutionConsumerOptions.polling`). */
export interface ExecutionPollingOptions {
  pollingIntervalSeconds?: number;
  notifyPollingIntervalSeconds?: number;
}

/** How long a running execution or export job may go without a heartbeat before it is declared dead. */
const STALE_SECONDS = 30;

/**
 * Consumes `executions.interactive` and `executions.background` (separate local concurrency, so
 * interactive work never waits behind background work), and sweeps executions and export jobs whose
 * worker died (ending their queries in the datasource).
 */
export async function startExecutionConsumers(o: ExecutionConsumerOptions): Promise<{ runner: ExecutionRunner; stop(): Promise<void> }> {
  await ensureQueues(o.boss);
  const runner = new ExecutionRunner({
    db: o.db,
    datasources: o.services.datasources,
    resultStore: o.services.resultStore,
    queue: createJobQueue(o.boss),
    logger: o.logger,
    clock: o.services.clock,
    rowLimit: o.rowLimit,
    rRuntime: o.services.rRuntime,
    exportSink: new CsvExportSink({ files: o.services.exportFiles, organizations: o.services.organizations }),
  });
  const handle = (job: { data: ExecutionJob }) => runner.run(job.data);
  // each slot fetches its next job as soon as it is free (see workEagerly: no 30 s notify stall)
  const background = Math.max(1, Math.floor(o.concurrency / 2));
  const poll = (seconds: number) => ({
    pollingIntervalSeconds: o.polling?.pollingIntervalSeconds ?? seconds,
    notifyPollingIntervalSeconds: o.polling?.notifyPollingIntervalSeconds,
  });
  await workEagerly<ExecutionJob>(o.boss, QUEUES.executionsInteractive, { slots: o.concurrency, ...poll(0.5) }, handle);
  await workEagerly<ExecutionJob>(o.boss, QUEUES.executionsBackground, { slots: background, ...poll(1) }, handle);
  // delayed retries (`startAfter`) are found only by polling: this queue keeps its short interval
  await workEagerly<ExecutionJob>(o.boss, QUEUES.executionsWaiting, { slots: background, pollingIntervalSeconds: 0.5 }, handle);
  const repo = new ExecutionRepository(o.db);
  const sweeper = new StaleWorkSweeper({ db: o.db, datasources: o.services.datasources, logger: o.logger, staleSeconds: STALE_SECONDS }).start();
  const purge = setInterval(() => {
    Promise.all([repo.purge(), o.services.resultStore.purge(new Date(Date.now() - 24 * 3600_000), new Date(Date.now() - 10 * 60_000))])
      .then(([executions, results]) => {
        if (executions || results) o.logger.info({ executions, results }, 'purged expired executions and results');
      })
      .catch((err: unknown) => o.logger.warn({ err }, 'purge failed'));
  }, 10 * 60_000);
  purge.unref();
  return {
    runner,
    /** Stops taking jobs; resolves once the running ones have finished. */
    stop: async () => {
      await sweeper.stop();
      clearInterval(purge);
      await Promise.all([QUEUES.executionsInteractive, QUEUES.executionsBackground, QUEUES.executionsWaiting].map((q) => o.boss.offWork(q)));
    },
  };
}
