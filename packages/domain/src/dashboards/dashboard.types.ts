import type { AggregationOption, InputParameters } from '../query/query.types.js';

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

/** A dashboard (contract §3.4). Reports, filters and snippets are related through their own modules. */
export interface Dashboard {
  id: string;
  organizationId: string;
  /** Owner (relationship `user`); null when created through an API key. */
  userId: string | null;
  name: string;
  description: string | null;
  timeZoneConfig: TimeZoneConfig;
  automaticUpdateEnabled: boolean;
  thumbnailEnabled: boolean;
  thumbnailImageUrl: string | null;
  thumbnailCreatedAt: Date | null;
  prewarm: boolean;
  /** Max age of cached results in minutes (reports/filters with a lower rate override it). */
  dataRefreshRate: number;
  /** `HH:MM` in the organization's time zone, or null. */
  dataRefreshAnchorTime: string | null;
  isLocked: boolean;
  /** Default input parameters; null until set with Update Dashboard. */
  defaultParameters: InputParameters | null;
  defaultPageWidth: number;
  floatingEnabled: boolean;
  colorScheme: ColorScheme;
  filtersConfiguration: DashboardFiltersConfiguration;
  shareMode: ShareMode;
  /** User groups the dashboard is shared with (existing groups only). */
  userGroupIds: string[];
  /** Dashboard groups (non-personal) the dashboard belongs to. */
  dashboardGroupIds: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** Create/Update Dashboard input; `undefined` = unchanged / default. */
export interface DashboardInput {
  name?: string;
  description?: string | null;
  timeZoneConfig?: TimeZoneConfig;
  automaticUpdateEnabled?: boolean;
  thumbnailEnabled?: boolean;
  prewarm?: boolean;
  dataRefreshRate?: number;
  dataRefreshAnchorTime?: string | null;
  isLocked?: boolean;
  /** Update only (422 on create). */
  defaultParameters?: InputParameters | null;
  defaultPageWidth?: number;
  colorScheme?: ColorScheme;
  filtersConfiguration?: DashboardFiltersConfiguration;
}

/** Update Dashboard Layout input (contract row 31). */
export interface DashboardLayoutInput {
  layout: Array<{ type: 'report'; id: string; row: number; column: number; width: number; height: number }>;
  /** Default: the current setting. */
  floatingEnabled?: boolean;
}

/** Row of `dashboards`. */
export interface DashboardRow {
  id: string;
  organization_id: string;
  user_id: string | null;
  name: string;
  description: string | null;
  time_zone_config: { type: TimeZoneConfig['type']; fixed_time_zone?: string; allowed_time_zones?: string[] };
  automatic_update_enabled: boolean;
  thumbnail_enabled: boolean;
  thumbnail_image_url: string | null;
  thumbnail_created_at: Date | null;
  prewarm: boolean;
  data_refresh_rate: number;
  data_refresh_anchor_time: string | null;
  is_locked: boolean;
  default_parameters: InputParameters | null;
  default_page_width: number;
  floating_enabled: boolean;
  color_scheme: ColorScheme;
  filters_configuration: { apply_immediately?: boolean; aggregation_options?: AggregationOption[]; filter_sorting?: string[]; hidden_parameters?: string[] };
  share_mode: ShareMode;
  created_at: Date;
  updated_at: Date;
}

/** Version of the Create Dashboard Backup document format. */
export const DASHBOARD_BACKUP_FORMAT_VERSION = 1;
