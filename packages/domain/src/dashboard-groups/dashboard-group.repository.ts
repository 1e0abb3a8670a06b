import type { Knex } from 'knex';
import { NotFoundError } from '../errors.js';
import { dashboardGroupFields } from './dashboard-group.fields.js';
import type { DashboardGroup, DashboardGroupPatch, DashboardGroupRow, NewDashboardGroup } from './dashboard-group.types.js';

/** SQL for `dashboard_groups` and `dashboard_group_members`. Personal groups (with an owner) are never returned. */
export class DashboardGroupRepository {
  constructor(private readonly db: Knex) {}

  private visible(organizationId: string) {
    return this.db<DashboardGroupRow>('dashboard_groups').where({ organization_id: organizationId }).whereNull('owner_user_id');
  }

  private async hydrate(rows: DashboardGroupRow[]): Promise<DashboardGroup[]> {
    if (!rows.length) return [];
    const members = await this.db('dashboard_group_members as m')
      .join('dashboards as d', 'd.id', 'm.dashboard_id')
      .whereIn(
        'm.dashboard_group_id',
        rows.map((r) => r.id),
      )
      .orderBy(['m.dashboard_group_id', 'd.name', 'd.id'])
      .select<{ dashboard_group_id: string; dashboard_id: string }[]>('m.dashboard_group_id', 'm.dashboard_id');
    const byId = new Map<string, string[]>();
    for (const m of members) byId.set(m.dashboard_group_id, [...(byId.get(m.dashboard_group_id) ?? []), m.dashboard_id]);
    return rows.map((r) => ({ ...dashboardGroupFields.fromRow(r), dashboardIds: byId.get(r.id) ?? [] }));
  }

  /** Every non-personal group: explicitly ordered ones first (by position), then by name ascending. */
  async list(organizationId: string): Promise<DashboardGroup[]> {
    const rows = await this.visible(organizationId).orderByRaw('sort_position ASC NULLS LAST, lower(name) ASC, name ASC, id ASC');
    return this.hydrate(rows);
  }

  async listByIds(organizationId: string, ids: readonly string[]): Promise<DashboardGroup[]> {
    if (!ids.length) return [];
    return this.hydrate(
      await this.visible(organizationId)
        .whereIn('id', [...ids])
        .orderByRaw('sort_position ASC NULLS LAST, lower(name) ASC, id ASC'),
    );
  }

  async find(organizationId: string, id: string): Promise<DashboardGroup | undefined> {
    const row = await this.visible(organizationId).where({ id }).first();
    return row ? (await this.hydrate([row]))[0] : undefined;
  }

  /** @throws NotFoundError (`dashboard_group_not_found`) */
  async get(organizationId: string, id: string): Promise<DashboardGroup> {
    const g = await this.find(organizationId, id);
    if (!g) throw new NotFoundError(`Dashboard group ${id} not found`, { code: 'dashboard_group_not_found' });
    return g;
  }

  /** Ids among `ids` that are not visible groups of the organization. */
  async unknownIds(organizationId: string, ids: readonly string[]): Promise<string[]> {
    if (!ids.length) return [];
    const found = new Set(
      (
        await this.visible(organizationId)
          .whereIn('id', [...ids])
          .select('id')
      ).map((r) => r.id),
    );
    return ids.filter((id) => !found.has(id));
  }

  /** Inserts the row (members are written by `replaceMembers`). */
  async insert(group: NewDashboardGroup): Promise<void> {
    await this.db('dashboard_groups').insert(dashboardGroupFields.toColumns(group));
  }

  /** Updates the row (members are written by `replaceMembers`). */
  async update(organizationId: string, id: string, patch: DashboardGroupPatch): Promise<void> {
    await this.visible(organizationId)
      .where({ id })
      .update({ ...dashboardGroupFields.toColumns(patch), updated_at: this.db.fn.now() });
  }

  async replaceMembers(organizationId: string, groupId: string, dashboardIds: readonly string[]): Promise<void> {
    await this.db('dashboard_group_members').where({ organization_id: organizationId, dashboard_group_id: groupId }).delete();
    if (dashboardIds.length) {
      await this.db('dashboard_group_members').insert(
        dashboardIds.map((d) => ({ organization_id: organizationId, dashboard_group_id: groupId, dashboard_id: d })),
      );
    }
  }

  /** Sets the explicit order: `ids[i]` gets position i; every other group of the organization loses its position. */
  async setOrder(organizationId: string, ids: readonly string[]): Promise<void> {
    await this.db('dashboard_groups').where({ organization_id: organizationId }).update({ sort_position: null });
    for (const [i, id] of ids.entries()) {
      await this.db('dashboard_groups').where({ organization_id: organizationId, id }).update({ sort_position: i });
    }
  }

  async delete(organizationId: string, id: string): Promise<boolean> {
    return (await this.visible(organizationId).where({ id }).delete()) > 0;
  }
}
