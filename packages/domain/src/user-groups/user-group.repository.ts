import type { Knex } from 'knex';
import { NotFoundError } from '../errors.js';
import { userGroupFields } from './user-group.fields.js';
import type { NewUserGroup, UserGroupPatch, UserGroupRecord, UserGroupRow } from './user-group.types.js';

const toRecord = (row: UserGroupRow): UserGroupRecord => userGroupFields.fromRow(row);

/** SQL for `user_groups` and `user_group_members`. Every method is scoped to one organization. */
export class UserGroupRepository {
  constructor(private readonly db: Knex) {}

  /** Built-in groups first, then by name. */
  async list(organizationId: string): Promise<UserGroupRecord[]> {
    const rows = await this.db<UserGroupRow>('user_groups').where({ organization_id: organizationId }).orderByRaw('built_in_behavior IS NULL, lower(name), id');
    return rows.map(toRecord);
  }

  async listByIds(organizationId: string, ids: readonly string[]): Promise<UserGroupRecord[]> {
    if (!ids.length) return [];
    const rows = await this.db<UserGroupRow>('user_groups')
      .where({ organization_id: organizationId })
      .whereIn('id', [...ids])
      .orderByRaw('built_in_behavior IS NULL, lower(name), id');
    return rows.map(toRecord);
  }

  async find(organizationId: string, id: string): Promise<UserGroupRecord | undefined> {
    const row = await this.db<UserGroupRow>('user_groups').where({ organization_id: organizationId, id }).first();
    return row ? toRecord(row) : undefined;
  }

  /** @throws NotFoundError */
  async get(organizationId: string, id: string): Promise<UserGroupRecord> {
    const group = await this.find(organizationId, id);
    if (!group) throw new NotFoundError(`User group ${id} not found`, { code: 'user_group_not_found' });
    return group;
  }

  async listBuiltIn(organizationId: string): Promise<UserGroupRecord[]> {
    return (await this.db<UserGroupRow>('user_groups').where({ organization_id: organizationId }).whereNotNull('built_in_behavior')).map(toRecord);
  }

  async insert(group: NewUserGroup): Promise<UserGroupRecord> {
    const [inserted] = await this.db('user_groups').insert(userGroupFields.toColumns(group)).returning('*');
    return toRecord(inserted as UserGroupRow);
  }

  /** Inserts the built-in group of `behavior` unless the organization has it. */
  async insertBuiltInIfMissing(group: NewUserGroup): Promise<void> {
    await this.db('user_groups')
      .insert(userGroupFields.toColumns(group))
      .onConflict(this.db.raw('(organization_id, built_in_behavior) WHERE built_in_behavior IS NOT NULL'))
      .ignore();
  }

  async update(organizationId: string, id: string, patch: UserGroupPatch): Promise<UserGroupRecord> {
    const [row] = await this.db('user_groups')
      .where({ organization_id: organizationId, id })
      .update({ ...userGroupFields.toColumns(patch), updated_at: this.db.fn.now() })
      .returning('*');
    if (!row) throw new NotFoundError(`User group ${id} not found`, { code: 'user_group_not_found' });
    return toRecord(row as UserGroupRow);
  }

  async delete(organizationId: string, id: string): Promise<boolean> {
    return (await this.db('user_groups').where({ organization_id: organizationId, id }).delete()) > 0;
  }

  /** Stored members of custom groups, by group id. */
  async memberIdsByGroup(organizationId: string, groupIds: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (!groupIds.length) return out;
    const rows = await this.db('user_group_members as m')
      .join('users as u', 'u.id', 'm.user_id')
      .where('m.organization_id', organizationId)
      .whereIn('m.user_group_id', [...groupIds])
      .orderBy(['u.created_at', 'u.id'])
      .select<{ user_group_id: string; user_id: string }[]>('m.user_group_id', 'm.user_id');
    for (const r of rows) {
      const list = out.get(r.user_group_id) ?? [];
      list.push(r.user_id);
      out.set(r.user_group_id, list);
    }
    return out;
  }

