import type { Knex } from 'knex';
import * as m001 from './20261123000001_create_organizations.js';
import * as m002 from './20261123000002_create_api_keys.js';

interface Migration { up(knex: Knex): Promise<void>; down(knex: Knex): Promise<void> }

/**
 * Every migration in order. A static list (instead of a directory scan) works the same under tsx,
 * jest and the knex CLI, and a missing import is a type error rather than a silent skip.
 */
const MIGRATIONS: Array<[string, Migration]> = [
  ['20261123000001_create_organizations', m001],
  ['20261123000002_create_api_keys', m002],
];

export const migrationSource: Knex.MigrationSource<[string, Migration]> = {
  getMigrations: async () => MIGRATIONS,
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};
