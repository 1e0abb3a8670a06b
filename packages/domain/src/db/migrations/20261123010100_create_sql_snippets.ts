import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sql_snippets', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE').index();
    // RESTRICT: a datasource used by a snippet cannot be deleted (422)
    t.text('datasource_id').notNullable().references('datasources.id').onDelete('RESTRICT').index();
    t.text('name').notNullable();
    t.text('description');
    t.text('text').notNullable();
    t.text('params');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // snippet names are resolved organization-wide, so they are unique per organization
    t.unique(['organization_id', 'name']);
  });
  await knex.schema.createTable('sql_snippet_references', (t) => {
    t.text('sql_snippet_id').notNullable().references('sql_snippets.id').onDelete('CASCADE');
    t.text('referenced_snippet_id').notNullable().references('sql_snippets.id').onDelete('CASCADE').index();
    t.primary(['sql_snippet_id', 'referenced_snippet_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('sql_snippet_references');
  await knex.schema.dropTable('sql_snippets');
}
