import type { DashboardGroup } from '@sightline/domain';
import { defineResource, type ResourceRecord } from '@sightline/jsonapi';

/** `dashboard_groups` (contract §3.5). */
export const dashboardGroupResource = defineResource({
  type: 'dashboard_groups',
  attributes: ['name', 'description', 'created_at', 'updated_at'],
  relationships: { dashboards: { type: 'dashboards', many: true } },
});

export function presentDashboardGroup(g: DashboardGroup): ResourceRecord {
  return {
    id: g.id,
    attributes: { name: g.name, description: g.description, created_at: g.createdAt.toISOString(), updated_at: g.updatedAt.toISOString() },
    relationships: { dashboards: g.dashboardIds },
  };
}
