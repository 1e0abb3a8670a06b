import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('executions', (t) => {
    t.uuid('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.text('datasource_id').notNullable().references('datasources.id').onDelete('CASCADE').index();
    t.text('execution_type').notNullable();
    t.text('execution_status').notNullable();
    // interactive executions never wait behind background ones (separate queues, reserved slot)
    t.text('priority').notNullable().defaultTo('interactive');
    t.text('data_key').notNullable();
    // what runs: compiled SQL and its bound values (never spliced), plus optional R post-processing
    t.text('sql_text').notNullable();
    t.jsonb('sql_values').notNullable().defaultTo('[]');
    t.text('r_query');
    t.text('time_zone').notNullable().defaultTo('UTC');
    t.jsonb('options').notNullable().defaultTo('{}');
    t.integer('result_columns');
    t.bigInteger('result_rows');
    t.bigInteger('result_size');
    t.text('error_message');
    t.integer('backend_id');
    t.text('job_id');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('cancel_requested_at', { useTz: true });
    t.timestamp('heartbeat_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('started_at', { useTz: true });
    t.timestamp('completed_at', { useTz: true });
  });
  await knex.raw(`ALTER TABLE executions ADD CONSTRAINT executions_status_check CHECK (execution_status IN
    ('starting','running','waiting','scheduled','cancelled','success','query_error','timed_out','internal_error','internal_timeout'))`);
  await knex.raw(`ALTER TABLE executions ADD CONSTRAINT executions_type_check CHECK (execution_type IN
    ('sql_query','sql_filter','sql_alert','almanach_query','export_query'))`);
  await knex.raw('CREATE INDEX executions_org_created ON executions (organization_id, created_at)');
  // single flight: at most one unfinished execution per data key
  await knex.raw(`CREATE UNIQUE INDEX executions_active_data_key ON executions (data_key)
    WHERE execution_status IN ('starting','running','waiting','scheduled')`);
  await knex.raw(`CREATE INDEX executions_data_key_completed ON executions (data_key, completed_at DESC) WHERE execution_status = 'success'`);
  // dashboard status polls: newest execution of each data key
  await knex.raw('CREATE INDEX executions_data_key_created ON executions (data_key, created_at DESC)');
  await knex.raw(`CREATE INDEX executions_unfinished_heartbeat ON executions (heartbeat_at) WHERE execution_status IN ('starting','running')`);

  await knex.schema.createTable('results', (t) => {
    // one stored result per successful execution; the newest complete one of a data key is served
    t.uuid('execution_id').primary().references('executions.id').onDelete('CASCADE');
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE');
    t.text('data_key').notNullable();
    t.text('kind').notNullable().defaultTo('rows');
    t.boolean('complete').notNullable().defaultTo(false);
    t.jsonb('fields').notNullable().defaultTo('[]');
    t.bigInteger('sql_rows').notNullable().defaultTo(0);
    t.integer('sql_columns').notNullable().defaultTo(0);
    t.bigInteger('size_in_bytes').notNullable().defaultTo(0);
    t.bigInteger('stored_bytes').notNullable().defaultTo(0);
    t.integer('chunk_count').notNullable().defaultTo(0);
    t.text('time_zone').notNullable().defaultTo('UTC');
    t.boolean('row_limit_reached').notNullable().defaultTo(false);
    t.timestamp('data_timestamp', { useTz: true });
    t.timestamp('completed_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('CREATE INDEX results_data_key_latest ON results (data_key, completed_at DESC) WHERE complete');
  await knex.schema.createTable('result_chunks', (t) => {
    t.uuid('execution_id').notNullable().references('results.execution_id').onDelete('CASCADE');
    t.integer('seq').notNullable();
    t.bigInteger('first_row').notNullable();
    t.integer('row_count').notNullable();
    t.integer('raw_bytes').notNullable();
    // one gzip member: the JSON text of `row_count` rows (comma-separated arrays)
    t.binary('bytes').notNullable();
    t.primary(['execution_id', 'seq']);
  });
  // chunks are written once and read whole: no TOAST compression (already gzip), out-of-line storage
  await knex.raw('ALTER TABLE result_chunks ALTER COLUMN bytes SET STORAGE EXTERNAL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('result_chunks');
  await knex.schema.dropTable('results');
  await knex.schema.dropTable('executions');
}
