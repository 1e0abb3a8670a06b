// The data server's composition root (apps/data-server/src/main.ts) with the COPY-reading result
// store of bench/support/copy-result-store.ts: the benchmark's "what if readChunks used COPY".
import { DataTokens, createDb, createLogger, parseConfig, type ResolvedConfig } from '@sightline/domain';
import { listen } from '@sightline/jsonapi';
import { createDataApp } from '@sightline/data-server';
import { CopyPgResultStore } from './copy-result-store.js';

const config = parseConfig(process.env) as ResolvedConfig;
const logger = createLogger(config.logLevel, 'data-server-copy');
const db = createDb(config.databaseUrl, { applicationName: 'sightline-data-copy', poolMax: 20 });
const server = await listen(
  createDataApp({ db, logger, resultStore: new CopyPgResultStore(db), tokens: new DataTokens(config.dataTokenSecret, config.dataTokenTtlSeconds) }),
  config.host,
  config.dataPort,
);
console.log(`Data server: ${server.url}`);
process.once('SIGTERM', () => void server.close().then(() => db.destroy()).then(() => process.exit(0)));
