import { dashboardGroupFields, type DashboardGroup } from '@sightline/domain';
import { defineFieldResource, type ResourceRecord } from '@sightline/jsonapi';

/** `dashboard_groups` (contract §3.5): attributes and relationships from `dashboardGroupFields`. */
export const dashboardGroupResource = defineFieldResource({ type: 'dashboard_groups', fields: dashboardGroupFields });

export function presentDashboardGroup(g: DashboardGroup): ResourceRecord {
  return dashboardGroupResource.present(g);
}
