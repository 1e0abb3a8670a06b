import type { Knex } from 'knex';
import { withTransaction } from '../db/db.js';
import { AppErrors, ConflictError, NotFoundError, ValidationError, type AppError } from '../errors.js';
import { isResourceId, newId } from '../ids.js';
import type { Organization } from '../organizations/organization.types.js';
import { UserRepository } from '../users/user.repository.js';
import type { UserRecord } from '../users/user.types.js';
import { isBuiltInMember } from './user-group.memberships.js';
import { userGroupFields } from './user-group.fields.js';
import { UserGroupRepository } from './user-group.repository.js';
import { BUILT_IN_GROUPS, type CreateUserGroupInput, type UpdateUserGroupInput, type UserGroup, type UserGroupRecord } from './user-group.types.js';

export interface UserGroupServiceDeps {
  db: Knex;
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '23505';
}

/**
 * Inserts the built-in groups ("All Users", "All Analysts") of an organization unless it has them.
 * Registered as an `OrganizationProvisioner`, so every new organization gets them.
 */
export async function provisionBuiltInUserGroups(trx: Knex.Transaction, organization: Organization): Promise<void> {
  const repo = new UserGroupRepository(trx);
  for (const g of BUILT_IN_GROUPS) {
    await repo.insertBuiltInIfMissing({ id: newId(), organizationId: organization.id, name: g.name, description: g.description, builtInBehavior: g.behavior });
  }
}

/** User groups: custom groups with stored members, built-in groups with computed members. */
export class UserGroupService {
  constructor(private readonly deps: UserGroupServiceDeps) {}

  private async withMembers(db: Knex, organizationId: string, rows: UserGroupRecord[]): Promise<UserGroup[]> {
    if (!rows.length) return [];
    const repo = new UserGroupRepository(db);
    const [stored, dashboards] = await Promise.all([
      repo.memberIdsByGroup(
        organizationId,
        rows.filter((r) => !r.builtInBehavior).map((r) => r.id),
      ),
      repo.dashboardIdsByGroup(
        organizationId,
        rows.map((r) => r.id),
      ),
    ]);
    const needsUsers = rows.some((r) => r.builtInBehavior);
    const users: UserRecord[] = needsUsers ? await new UserRepository(db).list(organizationId) : [];
    return rows.map((r) => ({
      ...r,
      userIds: r.builtInBehavior ? users.filter((u) => isBuiltInMember(r.builtInBehavior!, u)).map((u) => u.id) : (stored.get(r.id) ?? []),
      dashboardIds: dashboards.get(r.id) ?? [],
    }));
  }

  /** Every group of the organization, built-in ones first. */
  async list(organizationId: string): Promise<UserGroup[]> {
    return this.withMembers(this.deps.db, organizationId, await new UserGroupRepository(this.deps.db).list(organizationId));
  }

  /** The groups of `ids` that exist in the organization. */
  async listByIds(organizationId: string, ids: readonly string[]): Promise<UserGroup[]> {
    return this.withMembers(this.deps.db, organizationId, await new UserGroupRepository(this.deps.db).listByIds(organizationId, ids.filter(isResourceId)));
  }

  /** @throws NotFoundError */
  async get(organizationId: string, id: string): Promise<UserGroup> {
    if (!isResourceId(id)) throw new NotFoundError(`User group ${id} not found`, { code: 'user_group_not_found' });
    const row = await new UserGroupRepository(this.deps.db).get(organizationId, id);
    return (await this.withMembers(this.deps.db, organizationId, [row]))[0]!;
  }

