import type { Dashboard, DashboardRelations, Principal } from '@sightline/domain';
import { defineResource, type ResourceRecord } from '@sightline/jsonapi';

/** `dashboards` (contract §3.4). */
export const dashboardResource = defineResource({
  type: 'dashboards',
  attributes: [
    'name', 'description', 'time_zone_config', 'automatic_update_enabled', 'thumbnail_enabled', 'thumbnail_image_url', 'thumbnail_created_at',
    'prewarm', 'published', 'data_refresh_rate', 'data_refresh_anchor_time', 'is_locked', 'default_parameters', 'default_page_width', 'layout',
    'floating_enabled', 'color_scheme', 'filters_configuration', 'created_at', 'updated_at',
  ],
  relationships: {
    reports: { type: 'reports', many: true },
    filters: { type: 'filters', many: true },
    sql_snippets: { type: 'sql_snippets', many: true },
    dashboard_groups: { type: 'dashboard_groups', many: true },
    dashboard_sharing_links: { type: 'dashboard_sharing_links', many: true },
    user: { type: 'users', many: false },
    user_groups: { type: 'user_groups', many: true },
  },
});

export { dashboardSharingLinkResource } from './dashboard-sharing-link.resource.js';

/** Who may see the `user`/`user_groups` relationships and includes (contract §1.3). */
export function canSeeDashboardUsers(principal: Principal): boolean {
  return principal.hasAny('View Users', 'Manage Users', 'Manage Dashboards');
}

/** Who may see `dashboard_sharing_links` (contract §1.3). */
export function canSeeSharingLinks(principal: Principal): boolean {
  return principal.has('Manage Dashboards');
}

/** Relationships this key may not see. */
export function dashboardOmissions(principal: Principal): string[] {
  const omit: string[] = [];
  if (!canSeeSharingLinks(principal)) omit.push('dashboard_sharing_links');
  if (!canSeeDashboardUsers(principal)) omit.push('user', 'user_groups');
  return omit;
}

/** Presents a dashboard with the relations the key may see (`layout` lists the visible reports). */
export function presentDashboard(d: Dashboard, relations: DashboardRelations): ResourceRecord {
  const tz = d.timeZoneConfig;
  const fc = d.filtersConfiguration;
  return {
    id: d.id,
    attributes: {
      name: d.name,
      description: d.description,
      time_zone_config: {
        type: tz.type,
        ...(tz.fixedTimeZone !== undefined ? { fixed_time_zone: tz.fixedTimeZone } : {}),
        ...(tz.allowedTimeZones !== undefined ? { allowed_time_zones: tz.allowedTimeZones } : {}),
      },
      automatic_update_enabled: d.automaticUpdateEnabled,
      thumbnail_enabled: d.thumbnailEnabled,
      thumbnail_image_url: d.thumbnailImageUrl,
      thumbnail_created_at: d.thumbnailCreatedAt?.toISOString() ?? null,
      prewarm: d.prewarm,
      published: d.shareMode !== 'none',
      data_refresh_rate: d.dataRefreshRate,
      data_refresh_anchor_time: d.dataRefreshAnchorTime,
      is_locked: d.isLocked,
      default_parameters: d.defaultParameters,
      default_page_width: d.defaultPageWidth,
      layout: relations.reports.map((r) => ({ type: 'report', id: r.id, row: r.row, column: r.column, width: r.width, height: r.height })),
      floating_enabled: d.floatingEnabled,
      color_scheme: d.colorScheme,
      filters_configuration: {
        ...(fc.applyImmediately !== undefined ? { apply_immediately: fc.applyImmediately } : {}),
        ...(fc.aggregationOptions !== undefined ? { aggregation_options: fc.aggregationOptions } : {}),
        ...(fc.filterSorting !== undefined ? { filter_sorting: fc.filterSorting } : {}),
        ...(fc.hiddenParameters !== undefined ? { hidden_parameters: fc.hiddenParameters } : {}),
      },
      created_at: d.createdAt.toISOString(),
      updated_at: d.updatedAt.toISOString(),
    },
    relationships: {
      reports: relations.reportIds,
      filters: relations.filterIds,
      sql_snippets: relations.sqlSnippetIds,
      dashboard_groups: relations.dashboardGroupIds,
      dashboard_sharing_links: relations.sharingLinkIds,
      user: relations.userId,
      user_groups: relations.userGroupIds,
    },
  };
}
