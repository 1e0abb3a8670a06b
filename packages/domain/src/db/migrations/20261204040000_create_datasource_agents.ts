import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('datasource_agents', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE').index();
    t.text('name').notNullable();
    t.boolean('enabled').notNullable().defaultTo(true);
    // SHA-256 of the agent's secret key (the key itself is shown once, at creation)
    t.text('secret_key_hash').notNullable().unique();
    t.text('version');
    t.text('address');
    // runtime state kept by the relay that holds the agent's WebSocket (see docs/datasource-agents.md)
    t.boolean('connected').notNullable().defaultTo(false);
    t.integer('active_queries').notNullable().defaultTo(0);
    t.text('connection_id');
    t.text('relay_url');
    t.timestamp('last_seen_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('ALTER TABLE datasource_agents ADD CONSTRAINT datasource_agents_active_queries_check CHECK (active_queries >= 0)');
  // Which agents carry a datasource's traffic (the `agents` relationship of datasources). An agent in
  // use cannot be deleted (RESTRICT); a deleted datasource lets go of its agents.
  await knex.schema.createTable('datasource_agent_links', (t) => {
    t.text('datasource_id').notNullable().references('datasources.id').onDelete('CASCADE');
    t.text('agent_id').notNullable().references('datasource_agents.id').onDelete('RESTRICT').index();
    t.primary(['datasource_id', 'agent_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('datasource_agent_links');
  await knex.schema.dropTable('datasource_agents');
}
