/** A report on a dashboard (contract §3.7). */
export interface Report {
  id: string;
  organizationId: string;
  dashboardId: string;
  datasourceId: string;
  name: string;
  description: string | null;
  sqlQuery: string | null;
  rQuery: string | null;
  rQueryEnabled: boolean;
  /** Own max age in minutes; null = the dashboard's rate applies. */
  dataRefreshRate: number | null;
  /** Own anchor time `HH:MM`; null = the dashboard's applies. */
  dataRefreshAnchorTime: string | null;
  /** Opaque chart settings (read-only in the API). */
  chartConfiguration: Record<string, unknown>;
  downloadActionsEnabled: boolean;
  dataDownloadEnabled: boolean;
  maximizeActionEnabled: boolean;
  refreshEnabled: boolean;
  unusedFiltersWarningEnabled: boolean;
  unlimitedCsvExportEnabled: boolean;
  defaultPageWidth: number;
  defaultPageHeight: number;
  displayNameAsTitle: boolean;
  attribution: string | null;
  noDataMessage: string | null;
  /** Last query error message (set by the read path), or null. */
  queryError: string | null;
  /** Grid position (1-based row/column, 12 columns). */
  row: number;
  column: number;
  width: number;
  height: number;
  createdAt: Date;
  updatedAt: Date;
}

/** Create/Update Report input; `undefined` = unchanged / default. */
export interface ReportInput {
  name?: string;
  description?: string | null;
  sqlQuery?: string | null;
  rQuery?: string | null;
  rQueryEnabled?: boolean;
  dataRefreshRate?: number | null;
  dataRefreshAnchorTime?: string | null;
  downloadActionsEnabled?: boolean;
  dataDownloadEnabled?: boolean;
  maximizeActionEnabled?: boolean;
  refreshEnabled?: boolean;
  unusedFiltersWarningEnabled?: boolean;
  unlimitedCsvExportEnabled?: boolean;
  defaultPageWidth?: number;
  defaultPageHeight?: number;
  displayNameAsTitle?: boolean;
  attribution?: string | null;
  noDataMessage?: string | null;
  dashboardId?: string;
  datasourceId?: string;
  /** Create only: initial size (the position is chosen automatically). */
  width?: number;
  height?: number;
}

/** Default size of a new report when none is given. */
export const DEFAULT_REPORT_WIDTH = 6;
export const DEFAULT_REPORT_HEIGHT = 6;

/** Row of `reports`. */
export interface ReportRow {
  id: string;
  organization_id: string;
  dashboard_id: string;
  datasource_id: string;
  name: string;
  description: string | null;
  sql_query: string | null;
  r_query: string | null;
  r_query_enabled: boolean;
  data_refresh_rate: number | null;
  data_refresh_anchor_time: string | null;
  chart_configuration: Record<string, unknown>;
  download_actions_enabled: boolean;
  data_download_enabled: boolean;
  maximize_action_enabled: boolean;
  refresh_enabled: boolean;
  unused_filters_warning_enabled: boolean;
  unlimited_csv_export_enabled: boolean;
  default_page_width: number;
  default_page_height: number;
  display_name_as_title: boolean;
  attribution: string | null;
  no_data_message: string | null;
  query_error: string | null;
  row: number;
  column: number;
  width: number;
  height: number;
  created_at: Date;
  updated_at: Date;
}
