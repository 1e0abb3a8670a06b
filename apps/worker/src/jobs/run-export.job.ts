import {
  ExportJobRunner,
  QUEUES,
  createJobQueue,
  ensureQueues,
  workEagerly,
  type DomainServices,
  type ExportJobMessage,
  type ExportRenderer,
  type Knex,
  type Logger,
  type PgBoss,
} from '@sightline/domain';
import { renderInWorker, writeExcel } from '@sightline/render';

export interface ExportConsumerOptions {
  db: Knex;
  boss: PgBoss;
  logger: Logger;
  services: DomainServices;
  /** Export jobs run at once in this process (each renders in its own worker thread). */
  concurrency: number;
  /** Time limit of one render in ms (default 120 s). */
  renderTimeoutMs?: number;
}

/** The renderer of `@sightline/render`: pictures in a worker thread, Excel streamed. */
export const renderExports: ExportRenderer = {
  renderPicture: (task, options) => renderInWorker(task, options),
  writeExcel: (sheets, out) => writeExcel(sheets, out),
};

/**
 * Consumes `exports.run` (export jobs: refresh data, render, store the file) and purges expired
 * jobs and their files.
 */
export async function startExportConsumer(o: ExportConsumerOptions): Promise<{ runner: ExportJobRunner; stop(): Promise<void> }> {
  await ensureQueues(o.boss);
  const runner = new ExportJobRunner({
    db: o.db,
    dashboardData: o.services.dashboardData,
    reports: o.services.reports,
    executions: o.services.executions,
    resultStore: o.services.resultStore,
    files: o.services.exportFiles,
    renderer: renderExports,
    clock: o.services.clock,
    logger: o.logger,
    renderTimeoutMs: o.renderTimeoutMs,
    queue: createJobQueue(o.boss),
  });
  // notify-enabled queue: each slot fetches again as soon as it is free (no 30 s notify stall)
  await workEagerly<ExportJobMessage>(o.boss, QUEUES.exports, { slots: o.concurrency, pollingIntervalSeconds: 0.5 }, (job) => runner.run(job.data.exportJobId));
  const purge = setInterval(() => {
    o.services.exportJobs
      .purgeExpired()
      .then((n) => {
        if (n) o.logger.info({ count: n }, 'purged expired export jobs');
      })
      .catch((err: unknown) => o.logger.warn({ err }, 'export purge failed'));
  }, 10 * 60_000);
  purge.unref();
  return {
    runner,
    stop: async () => {
      clearInterval(purge);
      await o.boss.offWork(QUEUES.exports);
    },
  };
}
