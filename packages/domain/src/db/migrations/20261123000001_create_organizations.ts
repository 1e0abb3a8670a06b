import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('organizations', (t) => {
    t.text('id').primary();
    t.text('name').notNullable();
    t.text('time_zone').notNullable().defaultTo('UTC');
    // null = unlimited analyst (and admin) seats
    t.integer('analyst_seats');
    t.text('csv_column_separator').notNullable().defaultTo(',');
    t.text('csv_decimal_separator').notNullable().defaultTo('.');
    t.text('csv_quote_style').notNullable().defaultTo('necessary');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('organizations');
}
