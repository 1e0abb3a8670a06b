import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('reports', (t) => t.text('subtitle'));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('reports', (t) => t.dropColumn('subtitle'));
}
