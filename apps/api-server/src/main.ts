// Composition root of the API server on its own (`npm run start:api`): needs DATABASE_URL;
// migrations run separately (`npm run db:migrate`).
import { ConfigError, createDb, createLogger, createServicesFromConfig, ensureMailQueues, ensureQueues, parseConfig, startQueue, stopQueue, type ResolvedConfig } from '@sightline/domain';
import { listen } from '@sightline/jsonapi';
import { createApiApp } from './app.js';

async function main(): Promise<void> {
  const config = parseConfig(process.env);
  if (!config.databaseUrl) throw new ConfigError(['DATABASE_URL is required to run the API server on its own (use `npm start` for the all-in-one mode)']);
  const resolved = config as ResolvedConfig;
  const logger = createLogger(config.logLevel, 'api-server');
  const db = createDb(resolved.databaseUrl, { applicationName: 'sightline-api', poolMax: 20 });
  // The API only enqueues: pg-boss without maintenance in this process.
  const boss = await startQueue({ connectionString: resolved.databaseUrl, logger, applicationName: 'sightline-api-queue', supervise: false });
  await ensureQueues(boss);
  await ensureMailQueues(boss);
  const services = createServicesFromConfig(db, resolved, boss);
  const server = await listen(createApiApp({ db, logger, services, maxBodyBytes: config.maxBodyBytes }), config.host, config.apiPort);
  console.log(`API server: ${config.apiBaseUrl ?? server.url}`);
  const shutdown = async () => {
    logger.info('shutting down');
    await server.close();
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