  private async checkLinks(db: Knex, organizationId: string, input: { userIds?: string[]; dashboardIds?: string[] }): Promise<void> {
    const errors: AppError[] = [];
    if (input.userIds?.length) {
      const found = new Set((await new UserRepository(db).listByIds(organizationId, input.userIds.filter(isResourceId))).map((u) => u.id));
      input.userIds.forEach((id, i) => {
        if (!found.has(id))
          errors.push(new NotFoundError(`User ${id} not found`, { code: 'user_not_found', source: { pointer: `/data/relationships/users/data/${i}` } }));
      });
    }
    if (input.dashboardIds?.length) {
      const found = await new UserGroupRepository(db).existingDashboardIds(organizationId, input.dashboardIds.filter(isResourceId));
      input.dashboardIds.forEach((id, i) => {
        if (!found.has(id))
          errors.push(
            new NotFoundError(`Dashboard ${id} not found`, { code: 'dashboard_not_found', source: { pointer: `/data/relationships/dashboards/data/${i}` } }),
          );
      });
    }
    if (errors.length) throw new AppErrors(errors);
  }

  private conflictOnName<T>(name: string | undefined, work: () => Promise<T>): Promise<T> {
    return work().catch((err: unknown) => {
      if (isUniqueViolation(err))
        throw new ConflictError(`A user group named "${name}" already exists`, { code: 'user_group_name_taken', source: { pointer: '/data/attributes/name' } });
      throw err;
    });
  }

  /**
   * Creates a custom group.
   * @throws ConflictError (409) for a name in use (case-insensitive); NotFoundError (404) for unknown
   *   user or dashboard ids
   */
  async create(organizationId: string, input: CreateUserGroupInput): Promise<UserGroup> {
    return this.conflictOnName(input.name, () =>
      withTransaction(this.deps.db, async (trx) => {
        await this.checkLinks(trx, organizationId, input);
        const repo = new UserGroupRepository(trx);
        const { userIds, dashboardIds, ...group } = userGroupFields.prepareCreate(input);
        const row = await repo.insert({ ...group, id: newId(), organizationId });
        if (userIds?.length) await repo.replaceMembersOfGroup(organizationId, row.id, userIds);
        if (dashboardIds?.length) await repo.replaceDashboardsOfGroup(organizationId, row.id, dashboardIds);
        return (await this.withMembers(trx, organizationId, [row]))[0]!;
      }),
    );
  }

  private async getCustomForUpdate(trx: Knex, organizationId: string, id: string, verb: string): Promise<UserGroupRecord> {
    if (!isResourceId(id)) throw new NotFoundError(`User group ${id} not found`, { code: 'user_group_not_found' });
    const row = await new UserGroupRepository(trx).get(organizationId, id);
    if (row.builtInBehavior) throw new ValidationError(`"${row.name}" is a built-in group and cannot be ${verb}`, { code: 'built_in_group' });
    return row;
  }

  /**
   * Updates a custom group (attributes given, members replaced when `userIds` is given).
   * @throws NotFoundError; ValidationError (422) for built-in groups; ConflictError for a taken name
   */
  async update(organizationId: string, id: string, input: UpdateUserGroupInput): Promise<UserGroup> {
    return this.conflictOnName(input.name, () =>
      withTransaction(this.deps.db, async (trx) => {
        const current = await this.getCustomForUpdate(trx, organizationId, id, 'changed');
        await this.checkLinks(trx, organizationId, input);
        const repo = new UserGroupRepository(trx);
        const { userIds, dashboardIds, ...patch } = userGroupFields.prepareUpdate(input, { ...current, userIds: [], dashboardIds: [] });
        const row = await repo.update(organizationId, id, patch);
        if (userIds) await repo.replaceMembersOfGroup(organizationId, id, userIds);
        if (dashboardIds) await repo.replaceDashboardsOfGroup(organizationId, id, dashboardIds);
        return (await this.withMembers(trx, organizationId, [row]))[0]!;
      }),
    );
  }

  /**
   * Deletes a custom group (its memberships go with it).
   * @throws NotFoundError; ValidationError (422) for built-in groups
   */
  async delete(organizationId: string, id: string): Promise<void> {
    await withTransaction(this.deps.db, async (trx) => {
      await this.getCustomForUpdate(trx, organizationId, id, 'deleted');
      const repo = new UserGroupRepository(trx);
      await repo.removeFromAllDashboards(organizationId, id);
      await repo.delete(organizationId, id);
    });
  }
}
