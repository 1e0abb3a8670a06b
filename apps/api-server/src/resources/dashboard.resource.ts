import { dashboardFields, type Dashboard, type DashboardRelations, type Principal } from '@sightline/domain';
import { defineFieldResource, type ResourceRecord } from '@sightline/jsonapi';

/**
 * `dashboards` (contract §3.4): attributes from `dashboardFields`; the relationships depend on the
 * caller's permissions (`DashboardService.relations`) and are filled by `presentDashboard`.
 */
export const dashboardResource = defineFieldResource({
  type: 'dashboards',
  fields: dashboardFields,
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
  const record = dashboardResource.present({
    ...d,
    published: d.shareMode !== 'none',
    layout: relations.reports.map((r) => ({ type: 'report', id: r.id, row: r.row, column: r.column, width: r.width, height: r.height })),
  });
  return {
    ...record,
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
