import type { Knex } from 'knex';

// Dashboard schedules (contract §3.6, §4.8) and their runs. A schedule targets a dashboard or a
// report (the report wins; then `dashboard_id` is null). `next_due_at` is the next due time in the
// organization's time zone, null when `disabled`; the one-minute tick claims rows whose time has
// come. A run is one (schedule, due time) pair — or one Trigger — and its unique `run_key` is the
// idempotency key that makes every due time fire exactly once.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('dashboard_schedules', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE').index();
    t.text('dashboard_id').references('dashboards.id').onDelete('CASCADE').index();
    t.text('report_id').references('reports.id').onDelete('CASCADE').index();
    t.text('name').notNullable();
    t.text('emails').notNullable();
    t.text('cc_emails');
    t.text('bcc_emails');
    t.text('attach_as').notNullable();
    t.text('schedule').notNullable();
    t.text('subject_text');
    t.text('body_text');
    t.text('send_via');
    t.integer('page_width');
    t.jsonb('parameters');
    // Datasources whose reports a run may show: the Manage Dashboards scope of the key that last
    // wrote the schedule (null = all), so a schedule never mails more than its author could read.
    t.specificType('run_datasource_ids', 'text[]');
    t.timestamp('last_sent_at', { useTz: true });
    t.timestamp('next_due_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('ALTER TABLE dashboard_schedules ADD CONSTRAINT dashboard_schedules_target_check CHECK (dashboard_id IS NOT NULL OR report_id IS NOT NULL)');
  await knex.raw('ALTER TABLE dashboard_schedules ADD CONSTRAINT dashboard_schedules_page_width_check CHECK (page_width IS NULL OR page_width > 0)');
  await knex.raw('CREATE INDEX dashboard_schedules_next_due ON dashboard_schedules (next_due_at) WHERE next_due_at IS NOT NULL');

  await knex.schema.createTable('dashboard_schedule_runs', (t) => {
    t.uuid('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE').index();
    t.text('dashboard_schedule_id').notNullable().references('dashboard_schedules.id').onDelete('CASCADE');
    // `due:<ISO instant>` for a due time, `trigger:<uuid>` for Trigger Dashboard Schedule
    t.text('run_key').notNullable();
    t.timestamp('due_at', { useTz: true }).notNullable();
    // pending → mailed (mail job enqueued) → sent (handed to SMTP); skipped/failed end a run without mail
    t.text('status').notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('error_message');
    t.text('mail_job_id');
    t.timestamp('sent_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['dashboard_schedule_id', 'run_key']);
  });
  await knex.raw(
    `ALTER TABLE dashboard_schedule_runs ADD CONSTRAINT dashboard_schedule_runs_status_check CHECK (status IN ('pending','mailed','sent','skipped','failed'))`,
  );
  await knex.raw('CREATE INDEX dashboard_schedule_runs_created ON dashboard_schedule_runs (created_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('dashboard_schedule_runs');
  await knex.schema.dropTable('dashboard_schedules');
}
