import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('export_jobs', (t) => {
    // a UUID, as the contract's samples show for export jobs
    t.uuid('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE');
    // what is exported: a dashboard or a report, as pdf, png, dark_pdf, dark_png, excel or csv
    t.text('target_type').notNullable();
    t.text('target_id').notNullable();
    t.text('kind').notNullable();
    t.jsonb('parameters').notNullable().defaultTo('{}');
    // digest of the normalized parameters and page width: the reuse rules compare it
    t.text('parameters_digest').notNullable();
    t.integer('page_width');
    t.text('job_status').notNullable().defaultTo('started');
    t.text('error_message');
    // who asked: the API key and its permissions at that time (the worker acts with them)
    t.text('api_key_id');
    t.jsonb('grants').notNullable().defaultTo('[]');
    // the data each report showed ({report_id, data_key, data_timestamp}), for "still current" reuse
    t.jsonb('report_data').notNullable().defaultTo('[]');
    // executions this job started (cancel stops them)
    t.jsonb('execution_ids').notNullable().defaultTo('[]');
    t.text('file_name');
    t.text('content_type');
    // `gzip` when the chunks hold a gzip stream of the file (CSV); null when they hold the file
    t.text('content_encoding');
    // size of the file itself (what a client gets without Content-Encoding)
    t.bigInteger('file_size');
    t.integer('chunk_count');
    t.timestamp('cancel_requested_at', { useTz: true });
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('started_at', { useTz: true });
    t.timestamp('completed_at', { useTz: true });
  });
  await knex.raw(`ALTER TABLE export_jobs ADD CONSTRAINT export_jobs_status_check CHECK (job_status IN ('started','running','success','error'))`);
  await knex.raw(`ALTER TABLE export_jobs ADD CONSTRAINT export_jobs_kind_check CHECK (kind IN ('pdf','png','dark_pdf','dark_png','excel','csv'))`);
  await knex.raw(`ALTER TABLE export_jobs ADD CONSTRAINT export_jobs_target_check CHECK (target_type IN ('dashboard','report'))`);
  // reuse lookups: the newest job of a target, kind and parameter set
  await knex.raw('CREATE INDEX export_jobs_reuse ON export_jobs (organization_id, target_type, target_id, kind, parameters_digest, created_at DESC)');
  await knex.raw('CREATE INDEX export_jobs_expires ON export_jobs (expires_at)');

  await knex.schema.createTable('export_file_chunks', (t) => {
    t.uuid('export_job_id').notNullable().references('export_jobs.id').onDelete('CASCADE');
    t.integer('seq').notNullable();
    t.binary('bytes').notNullable();
    t.primary(['export_job_id', 'seq']);
  });
  // written once, read whole, short-lived: no TOAST compression (PNG/PDF/xlsx are compressed already)
  await knex.raw('ALTER TABLE export_file_chunks ALTER COLUMN bytes SET STORAGE EXTERNAL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('export_file_chunks');
  await knex.schema.dropTable('export_jobs');
}
