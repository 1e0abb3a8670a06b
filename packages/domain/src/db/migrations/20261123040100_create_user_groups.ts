import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('user_groups', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE').index();
    t.text('name').notNullable();
    t.text('description');
    // null for custom groups; 'all_users' / 'all_analysts' for the built-in groups (membership computed)
    t.text('built_in_behavior');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE user_groups ADD CONSTRAINT user_groups_built_in_behavior_check CHECK (built_in_behavior IN ('all_users', 'all_analysts'))`);
  await knex.raw('CREATE UNIQUE INDEX user_groups_organization_name_unique ON user_groups (organization_id, lower(name))');
  // At most one built-in group of each kind per organization.
  await knex.raw(
    'CREATE UNIQUE INDEX user_groups_organization_built_in_unique ON user_groups (organization_id, built_in_behavior) WHERE built_in_behavior IS NOT NULL',
  );

  // Stored memberships of custom groups only; built-in groups compute theirs.
  await knex.schema.createTable('user_group_members', (t) => {
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE').index();
    t.text('user_group_id').notNullable().references('user_groups.id').onDelete('CASCADE');
    t.text('user_id').notNullable().references('users.id').onDelete('CASCADE').index();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['user_group_id', 'user_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('user_group_members');
  await knex.schema.dropTable('user_groups');
}
