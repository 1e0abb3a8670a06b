import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('api_keys', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE').index();
    t.text('name').notNullable();
    // SHA-256 of the secret (secrets are 256-bit random, so a fast hash is enough and lookups stay O(1)).
    t.text('secret_hash').notNullable().unique();
    t.text('secret_hint').notNullable();
    t.boolean('enabled').notNullable().defaultTo(true);
    t.timestamp('last_used_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('api_key_permissions', (t) => {
    t.bigIncrements('id');
    t.text('api_key_id').notNullable().references('api_keys.id').onDelete('CASCADE').index();
    t.text('permission').notNullable();
    // null = every datasource of the organization; the FK to datasources arrives with that table
    t.text('datasource_id').index();
  });
  await knex.raw(`
    ALTER TABLE api_key_permissions ADD CONSTRAINT api_key_permissions_permission_check CHECK (permission IN (
      'View Datasources','Manage Datasources','View Dashboards','Manage Dashboards','View Alerts','Manage Alerts',
      'View Users','Manage Users','Include SQL Details','Manage API Keys'))`);
  await knex.raw(`CREATE UNIQUE INDEX api_key_permissions_unique ON api_key_permissions (api_key_id, permission, coalesce(datasource_id, ''))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('api_key_permissions');
  await knex.schema.dropTable('api_keys');
}
