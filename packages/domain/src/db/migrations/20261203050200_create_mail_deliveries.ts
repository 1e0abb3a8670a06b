import type { Knex } from 'knex';

// Idempotent mail. `mail_deliveries` records, per idempotency key, whether a message was handed to
// SMTP: a `mail.send` job that runs again (its worker died after sending but before completing the
// job) finds `sent` and does not mail twice. `mail_attachments` holds the files of queued messages
// (job payloads stay small); they are deleted once the message is sent.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('mail_deliveries', (t) => {
    t.text('idempotency_key').primary();
    t.text('organization_id').references('organizations.id').onDelete('CASCADE').index();
    // sending (an attempt started) → sent
    t.text('status').notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('message_id');
    t.timestamp('sent_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE mail_deliveries ADD CONSTRAINT mail_deliveries_status_check CHECK (status IN ('sending','sent'))`);
  await knex.raw('CREATE INDEX mail_deliveries_created ON mail_deliveries (created_at)');

  await knex.schema.createTable('mail_attachments', (t) => {
    t.uuid('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE').index();
    t.text('filename').notNullable();
    t.text('content_type').notNullable();
    t.binary('content').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('CREATE INDEX mail_attachments_created ON mail_attachments (created_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('mail_attachments');
  await knex.schema.dropTable('mail_deliveries');
}
