import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // One embedding secret per organization: host applications sign sharing-secret JWTs with it.
  await knex.schema.createTable('organization_sharing_secrets', (t) => {
    t.text('organization_id').primary().references('organizations.id').onDelete('CASCADE');
    // sealed with the deployment's encryption key (an admin key can read it back)
    t.text('secret_sealed').notNullable();
    // bumped by rotation: viewer sessions opened with an older secret end at their next poll
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('organization_sharing_secrets');
}
