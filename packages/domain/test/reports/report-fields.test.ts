import { describe, expect, it } from '@jest/globals';
import { reportFields, type Report } from '../../src/reports/index.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
type Flat<T> = { [K in keyof T]: T[K] };
function assertType<_T extends true>(): void {}

describe('reportFields', () => {
  it('infers the Report domain type that was written by hand before the field table', () => {
    assertType<Equal<Flat<Report>, {
      id: string; organizationId: string; dashboardId: string; datasourceId: string; name: string; description: string | null;
      sqlQuery: string | null; rQuery: string | null; rQueryEnabled: boolean; dataRefreshRate: number | null; dataRefreshAnchorTime: string | null;
      chartConfiguration: Record<string, unknown>; downloadActionsEnabled: boolean; dataDownloadEnabled: boolean; maximizeActionEnabled: boolean;
      refreshEnabled: boolean; unusedFiltersWarningEnabled: boolean; unlimitedCsvExportEnabled: boolean; defaultPageWidth: number;
      defaultPageHeight: number; displayNameAsTitle: boolean; attribution: string | null; noDataMessage: string | null; queryError: string | null;
      row: number; column: number; width: number; height: number; createdAt: Date; updatedAt: Date;
    }>>();
  });

  it('keeps the contract attributes, relationships and backup members in their order', () => {
    expect(reportFields.attributes).toEqual([
      'name', 'description', 'sql_query', 'r_query', 'r_query_enabled', 'data_refresh_rate', 'data_refresh_anchor_time', 'chart_configuration',
      'download_actions_enabled', 'data_download_enabled', 'maximize_action_enabled', 'refresh_enabled', 'unused_filters_warning_enabled',
      'unlimited_csv_export_enabled', 'default_page_width', 'default_page_height', 'display_name_as_title', 'attribution', 'no_data_message',
      'query_error', 'created_at', 'updated_at', 'row', 'column', 'width', 'height',
    ]);
    expect(reportFields.relationships).toEqual({ dashboard: { type: 'dashboards', many: false }, datasource: { type: 'datasources', many: false } });
    const now = new Date();
    const report: Report = {
      ...reportFields.prepareCreate({ name: 'R', dashboardId: 'd', datasourceId: 's' }),
      id: 'r', organizationId: 'o', chartConfiguration: { type: 'bar' }, queryError: 'boom', row: 1, column: 1, createdAt: now, updatedAt: now,
    };
    expect(Object.keys(reportFields.toBackup(report))).toEqual([
      'id', 'datasource_id', 'name', 'description', 'sql_query', 'r_query', 'r_query_enabled', 'data_refresh_rate', 'data_refresh_anchor_time',
      'chart_configuration', 'download_actions_enabled', 'data_download_enabled', 'maximize_action_enabled', 'refresh_enabled',
      'unused_filters_warning_enabled', 'unlimited_csv_export_enabled', 'default_page_width', 'default_page_height', 'display_name_as_title',
      'attribution', 'no_data_message', 'row', 'column', 'width', 'height',
    ]);
    expect(reportFields.toBackup(report)).toMatchObject({ chart_configuration: { type: 'bar' }, width: 6, height: 6, default_page_width: 800 });
  });
});
