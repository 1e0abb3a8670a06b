import {
  createDb, createDomainServices, createLogger, migrateLatest, startQueue, stopQueue,
  type DomainServices, type Knex, type Logger, type ResolvedConfig,
} from '@sightline/domain';
import { listen, type RunningServer } from '@sightline/jsonapi';
import { createApiApp } from '@sightline/api-server';
import { createDataApp } from '@sightline/data-server';
import { startWorker, type Worker } from '@sightline/worker';

/** The three Sightline processes running in this one process. */
export interface Platform {
  api: RunningServer;
  data: RunningServer;
  db: Knex;
  services: DomainServices;
  stop(): Promise<void>;
}

/**
 * Migrates the database, then starts API server, data server and worker in this process.
 */
export async function startPlatform(config: ResolvedConfig, logger: Logger): Promise<Platform> {
  const db = createDb(config.databaseUrl, { applicationName: 'sightline', poolMax: 20 });
  const applied = await migrateLatest(db);
  if (applied.length) logger.info({ migrations: applied }, 'database migrated');
  const services = createDomainServices({ db });
  const boss = await startQueue({ connectionString: config.databaseUrl, logger, applicationName: 'sightline-queue', supervise: true });
  const worker: Worker = await startWorker({ db, boss, logger: logger.child({ app: 'worker' }), services, concurrency: config.workerConcurrency });
  const api = await listen(createApiApp({ db, logger: logger.child({ app: 'api-server' }), services, maxBodyBytes: config.maxBodyBytes }), config.host, config.apiPort);
  const data = await listen(createDataApp({ db, logger: logger.child({ app: 'data-server' }) }), config.host, config.dataPort);
  return {
    api,
    data,
    db,
    services,
    stop: async () => {
      await Promise.all([api.close(), data.close()]);
      await worker.stop();
      await stopQueue(boss);
      await db.destroy();
    },
  };
}

export { createLogger };
