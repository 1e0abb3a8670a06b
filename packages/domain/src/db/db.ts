// knex is CommonJS: use the default import (named imports are not visible to native ESM).
import knex from 'knex';
import type { Knex } from 'knex';
import pg from 'pg';
import { migrationSource } from './migrations/index.js';

export type { Knex };

// Return BIGINT (int8) as a JS number when it is safe; counts and sizes in our own tables fit.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
});

export interface DbOptions {
  /** Largest number of pooled connections (default 10). */
  poolMax?: number;
  /** `application_name` reported to PostgreSQL. */
  applicationName?: string;
}

/**
 * Creates the process's one knex instance for Sightline's own database.
 * @throws Error when the URL is empty
 */
export function createDb(connectionString: string, options: DbOptions = {}): Knex {
  if (!connectionString) throw new Error('A database URL is required');
  return knex({
    client: 'pg',
    connection: { connectionString, application_name: options.applicationName ?? 'sightline' },
    pool: { min: 0, max: options.poolMax ?? 10 },
    acquireConnectionTimeout: 10_000,
  });
}

/** Runs every pending migration. Used by `npm run db:migrate`, the all-in-one start and tests. */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

/**
 * Runs `fn` in a transaction; joins the caller's transaction when `db` already is one.
 */
export async function withTransaction<T>(db: Knex, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(db as Knex.Transaction);
  return db.transaction(fn);
}

/**
 * Takes the transaction-scoped advisory lock named `key` (e.g. `api_keys:<organization id>`): other
 * transactions taking the same key wait until this one ends. The one place the domain serialises
 * work by name.
 * @param trx a transaction (outside one the lock would be released at once)
 */
export async function lock(trx: Knex, key: string): Promise<void> {
  if (!trx.isTransaction) throw new Error(`lock("${key}") needs a transaction`);
  await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [key]);
}
