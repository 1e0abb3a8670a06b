import type { Knex } from 'knex';

/**
 * One counter per organization, bumped whenever something a dashboard's queries are compiled from
 * changes (organization settings, dashboards, reports, filters, SQL snippets, datasources). The
 * api-server caches compiled dashboards under it: one cheap read tells whether a cache entry is
 * still good, in every process.
 *
 * The bump is a deferred constraint trigger: it runs at commit, after every other row lock of the
 * transaction, so two transactions never wait for each other's counter row in opposite orders.
 */
const TABLES = ['dashboards', 'reports', 'filters', 'filter_sql_snippets', 'sql_snippets', 'datasources'];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('content_versions', (t) => {
    t.text('organization_id').primary().references('organizations.id').onDelete('CASCADE');
    t.bigInteger('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('INSERT INTO content_versions (organization_id) SELECT id FROM organizations');
  await knex.raw(`
    CREATE FUNCTION content_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      org text;
    BEGIN
      IF TG_OP = 'DELETE' THEN
        org := to_jsonb(OLD) ->> TG_ARGV[0];
      ELSE
        org := to_jsonb(NEW) ->> TG_ARGV[0];
      END IF;
      -- no row: the organization is being deleted (its counter goes with it)
      UPDATE content_versions SET version = version + 1, updated_at = now() WHERE organization_id = org;
      RETURN NULL;
    END $$`);
  await knex.raw(`
    CREATE FUNCTION content_version_create() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO content_versions (organization_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
      RETURN NULL;
    END $$`);
  await knex.raw('CREATE TRIGGER content_version_create AFTER INSERT ON organizations FOR EACH ROW EXECUTE FUNCTION content_version_create()');
  await knex.raw(`CREATE CONSTRAINT TRIGGER content_version_bump AFTER UPDATE ON organizations DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION content_version_bump('id')`);
  for (const table of TABLES) {
    await knex.raw(
      `CREATE CONSTRAINT TRIGGER content_version_bump AFTER INSERT OR UPDATE OR DELETE ON ?? DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW EXECUTE FUNCTION content_version_bump('organization_id')`,
      [table],
    );
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of TABLES) await knex.raw('DROP TRIGGER content_version_bump ON ??', [table]);
  await knex.raw('DROP TRIGGER content_version_bump ON organizations');
  await knex.raw('DROP TRIGGER content_version_create ON organizations');
  await knex.raw('DROP FUNCTION content_version_create()');
  await knex.raw('DROP FUNCTION content_version_bump()');
  await knex.schema.dropTable('content_versions');
}
