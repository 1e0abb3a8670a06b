import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('datasources', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE').index();
    t.text('name').notNullable();
    t.text('database_type').notNullable();
    t.text('connection_mode').notNullable();
    t.text('host');
    t.integer('port');
    t.text('username');
    // AES-256-GCM sealed (crypto/secrets.ts); never returned to keys without Manage Datasources
    t.text('password_enc');
    t.text('database');
    t.text('ssh_tunnel_host');
    t.integer('ssh_tunnel_port');
    t.text('ssh_tunnel_user');
    t.text('data_time_zone').notNullable().defaultTo('UTC');
    t.boolean('require_ssl').notNullable().defaultTo(true);
    t.boolean('verify_ssl').notNullable().defaultTo(false);
    t.boolean('enabled').notNullable().defaultTo(true);
    t.integer('max_concurrent_executions').notNullable().defaultTo(20);
    t.integer('query_timeout_seconds');
    t.boolean('update_schema_nightly').notNullable().defaultTo(true);
    t.boolean('update_schema_row_counts').notNullable().defaultTo(true);
    t.text('athena_region');
    t.text('athena_workgroup');
    t.text('databricks_http_path');
    t.text('snowflake_identifier');
    t.text('snowflake_region');
    t.text('snowflake_warehouse');
    t.text('bigquery_service_key_enc');
    // the organization's "Sample Data" datasource: does not count toward limits, cannot be deleted
    t.boolean('is_sample').notNullable().defaultTo(false);
    t.timestamp('schema_updated_at', { useTz: true });
    t.bigInteger('total_row_count');
    t.boolean('total_row_count_exact');
    t.text('default_schema_name');
    t.text('server_version');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE datasources ADD CONSTRAINT datasources_database_type_check CHECK (database_type IN
    ('postgres','redshift','mysql','mariadb','oracle','mssql','bigquery','athena','presto','trino','snowflake','vertica','mongodb','databricks'))`);
  await knex.raw(`ALTER TABLE datasources ADD CONSTRAINT datasources_connection_mode_check CHECK (connection_mode IN ('direct','ssh_tunnel','agent'))`);
  await knex.raw('CREATE UNIQUE INDEX datasources_one_sample_per_org ON datasources (organization_id) WHERE is_sample');
  // Permissions limited to a datasource disappear with it.
  await knex.schema.alterTable('api_key_permissions', (t) => {
    t.foreign('datasource_id').references('datasources.id').onDelete('CASCADE');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('api_key_permissions', (t) => t.dropForeign(['datasource_id']));
  await knex.schema.dropTable('datasources');
}
