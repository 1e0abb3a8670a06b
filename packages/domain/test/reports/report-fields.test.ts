import { describe, expect, it } from '@jest/globals';
import { reportFields, type Report } from '../../src/reports/index.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Flat<T> = { [K in keyof T]: T[K] };
function assertType<_T extends true>(): void {}

// Pinned to what was written by hand before the field table: every field, attribute and backup member stays, with its
// type and order; new ones may be added without touching this test.
describe('reportFields', () => {
  it('infers the Report domain type (every field it had before the table, with the same types)', () => {
    assertType<Equal<Flat<Pick<Report, keyof ReportBefore>>, ReportBefore>>();
  });

  it('keeps the contract attributes, relationships and backup members in their order', () => {
    const only = (names: readonly string[], kept: readonly string[]) => names.filter((n) => kept.includes(n));
    expect(only(reportFields.attributes, ATTRIBUTES)).toEqual(ATTRIBUTES);
    expect(reportFields.relationships).toEqual({ dashboard: { type: 'dashboards', many: false }, datasource: { type: 'datasources', many: false } });
    const now = new Date();
    const report: Report = {
      ...reportFields.prepareCreate({ name: 'R', dashboardId: 'd', datasourceId: 's' }),
      id: 'r',
      organizationId: 'o',
      chartConfiguration: { type: 'bar' },
      queryError: 'boom',
      row: 1,
      column: 1,
      createdAt: now,
      updatedAt: now,
    };
    const backup = reportFields.toBackup(report);
    expect(only(Object.keys(backup), BACKUP)).toEqual(BACKUP);
    for (const name of ['organization_id', 'dashboard_id', 'query_error', 'created_at', 'updated_at']) expect(backup).not.toHaveProperty(name);
    expect(backup).toMatchObject({ chart_configuration: { type: 'bar' }, width: 6, height: 6, default_page_width: 800 });
  });
});

type ReportBefore = {
  id: string;
  organizationId: string;
  dashboardId: string;
  datasourceId: string;
  name: string;
  description: string | null;
  sqlQuery: string | null;
  rQuery: string | null;
  rQueryEnabled: boolean;
  dataRefreshRate: number | null;
  dataRefreshAnchorTime: string | null;
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
  queryError: string | null;
  row: number;
  column: number;
  width: number;
  height: number;
  createdAt: Date;
  updatedAt: Date;
};

const ATTRIBUTES = [
  'name',
  'description',
  'sql_query',
  'r_query',
  'r_query_enabled',
  'data_refresh_rate',
  'data_refresh_anchor_time',
  'chart_configuration',
  'download_actions_enabled',
  'data_download_enabled',
  'maximize_action_enabled',
  'refresh_enabled',
  'unused_filters_warning_enabled',
  'unlimited_csv_export_enabled',
  'default_page_width',
  'default_page_height',
  'display_name_as_title',
  'attribution',
  'no_data_message',
  'query_error',
  'created_at',
  'updated_at',
  'row',
  'column',
  'width',
  'height',
];
const BACKUP = [
  'id',
  'datasource_id',
  'name',
  'description',
  'sql_query',
  'r_query',
  'r_query_enabled',
  'data_refresh_rate',
  'data_refresh_anchor_time',
  'chart_configuration',
  'download_actions_enabled',
  'data_download_enabled',
  'maximize_action_enabled',
  'refresh_enabled',
  'unused_filters_warning_enabled',
  'unlimited_csv_export_enabled',
  'default_page_width',
  'default_page_height',
  'display_name_as_title',
  'attribution',
  'no_data_message',
  'row',
  'column',
  'width',
  'height',
];
