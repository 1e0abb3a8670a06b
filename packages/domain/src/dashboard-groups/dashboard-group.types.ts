import type { CreateInputOf, NewRecordOf, PatchOf, RecordOf, RowOf, UpdateInputOf } from '../fields/index.js';
import type { dashboardGroupFields } from './dashboard-group.fields.js';

/** A (non-personal) dashboard group (contract §3.5). Fields: `dashboardGroupFields`. */
export interface DashboardGroup extends RecordOf<typeof dashboardGroupFields> {
  // restated so that messages and hovers name the type (an empty extension would print its base)
  id: string;
}

/** Create Dashboard Group input (`dashboardIds` sets the members). */
export type CreateDashboardGroupInput = CreateInputOf<typeof dashboardGroupFields>;

/** Update Dashboard Group input; `dashboardIds` replaces the members; `undefined` = unchanged. */
export type UpdateDashboardGroupInput = UpdateInputOf<typeof dashboardGroupFields>;

/** Row of `dashboard_groups` (the columns the field table maps). */
export interface DashboardGroupRow extends RowOf<typeof dashboardGroupFields> {
  id: string;
}

/** What `DashboardGroupRepository.insert` takes. */
export type NewDashboardGroup = NewRecordOf<typeof dashboardGroupFields>;

/** What `DashboardGroupRepository.update` takes. */
export type DashboardGroupPatch = PatchOf<typeof dashboardGroupFields>;
