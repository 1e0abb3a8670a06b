// Jest global setup: finds a PostgreSQL (DATABASE_URL, else 127.0.0.1:5432, else an embedded one),
// creates a migrated template database, and hands its coordinates to the test files via env.
// Each test file clones the template (`createTestDatabase`, test/support/database.ts) and drops it.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

async function reachable(url: string): Promise<boolean> {
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

function adminUrlOf(url: string): string {
  const u = new URL(url);
  u.pathname = '/postgres';
  return u.toString();
}

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  let adminUrl: string | undefined;
  if (process.env.DATABASE_URL) adminUrl = adminUrlOf(process.env.DATABASE_URL);
  else if (await reachable('postgres://postgres@127.0.0.1:5432/postgres')) adminUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
  if (!adminUrl) {
    // No PostgreSQL on this machine: start a throw-away embedded one (tuned for speed, not durability).
    const { startEmbeddedPostgres } = await import('../packages/runtime/src/embedded-postgres.js');
    const port = Number(process.env.TEST_PG_PORT ?? 54331);
    const server = await startEmbeddedPostgres({
      dir: path.join(os.tmpdir(), `sightline-test-pg-${port}`),
      port,
      password: 'postgres',
      database: 'postgres',
      ephemeral: true,
      postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300'],
    });
    (globalThis as { __SIGHTLINE_PG__?: { stop(): Promise<void> } }).__SIGHTLINE_PG__ = server;
    adminUrl = server.urlFor('postgres');
  }
  const template = `sightline_test_tpl_${process.pid}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${template}`);
    await client.query(`CREATE DATABASE ${template}`);
  } finally {
    await client.end();
  }
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${template}`;
  execFileSync(path.resolve('node_modules/.bin/tsx'), ['apps/sightline/src/main.ts', 'migrate'], {
    env: {
      ...process.env,
      DATABASE_URL: templateUrl.toString(),
      SIGHTLINE_DATA_TOKEN_SECRET: 'x'.repeat(32),
      SIGHTLINE_ENCRYPTION_KEY: '0'.repeat(64),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  process.env.SIGHTLINE_TEST_ADMIN_URL = adminUrl;
  process.env.SIGHTLINE_TEST_TEMPLATE = template;
  if (process.env.DEBUG_SETUP) console.log(`\n[global-setup] template ${template} ready in ${Date.now() - started} ms`);
}
