import { dashboardScheduleFields, type DashboardSchedule } from '@sightline/domain';
import { defineFieldResource, type ResourceRecord } from '@sightline/jsonapi';

/** `dashboard_schedules` (contract §3.6): attributes and relationships from `dashboardScheduleFields`. */
export const dashboardScheduleResource = defineFieldResource({ type: 'dashboard_schedules', fields: dashboardScheduleFields });

export function presentDashboardSchedule(s: DashboardSchedule): ResourceRecord {
  return dashboardScheduleResource.present(s);
}
