import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE').index();
    t.text('email').notNullable();
    // null until the invitation is accepted
    t.text('firstname');
    t.text('lastname');
    t.text('role').notNullable().defaultTo('viewer');
    // scrypt (node:crypto) in the form scrypt$N$r$p$salt$hash; null until the invitation is accepted
    t.text('password_hash');
    t.boolean('otp_app_enabled').notNullable().defaultTo(false);
    t.boolean('otp_phone_enabled').notNullable().defaultTo(false);
    t.timestamp('deactivated_at', { useTz: true });
    t.text('invited_by_user_id').references('users.id').onDelete('SET NULL').index();
    t.timestamp('invitation_created_at', { useTz: true });
    t.timestamp('invitation_accepted_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('viewer', 'analyst', 'admin'))`);
  // One account per e-mail address and organization, whatever the letter case.
  await knex.raw('CREATE UNIQUE INDEX users_organization_email_unique ON users (organization_id, lower(email))');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('users');
}
