import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb, type Knex } from '@sightline/domain';

/** A database of one test file: a clone of the migrated template, dropped by `drop()`. */
export interface TestDatabase {
  url: string;
  name: string;
  /** Superuser URL of the server's `postgres` database. */
  adminUrl: string;
  db: Knex;
  drop(): Promise<void>;
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run tests through jest (test/global-setup.ts)`);
  return value;
}

/** Clones the migrated template into a fresh database for this test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = env('SIGHTLINE_TEST_ADMIN_URL');
  const template = env('SIGHTLINE_TEST_TEMPLATE');
  const name = `sightline_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  } finally {
    await admin.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const db = createDb(url, { poolMax: 10, applicationName: 'sightline-test' });
  return {
    url,
    name,
    adminUrl,
    db,
    drop: async () => {
      await db.destroy();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
