import type { Knex } from 'knex';
import { ALL_PERMISSIONS, ApiKeyService } from '../api-keys/api-key.service.js';
import type { ApiKeyWithSecret } from '../api-keys/api-key.types.js';
import { withTransaction } from '../db/db.js';
import { ValidationError } from '../errors.js';
import { newId } from '../ids.js';
import { OrganizationRepository } from './organization.repository.js';
import type { Organization } from './organization.types.js';

/** A step run inside the transaction that creates an organization (built-in groups, sample data, …). */
export type OrganizationProvisioner = (trx: Knex.Transaction, organization: Organization) => Promise<void>;

export interface OrganizationServiceDeps {
  db: Knex;
  provisioners?: OrganizationProvisioner[];
}

/** Organizations (tenants) and their first admin key. */
export class OrganizationService {
  constructor(private readonly deps: OrganizationServiceDeps) {}

  /**
   * Creates an organization with an admin API key holding every permission.
   * @param adminSecret use this as the admin key's secret instead of a random one
   * @throws ValidationError for an empty name
   */
  async create(name: string, options: { adminSecret?: string; timeZone?: string } = {}): Promise<{ organization: Organization; adminKey: ApiKeyWithSecret }> {
    const trimmed = name.trim();
    if (!trimmed || trimmed.length > 200) throw new ValidationError('An organization name of 1-200 characters is required');
    return withTransaction(this.deps.db, async (trx) => {
      const organization = await new OrganizationRepository(trx).create({ id: newId(), name: trimmed, timeZone: options.timeZone });
      const adminKey = await new ApiKeyService({ db: trx }).create(organization.id, {
        name: 'Admin',
        permissions: ALL_PERMISSIONS,
        secret: options.adminSecret,
      });
      for (const provision of this.deps.provisioners ?? []) await provision(trx, organization);
      return { organization, adminKey };
    });
  }

  list(): Promise<Organization[]> {
    return new OrganizationRepository(this.deps.db).list();
  }

  /** @throws NotFoundError */
  get(id: string): Promise<Organization> {
    return new OrganizationRepository(this.deps.db).get(id);
  }
}
