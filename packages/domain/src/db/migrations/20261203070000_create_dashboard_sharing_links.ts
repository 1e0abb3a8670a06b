import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('dashboard_sharing_links', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE').index();
    t.text('dashboard_id').notNullable().references('dashboards.id').onDelete('CASCADE').index();
    // the bearer part of the shared URL; replaced by rotation (the old URL stops working at once)
    t.uuid('sharing_token').notNullable().unique();
    t.text('name');
    t.boolean('requires_secret').notNullable().defaultTo(false);
    t.timestamp('expires_at', { useTz: true });
    // {"<variable>": [values…], "aggregation": "<option>", "timerange": "<S>~<E>"} (Cluvio's JWT claim shape)
    t.jsonb('fixed_parameters');
    t.boolean('enabled').notNullable().defaultTo(true);
    // scrypt; null = no password
    t.text('password_hash');
    // origins that may frame the page (CSP frame-ancestors); [] = none
    t.jsonb('allowed_embed_origins').notNullable().defaultTo(knex.raw(`'[]'::jsonb`));
    t.timestamp('last_viewed_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('dashboard_sharing_links');
}
