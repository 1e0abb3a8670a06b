import supertest from 'supertest';
import { createApiApp } from '@sightline/api-server';
import { createDomainServices, createLogger, type DomainServices, type Organization } from '@sightline/domain';
import { createTestDatabase, type TestDatabase } from './database.js';

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

export async function createApiTestContext(options: { maxBodyBytes?: number } = {}): Promise<ApiTestContext> {
  const database = await createTestDatabase();
  const services = createDomainServices({ db: database.db });
  const { organization, adminKey } = await services.organizations.create('Test Organization');
  const app = createApiApp({ db: database.db, logger: createLogger('silent', 'test'), services, maxBodyBytes: options.maxBodyBytes ?? 64 * 1024 });
  return {
    database,
    services,
    organization,
    adminSecret: adminKey.secret,
    api: supertest(app.callback()),
    close: () => database.drop(),
  };
}

/** `Authorization` header value for a secret. */
export const auth = (secret: string) => `Api ${secret}`;
