import {
  ExecutionRepository, ExecutionRunner, QUEUES, createJobQueue, ensureQueues,
  type DomainServices, type ExecutionJob, type Knex, type Logger, type PgBoss,
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
}

/** How long a running execution may go without a heartbeat before it is declared dead. */
const STALE_SECONDS = 30;

/**
 * Consumes `executions.interactive` and `executions.background` (separate local concurrency, so
 * interactive work never waits behind background work), and sweeps executions whose worker died.
 */
export async function startExecutionConsumers(o: ExecutionConsumerOptions): Promise<{ stop(): Promise<void> }> {
  await ensureQueues(o.boss);
  const runner = new ExecutionRunner({
    db: o.db, datasources: o.services.datasources, resultStore: o.services.resultStore, queue: createJobQueue(o.boss),
    logger: o.logger, clock: o.services.clock, rowLimit: o.rowLimit, rRuntime: o.services.rRuntime,
    exportSink: new CsvExportSink({ files: o.services.exportFiles, organizations: o.services.organizations }),
  });
  const handle = async (jobs: Array<{ data: ExecutionJob }>) => {
    for (const job of jobs) await runner.run(job.data);
  };
  await o.boss.work<ExecutionJob>(QUEUES.executionsInteractive, { batchSize: 1, localConcurrency: o.concurrency, pollingIntervalSeconds: 0.5 }, handle);
  await o.boss.work<ExecutionJob>(QUEUES.executionsBackground, { batchSize: 1, localConcurrency: Math.max(1, Math.floor(o.concurrency / 2)), pollingIntervalSeconds: 1 }, handle);
  await o.boss.work<ExecutionJob>(QUEUES.executionsWaiting, { batchSize: 1, localConcurrency: Math.max(1, Math.floor(o.concurrency / 2)), pollingIntervalSeconds: 0.5 }, handle);
  const repo = new ExecutionRepository(o.db);
  const sweep = setInterval(() => {
    repo.failStale(STALE_SECONDS)
      .then((n) => { if (n) o.logger.warn({ count: n }, 'ended executions whose worker stopped'); })
      .catch((err: unknown) => o.logger.warn({ err }, 'stale execution sweep failed'));
  }, 5_000);
  const purge = setInterval(() => {
    Promise.all([repo.purge(), o.services.resultStore.purge(new Date(Date.now() - 24 * 3600_000), new Date(Date.now() - 10 * 60_000))])
      .then(([executions, results]) => { if (executions || results) o.logger.info({ executions, results }, 'purged expired executions and results'); })
      .catch((err: unknown) => o.logger.warn({ err }, 'purge failed'));
  }, 10 * 60_000);
  sweep.unref();
  purge.unref();
  return {
    stop: async () => {
      clearInterval(sweep);
      clearInterval(purge);
      await Promise.all([QUEUES.executionsInteractive, QUEUES.executionsBackground, QUEUES.executionsWaiting].map((q) => o.boss.offWork(q)));
    },
  };
}
