import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // A running export job's liveness: the worker refreshes it; a job whose worker died goes stale and
  // the sweep (any process) ends it with an error instead of leaving it running forever.
  await knex.schema.alterTable('export_jobs', (t) => {
    t.timestamp('heartbeat_at', { useTz: true });
  });
  await knex.raw(`CREATE INDEX export_jobs_running_heartbeat ON export_jobs (heartbeat_at) WHERE job_status = 'running'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS export_jobs_running_heartbeat');
  await knex.schema.alterTable('export_jobs', (t) => {
    t.dropColumn('heartbeat_at');
  });
}
