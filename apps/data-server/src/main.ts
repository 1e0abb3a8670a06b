// Composition root of the data server on its own (`npm run start:data`): needs DATABASE_URL.
import { CachedResultStore, DataTokens, PgResultStore, createDb, createLogger } from '@sightline/domain';
import { runMain, standaloneConfig, stopOnSignals } from '@sightline/runtime';
import { listen } from '@sightline/http';
import { createDataApp } from './app.js';
import { pageOrigins } from './cors.js';

runMain(async () => {
  const config = standaloneConfig('data server');
  const logger = createLogger(config.logLevel, 'data-server');
  const db = createDb(config.databaseUrl, { applicationName: 'sightline-data', poolMax: 20, logger });
  // the shared dashboard page (served by the API server) reads results from a browser
  const origins = pageOrigins([config.apiBaseUrl ?? `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.apiPort}`]);
  // small results answered from memory, dropped when a newer result of their key completes
  const resultStore = new CachedResultStore(new PgResultStore(db));
  await resultStore.listen(config.databaseUrl, logger);
  const app = createDataApp({
    db,
    logger,
    resultStore,
    tokens: new DataTokens(config.dataTokenSecret, config.dataTokenTtlSeconds),
    corsOrigins: () => origins,
  });
  const server = await listen(app, config.host, config.dataPort);
  console.log(`Data server: ${config.dataBaseUrl ?? server.url}`);
  // downloads in progress finish (up to the deadline) before the process ends
  stopOnSignals(logger, [(left) => server.close(left()), () => resultStore.close(), () => db.destroy()], { timeoutMs: config.shutdownTimeoutSeconds * 1000 });
});
