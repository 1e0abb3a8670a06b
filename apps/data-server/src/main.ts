// Composition root of the data server on its own (`npm run start:data`): needs DATABASE_URL.
import { ConfigError, DataTokens, PgResultStore, createDb, createLogger, parseConfig, type ResolvedConfig } from '@sightline/domain';
import { listen } from '@sightline/jsonapi';
import { createDataApp } from './app.js';

async function main(): Promise<void> {
  const config = parseConfig(process.env);
  // parseConfig also requires SIGHTLINE_DATA_TOKEN_SECRET whenever DATABASE_URL is set
  if (!config.databaseUrl) throw new ConfigError(['DATABASE_URL is required to run the data server on its own (use `npm start` for the all-in-one mode)']);
  const resolved = config as ResolvedConfig;
  const logger = createLogger(config.logLevel, 'data-server');
  const db = createDb(resolved.databaseUrl, { applicationName: 'sightline-data', poolMax: 20 });
  const server = await listen(createDataApp({
    db,
    logger,
    resultStore: new PgResultStore(db),
    tokens: new DataTokens(resolved.dataTokenSecret, config.dataTokenTtlSeconds),
  }), config.host, config.dataPort);
  console.log(`Data server: ${config.dataBaseUrl ?? server.url}`);
  const shutdown = async () => {
    logger.info('shutting down');
    await server.close();
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
