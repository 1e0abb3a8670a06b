import supertest from 'supertest';
import { createApiApp } from '@sightline/api-server';
import { createDataApp } from '@sightline/data-server';
import { startWorker, type Worker, type WorkerDeps, type WorkerSchedulingOptions } from '@sightline/worker';
import {
  createLogger,
  createServicesFromConfig,
  ensureMailQueues,
  ensureQueues,
  ensureSchedulingQueues,
  parseConfig,
  startQueue,
  stopQueue,
  type Clock,
  type DomainServices,
  type Organization,
  type PgBoss,
  type ResolvedConfig,
} from '@sightline/domain';
import { createTestDatabase, type TestDatabase } from './database.js';
import { TEST_ENCRYPTION_KEY } from './context.js';

/** API app, data app and a worker on one fresh database: the whole query path, in-process. */
export interface PlatformTestContext {
  database: TestDatabase;
  config: ResolvedConfig;
  boss: PgBoss;
  services: DomainServices;
  worker: Worker;
  organization: Organization;
  adminSecret: string;
  api: ReturnType<typeof supertest>;
  data: ReturnType<typeof supertest>;
  close(): Promise<void>;
}

export interface PlatformTestOptions {
  env?: Record<string, string>;
  /** Start the worker (default true). */
  worker?: boolean;
  /** Injected clock of the services (default: the system clock). */
  clock?: Clock;
  /** Deliver mail to this SMTP server (default: an outbox folder). */
  smtpUrl?: string;
  /** The worker's scheduling consumers (tick at start, renderers). */
  scheduling?: WorkerSchedulingOptions;
  /** Seconds between the worker's polls of the mail queue (default 2). */
  mailPollingIntervalSeconds?: number;
  /** Poll intervals of the worker's execution queues (see WorkerDeps.executionPolling). */
  executionPolling?: WorkerDeps['executionPolling'];
}

export async function createPlatformTestContext(options: PlatformTestOptions = {}): Promise<PlatformTestContext> {
  const database = await createTestDatabase();
  const parsed = parseConfig({
    DATABASE_URL: database.url,
    SIGHTLINE_DATA_TOKEN_SECRET: 'test-data-token-secret-at-least-32-chars',
    SIGHTLINE_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY.toString('hex'),
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const config = parsed as ResolvedConfig;
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'test');
  const boss = await startQueue({ connectionString: database.url, logger, applicationName: 'sightline-test-queue', supervise: true });
  await ensureQueues(boss);
  await ensureMailQueues(boss);
  await ensureSchedulingQueues(boss);
  const services = createServicesFromConfig(database.db, config, boss, { clock: options.clock });
  const { organization, adminKey } = await services.organizations.create('Test Organization');
  const worker =
    options.worker === false
      ? { stop: async () => {} }
      : await startWorker({
          db: database.db,
          boss,
          logger,
          services,
          concurrency: config.workerConcurrency,
          rowLimit: config.resultRowLimit,
          mail: { dataDir: '/tmp/sightline-test-mail', smtpUrl: options.smtpUrl, queue: { pollingIntervalSeconds: options.mailPollingIntervalSeconds } },
          scheduling: options.scheduling,
          executionPolling: options.executionPolling,
        });
  const api = createApiApp({ db: database.db, logger, services, maxBodyBytes: config.maxBodyBytes, trustProxy: config.trustProxy });
  const data = createDataApp({ db: database.db, logger, resultStore: services.resultStore, tokens: services.tokens });
  return {
    database,
    config,
    boss,
    services,
    worker,
    organization,
    adminSecret: adminKey.secret,
    api: supertest(api.callback()),
    data: supertest(data.callback()),
    close: async () => {
      await worker.stop();
      await services.sshTunnels.close();
      await stopQueue(boss, 2_000);
      await database.drop();
    },
  };
}

/** Polls `GET /executions/{id}` until the execution finishes; returns its attributes. */
export async function waitForExecution(t: PlatformTestContext, secret: string, id: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await t.api.get(`/executions/${id}`).set('Authorization', `Api ${secret}`);
    if (res.status !== 200) throw new Error(`GET /executions/${id} answered ${res.status}: ${res.text}`);
    const attributes = res.body.data.attributes as Record<string, unknown>;
    if (!['starting', 'running', 'waiting', 'scheduled'].includes(attributes.execution_status as string)) return attributes;
    if (Date.now() > deadline) throw new Error(`execution ${id} still ${String(attributes.execution_status)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
