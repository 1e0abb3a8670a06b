import path from 'node:path';
import pg from 'pg';
import { type Config, type Logger, type ResolvedConfig } from '@sightline/domain';
import { loadOrCreateRuntimeSecrets, startEmbeddedPostgres } from '@sightline/runtime';

/** The database a command runs against, and how to let go of it. */
export interface DatabaseHandle {
  config: ResolvedConfig;
  /** True when this process started an embedded PostgreSQL (and will stop it). */
  embedded: boolean;
  /** Superuser URL of another database on the same server, when known (sample data). */
  adminUrlFor?: (database: string) => string;
  release(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1500 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * With `DATABASE_URL`: uses it. Without: the embedded PostgreSQL in the data dir, reusing a running
 * one (another `npm start` of the same data dir) or starting it.
 */
export async function openDatabase(config: Config, log: Logger): Promise<DatabaseHandle> {
  if (config.databaseUrl) {
    return {
      config: config as ResolvedConfig,
      embedded: false,
      release: async () => {},
    };
  }
  const secrets = loadOrCreateRuntimeSecrets(config.dataDir);
  const resolved: ResolvedConfig = {
    ...config,
    dataTokenSecret: config.dataTokenSecret ?? secrets.dataTokenSecret,
    encryptionKey: config.encryptionKey ?? secrets.encryptionKey,
    databaseUrl: '',
  };
  const urlFor = (db: string) => `postgres://postgres:${encodeURIComponent(secrets.postgresPassword)}@127.0.0.1:${config.embeddedPgPort}/${db}`;
  if (await answers(urlFor('sightline'))) {
    log.info({ port: config.embeddedPgPort }, 'using the running embedded PostgreSQL');
    return { config: { ...resolved, databaseUrl: urlFor('sightline') }, embedded: false, adminUrlFor: urlFor, release: async () => {} };
  }
  const dir = path.join(config.dataDir, 'pg');
  log.info({ dir, port: config.embeddedPgPort }, 'starting the embedded PostgreSQL');
  const server = await startEmbeddedPostgres({
    dir,
    port: config.embeddedPgPort,
    password: secrets.postgresPassword,
    database: 'sightline',
    onLog: (line) => log.debug({ source: 'postgres' }, line.trim()),
  });
  return { config: { ...resolved, databaseUrl: server.url }, embedded: true, adminUrlFor: server.urlFor, release: () => server.stop() };
}
