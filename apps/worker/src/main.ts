// Composition root of a worker process (`npm run start:worker`): needs DATABASE_URL. Run as many as
// the datasources can take; they share the pg-boss queue.
import { ConfigError, createDb, createLogger, createServicesFromConfig, parseConfig, startQueue, stopQueue, type ResolvedConfig } from '@sightline/domain';
import { startWorker } from './worker.js';

async function main(): Promise<void> {
  const config = parseConfig(process.env);
  if (!config.databaseUrl) throw new ConfigError(['DATABASE_URL is required to run a worker on its own (use `npm start` for the all-in-one mode)']);
  const resolved = config as ResolvedConfig;
  const logger = createLogger(config.logLevel, 'worker');
  const db = createDb(resolved.databaseUrl, { applicationName: 'sightline-worker', poolMax: config.workerConcurrency + 5 });
  const boss = await startQueue({ connectionString: resolved.databaseUrl, logger, applicationName: 'sightline-worker-queue', supervise: true });
  const worker = await startWorker({
    db, boss, logger, services: createServicesFromConfig(db, resolved, boss), concurrency: config.workerConcurrency, rowLimit: config.resultRowLimit,
    mail: { smtpUrl: config.smtpUrl, from: config.mailFrom, dataDir: config.dataDir },
  });
  console.log('Worker ready');
  const shutdown = async () => {
    await worker.stop();
    await stopQueue(boss);
    await db.destroy();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
