import type { Knex } from 'knex';

// Dashboards (contract §3.4), their sharing with user groups, dashboard groups (§3.5), reports (§3.7)
// and filters (§3.8). Times of day are stored as `HH:MM` text (the API emits `HH:MM`).
//
// This migration runs before `users` and `user_groups` exist (their timestamps are later), so the
// columns that point at them (`dashboards.user_id`, `dashboard_groups.owner_user_id`,
// `dashboard_user_groups.user_group_id`) carry no foreign key here: readers join `users` /
// `user_groups`, so a row pointing at a deleted user or group is ignored.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('dashboards', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE').index();
    // owner (contract relationship `user`); null for dashboards created through an API key
    t.text('user_id').index();
    t.text('name').notNullable();
    t.text('description');
    t.jsonb('time_zone_config').notNullable().defaultTo(knex.raw(`'{"type":"disabled"}'::jsonb`));
    t.boolean('automatic_update_enabled').notNullable().defaultTo(true);
    t.boolean('thumbnail_enabled').notNullable().defaultTo(true);
    t.text('thumbnail_image_url');
    t.timestamp('thumbnail_created_at', { useTz: true });
    t.boolean('prewarm').notNullable().defaultTo(false);
    t.double('data_refresh_rate').notNullable().defaultTo(1440);
    t.text('data_refresh_anchor_time');
    t.boolean('is_locked').notNullable().defaultTo(false);
    t.jsonb('default_parameters');
    t.integer('default_page_width').notNullable().defaultTo(1600);
    t.boolean('floating_enabled').notNullable().defaultTo(false);
    t.text('color_scheme').notNullable().defaultTo('scheme_6');
    t.jsonb('filters_configuration').notNullable().defaultTo(knex.raw(`'{}'::jsonb`));
    // Share Dashboard (contract row 29): none | all_users | all_analysts | custom (+ dashboard_user_groups)
    t.text('share_mode').notNullable().defaultTo('none');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE dashboards ADD CONSTRAINT dashboards_share_mode_check CHECK (share_mode IN ('none', 'all_users', 'all_analysts', 'custom'))`);
  await knex.raw(`ALTER TABLE dashboards ADD CONSTRAINT dashboards_color_scheme_check CHECK (color_scheme ~ '^scheme_[1-8]$')`);
  await knex.raw(`ALTER TABLE dashboards ADD CONSTRAINT dashboards_anchor_time_check CHECK (data_refresh_anchor_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$')`);
  await knex.raw('ALTER TABLE dashboards ADD CONSTRAINT dashboards_refresh_rate_check CHECK (data_refresh_rate > 0)');

  // Which user groups a dashboard is shared with (share_mode custom; built-in groups may be listed too).
  await knex.schema.createTable('dashboard_user_groups', (t) => {
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE').index();
    t.text('dashboard_id').notNullable().references('dashboards.id').onDelete('CASCADE');
    t.text('user_group_id').notNullable().index();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['dashboard_id', 'user_group_id']);
  });

  await knex.schema.createTable('dashboard_groups', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE').index();
    // personal groups belong to one user and are invisible to API keys (contract §3.5)
    t.text('owner_user_id').index();
    t.text('name').notNullable();
    t.text('description');
    // explicit per-organization order set by Sort Dashboard Groups; null = sorted by name after the ordered ones
    t.integer('sort_position');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('dashboard_group_members', (t) => {
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE').index();
    t.text('dashboard_group_id').notNullable().references('dashboard_groups.id').onDelete('CASCADE');
    t.text('dashboard_id').notNullable().references('dashboards.id').onDelete('CASCADE').index();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['dashboard_group_id', 'dashboard_id']);
  });

  await knex.schema.createTable('reports', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE').index();
    t.text('dashboard_id').notNullable().references('dashboards.id').onDelete('CASCADE').index();
    // RESTRICT: a datasource used by a report cannot be deleted (contract §4.1, 422)
    t.text('datasource_id').notNullable().references('datasources.id').onDelete('RESTRICT').index();
    t.text('name').notNullable();
    t.text('description');
    t.text('sql_query');
    t.text('r_query');
    t.boolean('r_query_enabled').notNullable().defaultTo(false);
    t.integer('data_refresh_rate');
    t.text('data_refresh_anchor_time');
    t.jsonb('chart_configuration').notNullable().defaultTo(knex.raw(`'{}'::jsonb`));
    t.boolean('download_actions_enabled').notNullable().defaultTo(true);
    t.boolean('data_download_enabled').notNullable().defaultTo(true);
    t.boolean('maximize_action_enabled').notNullable().defaultTo(true);
    t.boolean('refresh_enabled').notNullable().defaultTo(true);
    t.boolean('unused_filters_warning_enabled').notNullable().defaultTo(false);
    t.boolean('unlimited_csv_export_enabled').notNullable().defaultTo(false);
    t.integer('default_page_width').notNullable().defaultTo(800);
    t.integer('default_page_height').notNullable().defaultTo(600);
    t.boolean('display_name_as_title').notNullable().defaultTo(true);
    t.text('attribution');
    t.text('no_data_message');
    t.text('query_error');
    // position on the dashboard's 12-column grid (1-based)
    t.integer('row').notNullable();
    t.integer('column').notNullable();
    t.integer('width').notNullable();
    t.integer('height').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    `ALTER TABLE reports ADD CONSTRAINT reports_layout_check CHECK ("row" >= 1 AND "column" BETWEEN 1 AND 12 AND width BETWEEN 1 AND 12 AND "column" + width - 1 <= 12 AND height >= 1)`,
  );
  await knex.raw(`ALTER TABLE reports ADD CONSTRAINT reports_anchor_time_check CHECK (data_refresh_anchor_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$')`);
  await knex.raw('ALTER TABLE reports ADD CONSTRAINT reports_refresh_rate_check CHECK (data_refresh_rate > 0)');

  await knex.schema.createTable('filters', (t) => {
    t.text('id').primary();
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE').index();
    t.text('display_name');
    t.text('variable_name').notNullable();
    t.text('control_type').notNullable();
    t.text('value_type').notNullable();
    // manual drop-downs: option values and labels (write-only in the API, read via drop-down options)
    t.jsonb('values');
    t.jsonb('value_names');
    t.text('sql_query');
    // RESTRICT: a datasource used by a SQL filter cannot be deleted (contract §4.1)
    t.text('datasource_id').references('datasources.id').onDelete('RESTRICT').index();
    t.text('parent_filter_id').references('filters.id').onDelete('SET NULL').index();
    t.integer('data_refresh_rate');
    t.jsonb('default_values');
    t.boolean('required').notNullable().defaultTo(false);
    t.boolean('dropdown_validate').notNullable().defaultTo(false);
    t.boolean('relative_range_enabled').notNullable().defaultTo(true);
    t.boolean('before_range_enabled').notNullable().defaultTo(true);
    t.boolean('after_range_enabled').notNullable().defaultTo(true);
    t.boolean('from_to_range_enabled').notNullable().defaultTo(true);
    t.jsonb('allowed_aggregations');
    t.timestamp('last_query_success', { useTz: true });
    t.text('last_query_error_message');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // variable names are resolved organization-wide (case-sensitive, like the compiler)
    t.unique(['organization_id', 'variable_name']);
  });
  await knex.raw('ALTER TABLE filters ADD CONSTRAINT filters_refresh_rate_check CHECK (data_refresh_rate > 0)');

  // The transitive closure of SQL snippets a filter's SQL uses (contract `sql_snippets` relationship).
  await knex.schema.createTable('filter_sql_snippets', (t) => {
    t.text('organization_id').notNullable().references('organizations.id').onDelete('CASCADE').index();
    t.text('filter_id').notNullable().references('filters.id').onDelete('CASCADE');
    t.text('sql_snippet_id').notNullable().references('sql_snippets.id').onDelete('CASCADE').index();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['filter_id', 'sql_snippet_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('filter_sql_snippets');
  await knex.schema.dropTable('filters');
  await knex.schema.dropTable('reports');
  await knex.schema.dropTable('dashboard_group_members');
  await knex.schema.dropTable('dashboard_groups');
  await knex.schema.dropTable('dashboard_user_groups');
  await knex.schema.dropTable('dashboards');
}
