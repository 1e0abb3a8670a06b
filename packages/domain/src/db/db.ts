// knex is CommonJS: use the default import (named imports are not visible to native ESM).
import knex from 'knex';
import type { Knex } from 'knex';
import pg from 'pg';
import type { Logger } from '../logger.js';
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
  /**
   * Where knex's own messages go (default: knex prints them to the console). A failed connection
   * attempt ("Acquire connection error") is logged at debug: the query that needed it fails and
   * whoever ran it reports that once (e.g. the 503's request line).
   */
  logger?: Logger;
}

/** knex's logger as JSON lines of the process logger (never raw text on stderr). */
function knexLog(logger: Logger): Knex.Config['log'] {
  const log = logger.child({ component: 'knex' });
  const text = (message: unknown) => (typeof message === 'string' ? message : message instanceof Error ? message.message : JSON.stringify(message));
  return {
    warn: (message: unknown) => {
      const line = text(message);
      // connection trouble reaches the query that needed the connection, which reports it once
      if (line.startsWith('Acquire connection error') || line.startsWith('Connection Error:'))
        log.debug({ detail: line.split('\n')[0] }, 'knex connection failure');
      else log.warn(line);
    },
    error: (message: unknown) => log.error(text(message)),
    deprecate: (method: unknown, alternative: unknown) => log.warn(`${String(method)} is deprecated; use ${String(alternative)}`),
    debug: (message: unknown) => log.debug(text(message)),
  };
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
    ...(options.logger ? { log: knexLog(options.logger) } : {}),
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
/**
 * Takes one of `slots` transaction-scoped advisory locks of `key` without waiting; returns the slot
 * number, or undefined when all are held (by other transactions).
 */
export async function tryLockSlot(trx: Knex, key: string, slots: number): Promise<number | undefined> {
  if (!trx.isTransaction) throw new Error(`tryLockSlot("${key}") needs a transaction`);
  const { rows } = (await trx.raw('SELECT s FROM generate_series(0, ? - 1) AS s WHERE pg_try_advisory_xact_lock(hashtext(?), s) LIMIT 1', [slots, key])) as {
    rows: Array<{ s: number }>;
  };
  return rows[0]?.s;
}

export async function lock(trx: Knex, key: string): Promise<void> {
  if (!trx.isTransaction) throw new Error(`lock("${key}") needs a transaction`);
  await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [key]);
}
