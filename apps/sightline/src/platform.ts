import {
  CachedResultStore,
  createDb,
  createServicesFromConfig,
  migrateLatest,
  startQueue,
  stopQueue,
  type DomainServices,
  type Knex,
  type Logger,
  type ResolvedConfig,
  type SampleDataConnection,
} from '@sightline/domain';
import { listen, type RunningServer } from '@sightline/http';
import { ViewerAssets, createApiApp, startAgentRelay } from '@sightline/api-server';
import { createDataApp, pageOrigins } from '@sightline/data-server';
import { startWorker, type Worker } from '@sightline/worker';

/** The three Sightline processes running in this one process. */
export interface Platform {
  api: RunningServer;
  data: RunningServer;
  db: Knex;
  services: DomainServices;
  /**
   * Stops the three within `deadlineMs` (default 30 s): requests in progress and running jobs
   * finish up to it; then running queries are stopped and handed back to the queue.
   */
  stop(deadlineMs?: number): Promise<void>;
}

/**
 * Migrates the database, then starts API server, data server and worker in this process.
 */
export async function startPlatform(config: ResolvedConfig, logger: Logger, sampleData?: SampleDataConnection): Promise<Platform> {
  const db = createDb(config.databaseUrl, { applicationName: 'sightline', poolMax: 20, logger });
  const applied = await migrateLatest(db);
  if (applied.length) logger.info({ migrations: applied }, 'database migrated');
  const boss = await startQueue({ connectionString: config.databaseUrl, logger, applicationName: 'sightline-queue', supervise: true });
  const services = createServicesFromConfig(db, config, boss, { sampleData });
  const worker: Worker = await startWorker({
    db,
    boss,
    logger: logger.child({ app: 'worker' }),
    services,
    concurrency: config.workerConcurrency,
    rowLimit: config.resultRowLimit,
    mail: { smtpUrl: config.smtpUrl, from: config.mailFrom, dataDir: config.dataDir },
  });
  // The data server's URL may be known only once it listens (port 0): the API app reads it late.
  let dataUrl: string | undefined;
  const viewerAssets = new ViewerAssets(logger.child({ app: 'api-server' }));
  const apiApp = createApiApp({
    db,
    logger: logger.child({ app: 'api-server' }),
    services,
    maxBodyBytes: config.maxBodyBytes,
    trustProxy: config.trustProxy,
    viewerAssets,
    dataBaseUrl: () => config.dataBaseUrl ?? dataUrl,
  });
  const api = await listen(apiApp, config.host, config.apiPort);
  // datasource agents connect to the API server; the worker reaches them through this relay
  const relay = startAgentRelay(api.server, {
    agents: services.datasourceAgents,
    logger: logger.child({ app: 'agent-relay' }),
    relayUrl: config.agentRelayUrl ?? api.url,
    trustProxy: config.trustProxy,
  });
  const origins = pageOrigins([config.apiBaseUrl, api.url]);
  // small results answered from memory, dropped when a newer result of their key completes
  const dataResults = new CachedResultStore(services.resultStore);
  await dataResults.listen(config.databaseUrl, logger.child({ app: 'data-server' }));
  const dataApp = createDataApp({
    db,
    logger: logger.child({ app: 'data-server' }),
    resultStore: dataResults,
    tokens: services.tokens,
    corsOrigins: () => origins,
  });
  const data = await listen(dataApp, config.host, config.dataPort);
  dataUrl = data.url;
  // the shared dashboard page is bundled now, not when the first person opens it
  viewerAssets.warm();
  return {
    api,
    data,
    db,
    services,
    stop: async (deadlineMs = config.shutdownTimeoutSeconds * 1000) => {
      await relay.close();
      await Promise.all([api.close(deadlineMs), data.close(deadlineMs), worker.stop({ deadlineMs })]);
      await services.sshTunnels.close();
      await dataResults.close();
      await stopQueue(boss, 2_000);
      await db.destroy();
    },
  };
}
