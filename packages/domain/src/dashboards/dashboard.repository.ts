import type { Knex } from 'knex';
import { NotFoundError } from '../errors.js';
import type { Dashboard, DashboardRow } from './dashboard.types.js';

function toDashboard(row: DashboardRow, userGroupIds: string[], dashboardGroupIds: string[]): Dashboard {
  const tz = row.time_zone_config ?? { type: 'disabled' };
  const fc = row.filters_configuration ?? {};
  return {
    id: row.id,
    organizationId: row.organization_id,
    userId: row.user_id,
    name: row.name,
    description: row.description,
    timeZoneConfig: {
      type: tz.type,
      ...(tz.fixed_time_zone !== undefined ? { fixedTimeZone: tz.fixed_time_zone } : {}),
      ...(tz.allowed_time_zones !== undefined ? { allowedTimeZones: tz.allowed_time_zones } : {}),
    },
    automaticUpdateEnabled: row.automatic_update_enabled,
    thumbnailEnabled: row.thumbnail_enabled,
    thumbnailImageUrl: row.thumbnail_image_url,
    thumbnailCreatedAt: row.thumbnail_created_at,
    prewarm: row.prewarm,
    dataRefreshRate: Number(row.data_refresh_rate),
    dataRefreshAnchorTime: row.data_refresh_anchor_time,
    isLocked: row.is_locked,
    defaultParameters: row.default_parameters,
    defaultPageWidth: row.default_page_width,
    floatingEnabled: row.floating_enabled,
    colorScheme: row.color_scheme,
    filtersConfiguration: {
      ...(fc.apply_immediately !== undefined ? { applyImmediately: fc.apply_immediately } : {}),
      ...(fc.aggregation_options !== undefined ? { aggregationOptions: fc.aggregation_options } : {}),
      ...(fc.filter_sorting !== undefined ? { filterSorting: fc.filter_sorting } : {}),
      ...(fc.hidden_parameters !== undefined ? { hiddenParameters: fc.hidden_parameters } : {}),
    },
    shareMode: row.share_mode,
    userGroupIds,
    dashboardGroupIds,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Row values of a dashboard as stored (jsonb members snake_case, as in the API). */
export function dashboardColumns(d: Partial<Omit<Dashboard, 'id' | 'organizationId' | 'createdAt' | 'updatedAt' | 'userGroupIds' | 'dashboardGroupIds'>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (d.userId !== undefined) out.user_id = d.userId;
  if (d.name !== undefined) out.name = d.name;
  if (d.description !== undefined) out.description = d.description;
  if (d.timeZoneConfig !== undefined) {
    const tz = d.timeZoneConfig;
    out.time_zone_config = JSON.stringify({
      type: tz.type,
      ...(tz.fixedTimeZone !== undefined ? { fixed_time_zone: tz.fixedTimeZone } : {}),
      ...(tz.allowedTimeZones !== undefined ? { allowed_time_zones: tz.allowedTimeZones } : {}),
    });
  }
  if (d.automaticUpdateEnabled !== undefined) out.automatic_update_enabled = d.automaticUpdateEnabled;
  if (d.thumbnailEnabled !== undefined) out.thumbnail_enabled = d.thumbnailEnabled;
  if (d.thumbnailImageUrl !== undefined) out.thumbnail_image_url = d.thumbnailImageUrl;
  if (d.thumbnailCreatedAt !== undefined) out.thumbnail_created_at = d.thumbnailCreatedAt;
  if (d.prewarm !== undefined) out.prewarm = d.prewarm;
  if (d.dataRefreshRate !== undefined) out.data_refresh_rate = d.dataRefreshRate;
  if (d.dataRefreshAnchorTime !== undefined) out.data_refresh_anchor_time = d.dataRefreshAnchorTime;
  if (d.isLocked !== undefined) out.is_locked = d.isLocked;
  if (d.defaultParameters !== undefined) out.default_parameters = d.defaultParameters === null ? null : JSON.stringify(d.defaultParameters);
  if (d.defaultPageWidth !== undefined) out.default_page_width = d.defaultPageWidth;
  if (d.floatingEnabled !== undefined) out.floating_enabled = d.floatingEnabled;
  if (d.colorScheme !== undefined) out.color_scheme = d.colorScheme;
  if (d.filtersConfiguration !== undefined) {
    const fc = d.filtersConfiguration;
    out.filters_configuration = JSON.stringify({
      ...(fc.applyImmediately !== undefined ? { apply_immediately: fc.applyImmediately } : {}),
      ...(fc.aggregationOptions !== undefined ? { aggregation_options: fc.aggregationOptions } : {}),
      ...(fc.filterSorting !== undefined ? { filter_sorting: fc.filterSorting } : {}),
      ...(fc.hiddenParameters !== undefined ? { hidden_parameters: fc.hiddenParameters } : {}),
    });
  }
  if (d.shareMode !== undefined) out.share_mode = d.shareMode;
  return out;
}

/** SQL for `dashboards`, `dashboard_user_groups` and the dashboard side of `dashboard_group_members`. */
export class DashboardRepository {
  constructor(private readonly db: Knex) {}

  private async hydrate(rows: DashboardRow[]): Promise<Dashboard[]> {
    if (!rows.length) return [];
    const ids = rows.map((r) => r.id);
    // Joins drop links to groups that no longer exist (the table has no FK to user_groups; see the migration).
    const [shares, groups] = await Promise.all([
      this.db('dashboard_user_groups as s').join('user_groups as g', 'g.id', 's.user_group_id')
        .whereIn('s.dashboard_id', ids).orderBy(['s.dashboard_id', 'g.name', 'g.id']).select<{ dashboard_id: string; user_group_id: string }[]>('s.dashboard_id', 's.user_group_id'),
      this.db('dashboard_group_members as m').join('dashboard_groups as g', 'g.id', 'm.dashboard_group_id')
        .whereIn('m.dashboard_id', ids).whereNull('g.owner_user_id').orderBy(['m.dashboard_id', 'g.name', 'g.id']).select<{ dashboard_id: string; dashboard_group_id: string }[]>('m.dashboard_id', 'm.dashboard_group_id'),
    ]);
    const shareMap = new Map<string, string[]>();
    for (const s of shares) shareMap.set(s.dashboard_id, [...(shareMap.get(s.dashboard_id) ?? []), s.user_group_id]);
    const groupMap = new Map<string, string[]>();
    for (const g of groups) groupMap.set(g.dashboard_id, [...(groupMap.get(g.dashboard_id) ?? []), g.dashboard_group_id]);
    return rows.map((r) => toDashboard(r, shareMap.get(r.id) ?? [], groupMap.get(r.id) ?? []));
  }

  /** Every dashboard of the organization by name. */
  async list(organizationId: string): Promise<Dashboard[]> {
    return this.hydrate(await this.db<DashboardRow>('dashboards').where({ organization_id: organizationId }).orderBy(['name', 'id']));
  }

  async listByIds(organizationId: string, ids: readonly string[]): Promise<Dashboard[]> {
    if (!ids.length) return [];
    return this.hydrate(await this.db<DashboardRow>('dashboards').where({ organization_id: organizationId }).whereIn('id', [...ids]).orderBy(['name', 'id']));
  }

  /** Ids among `ids` that are not dashboards of the organization. */
  async unknownIds(organizationId: string, ids: readonly string[]): Promise<string[]> {
    if (!ids.length) return [];
    const found = new Set((await this.db('dashboards').where({ organization_id: organizationId }).whereIn('id', [...ids]).select<{ id: string }[]>('id')).map((r) => r.id));
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

  async insert(id: string, organizationId: string, columns: Record<string, unknown>): Promise<void> {
    await this.db('dashboards').insert({ ...columns, id, organization_id: organizationId });
  }

  async update(organizationId: string, id: string, columns: Record<string, unknown>): Promise<void> {
    const n = await this.db('dashboards').where({ organization_id: organizationId, id }).update({ ...columns, updated_at: this.db.fn.now() });
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
      await this.db('dashboard_user_groups').insert(userGroupIds.map((g) => ({ organization_id: organizationId, dashboard_id: dashboardId, user_group_id: g })));
    }
  }

  /** Adds a dashboard to (non-personal) dashboard groups. */
  async addToGroups(organizationId: string, dashboardId: string, groupIds: readonly string[]): Promise<void> {
    if (!groupIds.length) return;
    await this.db('dashboard_group_members')
      .insert(groupIds.map((g) => ({ organization_id: organizationId, dashboard_group_id: g, dashboard_id: dashboardId })))
      .onConflict(['dashboard_group_id', 'dashboard_id']).ignore();
  }

  /** Ids of the locked dashboards among `ids`. */
  async lockedIds(organizationId: string, ids: readonly string[]): Promise<string[]> {
    if (!ids.length) return [];
    return (await this.db('dashboards').where({ organization_id: organizationId, is_locked: true }).whereIn('id', [...ids]).select<{ id: string }[]>('id')).map((r) => r.id);
  }

  /** Every locked dashboard id of the organization. */
  async allLockedIds(organizationId: string): Promise<string[]> {
    return (await this.db('dashboards').where({ organization_id: organizationId, is_locked: true }).select<{ id: string }[]>('id')).map((r) => r.id);
  }
}
