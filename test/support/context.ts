import supertest from 'supertest';
import { createApiApp } from '@sightline/api-server';
import { createDomainServices, createLogger, type DomainDeps, type DomainServices, type Organization } from '@sightline/domain';
import { createTestDatabase, type TestDatabase } from './database.js';

/** The credentials key of test deployments. */
export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7);

/** An API app on a fresh database with one organization and its admin key. */
export interface ApiTestContext {
  database: TestDatabase;
  services: DomainServices;
  organization: Organization;
  /** Secret of the organization's admin key (every permission). */
  adminSecret: string;
  /** supertest against the API app (no port needed). */
  api: ReturnType<typeof supertest>;
  close(): Promise<void>;
}

/** Extra domain dependencies built on the test database (e.g. a started pg-boss queue) and how to release them. */
export type ExtraDomainDeps = (database: TestDatabase) => Promise<{ deps: Partial<DomainDeps>; close?: () => Promise<void> }>;

export async function createApiTestContext(options: { maxBodyBytes?: number; extraDeps?: ExtraDomainDeps } = {}): Promise<ApiTestContext> {
  const database = await createTestDatabase();
  const extra = options.extraDeps ? await options.extraDeps(database) : undefined;
  const services = createDomainServices({ db: database.db, encryptionKey: TEST_ENCRYPTION_KEY, ...extra?.deps });
  const { organization, adminKey } = await services.organizations.create('Test Organization');
  const app = createApiApp({ db: database.db, logger: createLogger('silent', 'test'), services, maxBodyBytes: options.maxBodyBytes ?? 64 * 1024 });
  return {
    database,
    services,
    organization,
    adminSecret: adminKey.secret,
    api: supertest(app.callback()),
    close: async () => {
      await extra?.close?.();
      await services.sshTunnels.close();
      await database.drop();
    },
  };
}

/** `Authorization` header value for a secret. */
export const auth = (secret: string) => `Api ${secret}`;
