import type { Knex } from 'knex';
import { AppErrors, NotFoundError, ValidationError, type AppError } from '../errors.js';
import { isResourceId } from '../ids.js';
import type { UserRecord } from '../users/user.types.js';
import { takesAnalystSeat, type User, type UserRole } from '../users/user.types.js';
import { UserGroupRepository } from './user-group.repository.js';
import type { BuiltInBehavior } from './user-group.types.js';

/** True when a user with this role and state is a member of the built-in group of `behavior`. */
export function isBuiltInMember(behavior: BuiltInBehavior, user: { role: UserRole; deactivatedAt: Date | null }): boolean {
  if (user.deactivatedAt) return false;
  return behavior === 'all_users' || takesAnalystSeat(user.role);
}

/** Attaches every group id (stored custom memberships + applicable built-in groups) to users. */
export async function attachUserGroups(db: Knex, organizationId: string, users: readonly UserRecord[]): Promise<User[]> {
  if (!users.length) return [];
  const repo = new UserGroupRepository(db);
  const [builtIns, stored] = await Promise.all([
    repo.listBuiltIn(organizationId),
    repo.groupIdsByUser(
      organizationId,
      users.map((u) => u.id),
    ),
  ]);
  return users.map((u) => ({
    ...u,
    userGroupIds: [
      ...builtIns
        .filter((g) => isBuiltInMember(g.builtInBehavior!, u))
        .sort((a, b) => (a.builtInBehavior! < b.builtInBehavior! ? 1 : -1))
        .map((g) => g.id),
      ...(stored.get(u.id) ?? []),
    ],
  }));
}

/**
 * Checks the group ids a client wants a user to be in and returns the custom ones to store.
 * Built-in group ids are accepted when the user belongs to them anyway (so a fetched relationship can
 * be sent back unchanged); their membership is never stored.
 * @param pointer JSON pointer of the list in the request, for error sources
 * @throws NotFoundError (404) for ids that are not groups of this organization; ValidationError (422)
 *   for a built-in group the user cannot be a member of
 */
export async function customGroupIdsFor(
  db: Knex,
  organizationId: string,
  groupIds: readonly string[],
  user: { role: UserRole; deactivatedAt: Date | null },
  pointer: string,
): Promise<string[]> {
  const unique = [...new Set(groupIds)];
  const rows = await new UserGroupRepository(db).listByIds(organizationId, unique.filter(isResourceId));
  const byId = new Map(rows.map((r) => [r.id, r]));
  const errors: AppError[] = [];
  const custom: string[] = [];
  for (const id of unique) {
    const row = byId.get(id);
    const source = { pointer: `${pointer}/${groupIds.indexOf(id)}` };
    if (!row) errors.push(new NotFoundError(`User group ${id} not found`, { code: 'user_group_not_found', source }));
    else if (row.builtInBehavior === null) custom.push(id);
    else if (!isBuiltInMember(row.builtInBehavior, user)) {
      errors.push(
        new ValidationError(`"${row.name}" is a built-in group whose membership is automatic; this user is not a member`, { code: 'built_in_group', source }),
      );
    }
  }
  if (errors.length) throw new AppErrors(errors);
  return custom;
}
