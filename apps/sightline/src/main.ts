#!/usr/bin/env node
// The `sightline` command: the all-in-one start and the operator's tools.
//   npm start                                   (= sightline start)
//   npm run sightline -- organizations create --name "Acme"
//   npm run sightline -- api-keys create --organization <id> --name ci --permission "Manage Dashboards"
import { parseArgs } from 'node:util';
import {
  ConfigError,
  PERMISSIONS,
  createDb,
  createDomainServices,
  createLogger,
  migrateLatest,
  parseConfig,
  type Config,
  type Permission,
} from '@sightline/domain';
import { openDatabase } from './database.js';
import { ensureFirstOrganization } from './bootstrap.js';
import { startPlatform } from './platform.js';
import { prepareSampleData } from './sample-data.js';

const USAGE = `usage: sightline <command>
  start                                   start API server, data server and worker (all-in-one)
  migrate                                 run database migrations
  organizations create --name <name>      create an organization; prints its admin API key
  organizations list
  api-keys create --organization <id> --name <name> --permission <name>... [--datasource <id>...]
  api-keys list --organization <id>
permissions: ${PERMISSIONS.join(', ')}`;

async function withServices<T>(config: Config, fn: (s: ReturnType<typeof createDomainServices>) => Promise<T>): Promise<T> {
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', 'sightline');
  const handle = await openDatabase(config, logger);
  const db = createDb(handle.config.databaseUrl, { poolMax: 2 });
  try {
    await migrateLatest(db);
    const sampleData = await prepareSampleData(handle, config, logger);
    const services = createDomainServices({ db, encryptionKey: handle.config.encryptionKey, sampleData });
    for (const org of await services.organizations.list()) await services.datasources.ensureSampleDatasource(db, org.id);
    return await fn(services);
  } finally {
    await db.destroy();
    await handle.release();
  }
}

/**
 * `sightline migrate`: runs the migrations, nothing else (the sample database and the organizations'
 * sample datasources are `start`'s). Without `DATABASE_URL` it still opens the embedded PostgreSQL,
 * whose password lives in the data dir's secrets file.
 */
async function migrate(config: Config): Promise<void> {
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', 'sightline');
  const handle = await openDatabase(config, logger);
  const db = createDb(handle.config.databaseUrl, { poolMax: 2 });
  try {
    await migrateLatest(db);
  } finally {
    await db.destroy();
    await handle.release();
  }
}

async function start(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel, 'sightline');
  const handle = await openDatabase(config, logger);
  let platform: Awaited<ReturnType<typeof startPlatform>> | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    try {
      await platform?.stop();
    } finally {
      await handle.release();
      logger.info('stopped');
      process.exit(0);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  try {
    const sampleData = await prepareSampleData(handle, config, logger);
    platform = await startPlatform(handle.config, logger, sampleData);
    const secret = await ensureFirstOrganization(platform.services, logger, config.adminApiKey);
    for (const org of await platform.services.organizations.list()) await platform.services.datasources.ensureSampleDatasource(platform.db, org.id);
    console.log(`API server: ${config.apiBaseUrl ?? platform.api.url}`);
    console.log(`Data server: ${config.dataBaseUrl ?? platform.data.url}`);
    if (secret) console.log(`Admin API key: ${secret}\n(shown once: keep it; create more with "npm run sightline -- api-keys create")`);
  } catch (err) {
    logger.fatal({ err }, 'start failed');
    await platform?.stop().catch(() => {});
    await handle.release().catch(() => {});
    process.exit(1);
  }
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      organization: { type: 'string' },
      permission: { type: 'string', multiple: true },
      datasource: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, sub] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  const config = parseConfig(process.env);
  switch (`${command}${sub ? ` ${sub}` : ''}`) {
    case 'start':
      return start(config);
    case 'migrate':
      await migrate(config);
      console.log('migrations are up to date');
      return;
    case 'organizations create': {
      if (!values.name) throw new Error('--name is required');
      const { organization, adminKey } = await withServices(config, (s) => s.organizations.create(values.name!));
      console.log(`Organization: ${organization.id} (${organization.name})`);
      console.log(`Admin API key: ${adminKey.secret}`);
      return;
    }
    case 'organizations list':
      for (const o of await withServices(config, (s) => s.organizations.list())) console.log(`${o.id}\t${o.name}`);
      return;
    case 'api-keys create': {
      if (!values.organization || !values.name) throw new Error('--organization and --name are required');
      const unknown = (values.permission ?? []).filter((p) => !(PERMISSIONS as readonly string[]).includes(p));
      if (unknown.length) throw new Error(`unknown permission(s): ${unknown.join(', ')}`);
      const datasourceIds = values.datasource?.length ? values.datasource : null;
      const key = await withServices(config, async (s) => {
        await s.organizations.get(values.organization!);
        return s.apiKeys.create(values.organization!, {
          name: values.name!,
          permissions: (values.permission ?? []).map((p) => ({ permission: p as Permission, datasourceIds })),
        });
      });
      console.log(`API key: ${key.id}\nSecret: ${key.secret}`);
      return;
    }
    case 'api-keys list':
      if (!values.organization) throw new Error('--organization is required');
      for (const k of await withServices(config, (s) => s.apiKeys.list(values.organization!))) {
        console.log(`${k.id}\t${k.enabled ? 'enabled ' : 'disabled'}\t…${k.secretHint}\t${k.name}\t${k.permissions.map((p) => p.permission).join(', ')}`);
      }
      return;
    default:
      console.error(USAGE);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(`sightline: ${(err as Error).message ?? String(err)}`);
  process.exit(1);
});
