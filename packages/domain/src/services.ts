import type { Knex } from 'knex';
import { ApiKeyService } from './api-keys/api-key.service.js';
import { OrganizationService } from './organizations/organization.service.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';

export interface DomainDeps {
  db: Knex;
  clock?: Clock;
}

/** The services both apps and the worker use, built once per process from explicit dependencies. */
export interface DomainServices {
  organizations: OrganizationService;
  apiKeys: ApiKeyService;
}

/** Builds the domain services (the composition roots call this once). */
export function createDomainServices(deps: DomainDeps): DomainServices {
  const clock = deps.clock ?? systemClock;
  void clock;
  const apiKeys = new ApiKeyService({ db: deps.db });
  const organizations = new OrganizationService({ db: deps.db });
  return { organizations, apiKeys };
}

/** Checks that the database answers (health endpoints). */
export async function pingDatabase(db: Knex): Promise<void> {
  await db.raw('SELECT 1');
}
