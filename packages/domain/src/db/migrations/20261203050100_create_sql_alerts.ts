import type { Knex } from 'knex';

// SQL alerts (contract §3.10, §4.9) and their runs. `next_run_at` is the next due time (null when
// `run_schedule` is `disabled`). A run is one (alert, due time) pair or one Run SQL Alert Query; it
// becomes a result (List SQL Alert Results) when it is evaluated: `result_seq` then orders results
// newest first and is what the opaque cursor points at, so results arriving later never move a page.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sql_alerts', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE').index();
    // RESTRICT: a datasource used by an alert cannot be deleted (422 datasource_in_use)
    t.text('datasource_id').notNullable().references('datasources.id').onDelete('RESTRICT').index();
    t.text('name').notNullable();
    t.text('description');
    t.text('sql_query').notNullable();
    t.text('run_schedule').notNullable();
    t.text('run_at');
    t.integer('run_every');
    t.text('trigger_condition').notNullable().defaultTo('has_results');
    t.double('trigger_value');
    t.text('email_condition').notNullable();
    t.text('emails');
    t.text('cc_emails');
    t.text('bcc_emails');
    t.text('error_emails');
    t.text('attach_as');
    t.uuid('running_execution_id');
    t.text('last_result_status');
    t.text('last_error_message');
    t.timestamp('last_query_run', { useTz: true });
    t.timestamp('last_query_success', { useTz: true });
    t.text('last_query_error_message');
    t.timestamp('next_run_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE sql_alerts ADD CONSTRAINT sql_alerts_run_schedule_check CHECK (run_schedule IN ('disabled','at','every'))`);
  await knex.raw(
    `ALTER TABLE sql_alerts ADD CONSTRAINT sql_alerts_trigger_condition_check CHECK (trigger_condition IN ('has_results','no_results','greater_than','lower_than','equal','not_equal'))`,
  );
  await knex.raw(`ALTER TABLE sql_alerts ADD CONSTRAINT sql_alerts_email_condition_check CHECK (email_condition IN ('triggered','changed','all'))`);
  await knex.raw('CREATE INDEX sql_alerts_next_run ON sql_alerts (next_run_at) WHERE next_run_at IS NOT NULL');
  await knex.raw('CREATE SEQUENCE sql_alert_result_seq');

  await knex.schema.createTable('sql_alert_runs', (t) => {
    t.uuid('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE').index();
    t.text('sql_alert_id').notNullable().references('sql_alerts.id').onDelete('CASCADE');
    // `due:<ISO instant>` for a due time, `run:<uuid>` for Run SQL Alert Query
    t.text('run_key').notNullable();
    t.timestamp('due_at', { useTz: true });
    t.uuid('execution_id');
    // pending (job enqueued) → running (execution started) → evaluated
    t.text('status').notNullable().defaultTo('pending');
    t.bigInteger('result_seq');
    t.text('result_status');
    t.text('error_message');
    t.text('sql_query');
    t.integer('sql_query_duration');
    // the evaluation's mail decision (null = no mail): audience regular | errors, reason for the subject
    t.text('mail_audience');
    t.text('mail_reason');
    // the first cell and row count the evaluation saw (for the mail)
    t.jsonb('first_value');
    t.bigInteger('row_count');
    t.text('mail_job_id');
    t.timestamp('evaluated_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['sql_alert_id', 'run_key']);
  });
  await knex.raw(`ALTER TABLE sql_alert_runs ADD CONSTRAINT sql_alert_runs_status_check CHECK (status IN ('pending','running','evaluated'))`);
  await knex.raw(`ALTER TABLE sql_alert_runs ADD CONSTRAINT sql_alert_runs_result_status_check CHECK (result_status IS NULL OR result_status IN
    ('ok','alert_triggered','alert_error','query_error','internal_error','internal_timeout','cancelled'))`);
  await knex.raw('CREATE UNIQUE INDEX sql_alert_runs_results ON sql_alert_runs (sql_alert_id, result_seq DESC) WHERE result_seq IS NOT NULL');
  await knex.raw('CREATE INDEX sql_alert_runs_created ON sql_alert_runs (created_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('sql_alert_runs');
  await knex.raw('DROP SEQUENCE sql_alert_result_seq');
  await knex.schema.dropTable('sql_alerts');
}
