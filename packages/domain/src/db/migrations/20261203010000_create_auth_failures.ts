import type { Knex } from 'knex';

// Failed API-key authentications per bucket (a client address or a key prefix, hashed) in a fixed
// window that starts at the bucket's first failure. Not organization data (the caller is unknown),
// so no organization_id. UNLOGGED: counters need no crash safety, and writes stay cheap under a flood.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE UNLOGGED TABLE auth_failures (
      bucket text PRIMARY KEY,
      window_start timestamptz NOT NULL DEFAULT now(),
      failures integer NOT NULL DEFAULT 1
    )`);
  await knex.raw('CREATE INDEX auth_failures_window_start_index ON auth_failures (window_start)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('auth_failures');
}
