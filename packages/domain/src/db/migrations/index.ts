import type { Knex } from 'knex';
import * as m001 from './20261123000001_create_organizations.js';
import * as m002 from './20261123000002_create_api_keys.js';
import * as m010 from './20261123010000_create_datasources.js';
import * as m011 from './20261123010100_create_sql_snippets.js';
import * as m020 from './20261123020000_create_executions.js';
import * as m030 from './20261123030000_create_dashboards.js';
import * as m040 from './20261123040000_create_users.js';
import * as m041 from './20261123040100_create_user_groups.js';
import * as m042 from './20261123040200_create_invitations.js';
import * as m043 from './20261123040300_add_built_in_user_groups.js';
import * as m20261203010000 from './20261203010000_create_auth_failures.js';
import * as m120340 from './20261203040000_create_export_jobs.js';
import * as m1250 from './20261203050000_create_dashboard_schedules.js';
import * as m1251 from './20261203050100_create_sql_alerts.js';
import * as m1252 from './20261203050200_create_mail_deliveries.js';
import * as m1403 from './20261203070000_create_dashboard_sharing_links.js';
import * as m1404 from './20261203070100_create_organization_sharing_secrets.js';
import * as m20261204020000 from './20261204020000_add_export_jobs_heartbeat.js';
import * as m130300 from './20261204030000_create_ssh_tunnel_keys.js';
import * as m20261204040000 from './20261204040000_create_datasource_agents.js';
import * as m1500 from './20261204050000_create_content_versions.js';
import * as m1501 from './20261204050100_notify_result_changes.js';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/**
 * Every migration in order. A static list (instead of a directory scan) works the same under tsx,
 * jest and the knex CLI, and a missing import is a type error rather than a silent skip.
 */
const MIGRATIONS: Array<[string, Migration]> = [
  ['20261123000001_create_organizations', m001],
  ['20261123000002_create_api_keys', m002],
  ['20261123010000_create_datasources', m010],
  ['20261123010100_create_sql_snippets', m011],
  ['20261123020000_create_executions', m020],
  ['20261123030000_create_dashboards', m030],
  ['20261123040000_create_users', m040],
  ['20261123040100_create_user_groups', m041],
  ['20261123040200_create_invitations', m042],
  ['20261123040300_add_built_in_user_groups', m043],
  ['20261203010000_create_auth_failures', m20261203010000],
  ['20261203040000_create_export_jobs', m120340],
  ['20261203050000_create_dashboard_schedules', m1250],
  ['20261203050100_create_sql_alerts', m1251],
  ['20261203050200_create_mail_deliveries', m1252],
  ['20261203070000_create_dashboard_sharing_links', m1403],
  ['20261203070100_create_organization_sharing_secrets', m1404],
  ['20261204020000_add_export_jobs_heartbeat', m20261204020000],
  ['20261204030000_create_ssh_tunnel_keys', m130300],
  ['20261204040000_create_datasource_agents', m20261204040000],
  ['20261204050000_create_content_versions', m1500],
  ['20261204050100_notify_result_changes', m1501],
];

export const migrationSource: Knex.MigrationSource<[string, Migration]> = {
  getMigrations: async () => MIGRATIONS,
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};