  /** Stored custom-group memberships, by user id. */
  async groupIdsByUser(organizationId: string, userIds: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (!userIds.length) return out;
    const rows = await this.db('user_group_members as m')
      .join('user_groups as g', 'g.id', 'm.user_group_id')
      .where('m.organization_id', organizationId)
      .whereIn('m.user_id', [...userIds])
      .orderByRaw('lower(g.name), g.id')
      .select<{ user_group_id: string; user_id: string }[]>('m.user_group_id', 'm.user_id');
    for (const r of rows) {
      const list = out.get(r.user_id) ?? [];
      list.push(r.user_group_id);
      out.set(r.user_id, list);
    }
    return out;
  }

  async replaceMembersOfGroup(organizationId: string, groupId: string, userIds: readonly string[]): Promise<void> {
    await this.db('user_group_members').where({ organization_id: organizationId, user_group_id: groupId }).delete();
    if (userIds.length) {
      await this.db('user_group_members').insert(
        [...new Set(userIds)].map((userId) => ({ organization_id: organizationId, user_group_id: groupId, user_id: userId })),
      );
    }
  }

  async replaceGroupsOfUser(organizationId: string, userId: string, groupIds: readonly string[]): Promise<void> {
    await this.db('user_group_members').where({ organization_id: organizationId, user_id: userId }).delete();
    if (groupIds.length) {
      await this.db('user_group_members').insert(
        [...new Set(groupIds)].map((groupId) => ({ organization_id: organizationId, user_group_id: groupId, user_id: userId })),
      );
    }
  }

  /** Dashboard ids shared with each of `groupIds` (table `dashboard_user_groups`). */
  async dashboardIdsByGroup(organizationId: string, groupIds: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (!groupIds.length) return out;
    const rows = await this.db('dashboard_user_groups as s')
      .join('dashboards as d', 'd.id', 's.dashboard_id')
      .where('s.organization_id', organizationId)
      .whereIn('s.user_group_id', [...groupIds])
      .orderBy('d.name')
      .select<{ user_group_id: string; dashboard_id: string }[]>('s.user_group_id', 's.dashboard_id');
    for (const r of rows) out.set(r.user_group_id, [...(out.get(r.user_group_id) ?? []), r.dashboard_id]);
    return out;
  }

  /** The ids among `ids` that are dashboards of the organization. */
  async existingDashboardIds(organizationId: string, ids: readonly string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const rows = await this.db('dashboards')
      .where({ organization_id: organizationId })
      .whereIn('id', [...ids])
      .select<{ id: string }[]>('id');
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Shares exactly `dashboardIds` with the group. Dashboards that gain their first group become
   * `custom`; `custom` dashboards left without any group become `none`.
   */
  async replaceDashboardsOfGroup(organizationId: string, groupId: string, dashboardIds: readonly string[]): Promise<void> {
    const before = (
      await this.db('dashboard_user_groups')
        .where({ organization_id: organizationId, user_group_id: groupId })
        .select<{ dashboard_id: string }[]>('dashboard_id')
    ).map((r) => r.dashboard_id);
    await this.db('dashboard_user_groups').where({ organization_id: organizationId, user_group_id: groupId }).delete();
    if (dashboardIds.length) {
      await this.db('dashboard_user_groups').insert(dashboardIds.map((d) => ({ organization_id: organizationId, dashboard_id: d, user_group_id: groupId })));
      await this.db('dashboards')
        .where({ organization_id: organizationId, share_mode: 'none' })
        .whereIn('id', [...dashboardIds])
        .update({ share_mode: 'custom', updated_at: this.db.fn.now() });
    }
    await this.unshareOrphans(organizationId, before);
  }

  /** `custom` dashboards among `dashboardIds` without any group left become `none`. */
  async unshareOrphans(organizationId: string, dashboardIds: readonly string[]): Promise<void> {
    if (!dashboardIds.length) return;
    await this.db('dashboards')
      .where({ organization_id: organizationId, share_mode: 'custom' })
      .whereIn('id', [...dashboardIds])
      .whereNotExists(this.db('dashboard_user_groups as s').whereRaw('s.dashboard_id = dashboards.id'))
      .update({ share_mode: 'none', updated_at: this.db.fn.now() });
  }

  /** Removes a group from every dashboard it was shared with (before deleting the group). */
  async removeFromAllDashboards(organizationId: string, groupId: string): Promise<void> {
    await this.replaceDashboardsOfGroup(organizationId, groupId, []);
  }
}
