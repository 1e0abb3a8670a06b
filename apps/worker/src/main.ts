// Composition root of a worker process (`npm run start:worker`): needs DATABASE_URL. Run as many as
// the datasources can take; they share the pg-boss queue.
import { createDb, createLogger, createServicesFromConfig, startQueue, stopQueue } from '@sightline/domain';
import { runMain, standaloneConfig, stopOnSignals } from '@sightline/runtime';
import { startWorker } from './worker.js';

runMain(async () => {
  const config = standaloneConfig('worker');
  const logger = createLogger(config.logLevel, 'worker');
  const db = createDb(config.databaseUrl, { applicationName: 'sightline-worker', poolMax: config.workerConcurrency + 5, logger });
  const boss = await startQueue({ connectionString: config.databaseUrl, logger, applicationName: 'sightline-worker-queue', supervise: true });
  const services = createServicesFromConfig(db, config, boss);
  const worker = await startWorker({
    db,
    boss,
    logger,
    services,
    concurrency: config.workerConcurrency,
    rowLimit: config.resultRowLimit,
    mail: { smtpUrl: config.smtpUrl, from: config.mailFrom, dataDir: config.dataDir },
  });
  console.log('Worker ready');
  stopOnSignals(logger, [(left) => worker.stop({ deadlineMs: left() }), () => services.sshTunnels.close(), () => stopQueue(boss, 2_000), () => db.destroy()], {
    timeoutMs: config.shutdownTimeoutSeconds * 1000,
  });
});
