import type { CreateInputOf, NewRecordOf, PatchOf, RecordOf, RowOf, UpdateInputOf } from '../fields/index.js';
import type { AggregationOption } from '../query/query.types.js';
import type { dashboardFields } from './dashboard.fields.js';

/** Dashboard time zone handling (contract TimeZoneConfig). */
export interface TimeZoneConfig {
  type: 'disabled' | 'organization' | 'fixed' | 'input';
  /** Only for type `fixed`. */
  fixedTimeZone?: string;
  /** Only for type `input`: the zones a viewer may pass as `tz`. */
  allowedTimeZones?: string[];
}

export const TIME_ZONE_CONFIG_TYPES = ['disabled', 'organization', 'fixed', 'input'] as const;

/** Dashboard filter bar settings (contract DashboardFiltersConfig); every member optional. */
export interface DashboardFiltersConfiguration {
  applyImmediately?: boolean;
  /** Restricts the built-in `aggregation` filter. */
  aggregationOptions?: AggregationOption[];
  /** Filter variable names in display order. */
  filterSorting?: string[];
  hiddenParameters?: string[];
}

/** Share modes of Share Dashboard (contract row 29). */
export const SHARE_MODES = ['none', 'all_users', 'all_analysts', 'custom'] as const;
export type ShareMode = (typeof SHARE_MODES)[number];

export const COLOR_SCHEMES = ['scheme_1', 'scheme_2', 'scheme_3', 'scheme_4', 'scheme_5', 'scheme_6', 'scheme_7', 'scheme_8'] as const;
export type ColorScheme = (typeof COLOR_SCHEMES)[number];

/**
 * A dashboard (contract §3.4). Reports, filters and snippets are related through their own modules.
 * Fields: `dashboardFields`, without `published` and `layout` (the presenter computes them).
 */
export interface Dashboard extends Omit<RecordOf<typeof dashboardFields>, 'published' | 'layout'> {
  // restated so that messages and hovers name the type
  id: string;
}

/** Create Dashboard input (`defaultParameters` is refused on create). */
export type CreateDashboardInput = CreateInputOf<typeof dashboardFields>;

/** Update Dashboard input; `undefined` = unchanged. */
export type UpdateDashboardInput = UpdateInputOf<typeof dashboardFields>;

/** Create/Update Dashboard input, all optional; `undefined` = unchanged / default. */
export type DashboardInput = UpdateDashboardInput;

/** What `DashboardRepository.insert` takes. */
export type NewDashboard = NewRecordOf<typeof dashboardFields>;

/** What `DashboardRepository.update` takes. */
export type DashboardPatch = PatchOf<typeof dashboardFields>;

/** Update Dashboard Layout input (contract row 31). */
export interface DashboardLayoutInput {
  layout: Array<{ type: 'report'; id: string; row: number; column: number; width: number; height: number }>;
  /** Default: the current setting. */
  floatingEnabled?: boolean;
}

/** Row of `dashboards`. */
export interface DashboardRow extends RowOf<typeof dashboardFields> {
  id: string;
}

/** Version of the Create Dashboard Backup document format. */
export const DASHBOARD_BACKUP_FORMAT_VERSION = 1;
