import type { Knex } from 'knex';
import { ApiKeyService } from './api-keys/api-key.service.js';
import { OrganizationService } from './organizations/organization.service.js';
import { UserService } from './users/user.service.js';
import { UserGroupService, provisionBuiltInUserGroups } from './user-groups/user-group.service.js';
import { MailService } from './mail/mail.service.js';
import type { MailQueue } from './mail/mail.types.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';

export interface DomainDeps {
  db: Knex;
  clock?: Clock;
  /** Queue for outgoing mail (e.g. `createMailQueue(boss)` or the pg-boss `JobQueue`). Without it, invitations answer 503. */
  mailQueue?: MailQueue;
  /** Public base URL of the API server, for links in e-mails (default `http://localhost:8080`). */
  apiBaseUrl?: string;
  /** Lifetime of invitation links in hours (default 7 days). */
  invitationTtlHours?: number;
}

/** The services both apps and the worker use, built once per process from explicit dependencies. */
export interface DomainServices {
  organizations: OrganizationService;
  apiKeys: ApiKeyService;
  mail: MailService;
  users: UserService;
  userGroups: UserGroupService;
}

/** Builds the domain services (the composition roots call this once). */
export function createDomainServices(deps: DomainDeps): DomainServices {
  const clock = deps.clock ?? systemClock;
  const apiKeys = new ApiKeyService({ db: deps.db });
  const organizations = new OrganizationService({ db: deps.db, provisioners: [provisionBuiltInUserGroups] });
  const mail = new MailService({ queue: deps.mailQueue });
  const users = new UserService({ db: deps.db, mail, clock, apiBaseUrl: deps.apiBaseUrl ?? 'http://localhost:8080', invitationTtlHours: deps.invitationTtlHours });
  const userGroups = new UserGroupService({ db: deps.db });
  return { organizations, apiKeys, mail, users, userGroups };
}

/** Checks that the database answers (health endpoints). */
export async function pingDatabase(db: Knex): Promise<void> {
  await db.raw('SELECT 1');
}
