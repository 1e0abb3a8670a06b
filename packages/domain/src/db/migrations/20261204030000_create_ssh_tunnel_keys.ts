import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // One SSH key pair per organization (Ed25519, created on first need): the worker authenticates
  // to bastion hosts with it; customers put the public key in authorized_keys.
  await knex.schema.createTable('organization_ssh_keys', (t) => {
    t.text('organization_id').primary().references('organizations.id').onDelete('CASCADE');
    t.text('key_type').notNullable();
    // OpenSSH one-line form (`ssh-ed25519 AAAA… sightline-<org>`)
    t.text('public_key').notNullable();
    // SHA256:<base64> of the public key blob, as `ssh-keygen -l` prints it
    t.text('fingerprint').notNullable();
    // OpenSSH private key, sealed with the deployment's encryption key like datasource credentials
    t.text('private_key_enc').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  // Host keys of bastions, pinned on the first successful connect (trust on first use).
  await knex.schema.createTable('datasource_ssh_host_keys', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.text('datasource_id').notNullable().references('datasources.id').onDelete('CASCADE');
    t.text('host').notNullable();
    t.integer('port').notNullable();
    t.text('fingerprint').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['datasource_id', 'host', 'port']);
    t.index(['organization_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('datasource_ssh_host_keys');
  await knex.schema.dropTable('organization_ssh_keys');
}
