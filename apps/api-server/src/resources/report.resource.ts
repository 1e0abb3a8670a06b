import type { Report } from '@sightline/domain';
import { defineResource, type ResourceRecord } from '@sightline/jsonapi';

/** `reports` (contract §3.7). */
export const reportResource = defineResource({
  type: 'reports',
  attributes: [
    'name', 'description', 'sql_query', 'r_query', 'r_query_enabled', 'data_refresh_rate', 'data_refresh_anchor_time', 'chart_configuration',
    'download_actions_enabled', 'data_download_enabled', 'maximize_action_enabled', 'refresh_enabled', 'unused_filters_warning_enabled',
    'unlimited_csv_export_enabled', 'default_page_width', 'default_page_height', 'display_name_as_title', 'attribution', 'no_data_message',
    'query_error', 'created_at', 'updated_at', 'row', 'column', 'width', 'height',
  ],
  relationships: {
    dashboard: { type: 'dashboards', many: false },
    datasource: { type: 'datasources', many: false },
  },
});

export function presentReport(r: Report): ResourceRecord {
  return {
    id: r.id,
    attributes: {
      name: r.name,
      description: r.description,
      sql_query: r.sqlQuery,
      r_query: r.rQuery,
      r_query_enabled: r.rQueryEnabled,
      data_refresh_rate: r.dataRefreshRate,
      data_refresh_anchor_time: r.dataRefreshAnchorTime,
      chart_configuration: r.chartConfiguration,
      download_actions_enabled: r.downloadActionsEnabled,
      data_download_enabled: r.dataDownloadEnabled,
      maximize_action_enabled: r.maximizeActionEnabled,
      refresh_enabled: r.refreshEnabled,
      unused_filters_warning_enabled: r.unusedFiltersWarningEnabled,
      unlimited_csv_export_enabled: r.unlimitedCsvExportEnabled,
      default_page_width: r.defaultPageWidth,
      default_page_height: r.defaultPageHeight,
      display_name_as_title: r.displayNameAsTitle,
      attribution: r.attribution,
      no_data_message: r.noDataMessage,
      query_error: r.queryError,
      created_at: r.createdAt.toISOString(),
      updated_at: r.updatedAt.toISOString(),
      row: r.row,
      column: r.column,
      width: r.width,
      height: r.height,
    },
    relationships: { dashboard: r.dashboardId, datasource: r.datasourceId },
  };
}
