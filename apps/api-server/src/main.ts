// Composition root of the API server on its own (`npm run start:api`): needs DATABASE_URL;
// migrations run separately (`npm run db:migrate`).
import {
  StaleWorkSweeper,
  createDb,
  createLogger,
  createServicesFromConfig,
  ensureMailQueues,
  ensureQueues,
  ensureSchedulingQueues,
  startQueue,
  stopQueue,
} from '@sightline/domain';
import { runMain, standaloneConfig, stopOnSignals } from '@sightline/runtime';
import { listen } from '@sightline/http';
import { createApiApp } from './app.js';
import { startAgentRelay } from './agent-relay/agent-relay.js';
import { ViewerAssets } from './shared-page/assets.js';

runMain(async () => {
  const config = standaloneConfig('API server');
  const logger = createLogger(config.logLevel, 'api-server');
  const db = createDb(config.databaseUrl, { applicationName: 'sightline-api', poolMax: 20, logger });
  // The API only enqueues: pg-boss without maintenance in this process.
  const boss = await startQueue({ connectionString: config.databaseUrl, logger, applicationName: 'sightline-api-queue', supervise: false });
  await ensureQueues(boss);
  await ensureMailQueues(boss);
  await ensureSchedulingQueues(boss);
  const services = createServicesFromConfig(db, config, boss);
  const viewerAssets = new ViewerAssets(logger);
  // the shared dashboard page fetches results from the data server's public URL
  const dataBaseUrl = config.dataBaseUrl ?? `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.dataPort}`;
  const server = await listen(
    createApiApp({ db, logger, services, maxBodyBytes: config.maxBodyBytes, trustProxy: config.trustProxy, viewerAssets, dataBaseUrl }),
    config.host,
    config.apiPort,
  );
  // datasource agents connect here; workers reach them through this process's relay URL
  const relay = startAgentRelay(server.server, {
    agents: services.datasourceAgents,
    logger,
    relayUrl: config.agentRelayUrl ?? server.url,
    trustProxy: config.trustProxy,
  });
  viewerAssets.warm();
  // executions and exports whose worker died end even when no worker is running
  const sweeper = new StaleWorkSweeper({ db, datasources: services.datasources, logger }).start();
  console.log(`API server: ${config.apiBaseUrl ?? server.url}`);
  stopOnSignals(
    logger,
    [
      () => relay.close(),
      (left) => server.close(left()),
      () => sweeper.stop(),
      () => services.sshTunnels.close(),
      () => stopQueue(boss, 2_000),
      () => db.destroy(),
    ],
    { timeoutMs: config.shutdownTimeoutSeconds * 1000 },
  );
});
