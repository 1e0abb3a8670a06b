// knex CLI configuration: `npx tsx node_modules/knex/bin/cli.js --knexfile knexfile.ts migrate:latest`.
// `npm run db:migrate` does the same through Sightline's own command line.
import type { Knex } from 'knex';
import { migrationSource } from './packages/domain/src/db/migrations/index.js';

const config: Knex.Config = {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  migrations: { migrationSource },
};

export default config;
