/** A (non-personal) dashboard group (contract §3.5). */
export interface DashboardGroup {
  id: string;
  organizationId: string;
  name: string;
  description: string | null;
  /** Explicit position from Sort Dashboard Groups (0-based), or null (sorted by name after the ordered ones). */
  sortPosition: number | null;
  /** Member dashboards by name. */
  dashboardIds: string[];
  createdAt: Date;
  updatedAt: Date;
}

export interface DashboardGroupInput {
  name?: string;
  description?: string | null;
  /** Replaces the member dashboards. */
  dashboardIds?: string[];
}

/** Row of `dashboard_groups`. */
export interface DashboardGroupRow {
  id: string;
  organization_id: string;
  owner_user_id: string | null;
  name: string;
  description: string | null;
  sort_position: number | null;
  created_at: Date;
  updated_at: Date;
}
