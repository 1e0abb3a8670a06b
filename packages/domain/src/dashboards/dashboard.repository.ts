import type { Knex } from 'knex';
import { NotFoundError } from '../errors.js';
import { dashboardFields } from './dashboard.fields.js';
import type { Dashboard, DashboardPatch, DashboardRow, NewDashboard } from './dashboard.types.js';

/** SQL for `dashboards`, `dashboard_user_groups` and the dashboard side of `dashboard_group_members`. */
export class DashboardRepository {
  constructor(private readonly db: Knex) {}

  private async hydrate(rows: DashboardRow[]): Promise<Dashboard[]> {
    if (!rows.length) return [];
    const ids = rows.map((r) => r.id);
    // Joins drop links to groups that no longer exist (the table has no FK to user_groups; see the migration).
    const [shares, groups] = await Promise.all([
      this.db('dashboard_user_groups as s')
        .join('user_groups as g', 'g.id', 's.user_group_id')
        .whereIn('s.dashboard_id', ids)
        .orderBy(['s.dashboard_id', 'g.name', 'g.id'])
        .select<{ dashboard_id: string; user_group_id: string }[]>('s.dashboard_id', 's.user_group_id'),
      this.db('dashboard_group_members as m')
        .join('dashboard_groups as g', 'g.id', 'm.dashboard_group_id')
        .whereIn('m.dashboard_id', ids)
        .whereNull('g.owner_user_id')
        .orderBy(['m.dashboard_id', 'g.name', 'g.id'])
        .select<{ dashboard_id: string; dashboard_group_id: string }[]>('m.dashboard_id', 'm.dashboard_group_id'),
    ]);
    const shareMap = new Map<string, string[]>();
    for (const s of shares) shareMap.set(s.dashboard_id, [...(shareMap.get(s.dashboard_id) ?? []), s.user_group_id]);
    const groupMap = new Map<string, string[]>();
    for (const g of groups) groupMap.set(g.dashboard_id, [...(groupMap.get(g.dashboard_id) ?? []), g.dashboard_group_id]);
    return rows.map((r) => ({ ...dashboardFields.fromRow(r), userGroupIds: shareMap.get(r.id) ?? [], dashboardGroupIds: groupMap.get(r.id) ?? [] }));
  }

  /** Every dashboard of the organization by name. */
  async list(organizationId: string): Promise<Dashboard[]> {
    return this.hydrate(await this.db<DashboardRow>('dashboards').where({ organization_id: organizationId }).orderBy(['name', 'id']));
  }

  async listByIds(organizationId: string, ids: readonly string[]): Promise<Dashboard[]> {
    if (!ids.length) return [];
    return this.hydrate(
      await this.db<DashboardRow>('dashboards')
        .where({ organization_id: organizationId })
        .whereIn('id', [...ids])
        .orderBy(['name', 'id']),
    );
  }

  /** Ids among `ids` that are not dashboards of the organization. */
  async unknownIds(organizationId: string, ids: readonly string[]): Promise<string[]> {
    if (!ids.length) return [];
    const found = new Set(
      (
        await this.db('dashboards')
          .where({ organization_id: organizationId })
          .whereIn('id', [...ids])
          .select<{ id: string }[]>('id')
      ).map((r) => r.id),
    );
    return ids.filter((id) => !found.has(id));
  }

  async find(organizationId: string, id: string): Promise<Dashboard | undefined> {
    const row = await this.db<DashboardRow>('dashboards').where({ organization_id: organizationId, id }).first();
    return row ? (await this.hydrate([row]))[0] : undefined;
  }

  /** @throws NotFoundError (`dashboard_not_found`) */
  async get(organizationId: string, id: string): Promise<Dashboard> {
    const d = await this.find(organizationId, id);
    if (!d) throw new NotFoundError(`Dashboard ${id} not found`, { code: 'dashboard_not_found' });
    return d;
  }

  /** Locks the row for the rest of the transaction (serialises layout and report placement). */
  async lockRow(organizationId: string, id: string): Promise<void> {
    const row = await this.db('dashboards').where({ organization_id: organizationId, id }).forUpdate().first('id');
    if (!row) throw new NotFoundError(`Dashboard ${id} not found`, { code: 'dashboard_not_found' });
  }

  /** Inserts the row (group links are written by `replaceUserGroups` / `addToGroups`). */
  async insert(dashboard: NewDashboard): Promise<void> {
    await this.db('dashboards').insert(dashboardFields.toColumns(dashboard));
  }

  /** Updates the row (touches `updated_at` even when `patch` is empty). @throws NotFoundError */
  async update(organizationId: string, id: string, patch: DashboardPatch): Promise<void> {
    const n = await this.db('dashboards')
      .where({ organization_id: organizationId, id })
      .update({ ...dashboardFields.toColumns(patch), updated_at: this.db.fn.now() });
    if (!n) throw new NotFoundError(`Dashboard ${id} not found`, { code: 'dashboard_not_found' });
  }

  /** Touches `updated_at` (e.g. after a layout change). */
  async touch(organizationId: string, id: string): Promise<void> {
    await this.db('dashboards').where({ organization_id: organizationId, id }).update({ updated_at: this.db.fn.now() });
  }

  async delete(organizationId: string, id: string): Promise<boolean> {
    return (await this.db('dashboards').where({ organization_id: organizationId, id }).delete()) > 0;
  }

  /** Replaces the user groups a dashboard is shared with. */
  async replaceUserGroups(organizationId: string, dashboardId: string, userGroupIds: readonly string[]): Promise<void> {
    await this.db('dashboard_user_groups').where({ organization_id: organizationId, dashboard_id: dashboardId }).delete();
    if (userGroupIds.length) {
      await this.db('dashboard_user_groups').insert(
        userGroupIds.map((g) => ({ organization_id: organizationId, dashboard_id: dashboardId, user_group_id: g })),
      );
    }
  }

  /** Adds a dashboard to (non-personal) dashboard groups. */
  async addToGroups(organizationId: string, dashboardId: string, groupIds: readonly string[]): Promise<void> {
    if (!groupIds.length) return;
    await this.db('dashboard_group_members')
      .insert(groupIds.map((g) => ({ organization_id: organizationId, dashboard_group_id: g, dashboard_id: dashboardId })))
      .onConflict(['dashboard_group_id', 'dashboard_id'])
      .ignore();
  }

  /** Ids of the locked dashboards among `ids`. */
  async lockedIds(organizationId: string, ids: readonly string[]): Promise<string[]> {
    if (!ids.length) return [];
    return (
      await this.db('dashboards')
        .where({ organization_id: organizationId, is_locked: true })
        .whereIn('id', [...ids])
        .select<{ id: string }[]>('id')
    ).map((r) => r.id);
  }

  /** Every locked dashboard id of the organization. */
  async allLockedIds(organizationId: string): Promise<string[]> {
    return (await this.db('dashboards').where({ organization_id: organizationId, is_locked: true }).select<{ id: string }[]>('id')).map((r) => r.id);
  }
}
