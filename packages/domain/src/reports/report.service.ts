import type { Knex } from 'knex';
import type { Principal } from '../api-keys/permissions.js';
import { withTransaction } from '../db/db.js';
import { translatePgError } from '../db/pg-errors.js';
import type { DatasourceService } from '../datasources/datasource.service.js';
import { DashboardRepository } from '../dashboards/dashboard.repository.js';
import { DASHBOARD_MANAGE_PERMISSION, DASHBOARD_VIEW_PERMISSIONS } from '../dashboards/dashboard.permissions.js';
import { findFreePosition } from '../dashboards/layout.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import { newId } from '../ids.js';
import { ReportRepository, type ReportInsert, type ReportPatch } from './report.repository.js';
import { DEFAULT_REPORT_HEIGHT, DEFAULT_REPORT_WIDTH, type Report, type ReportInput } from './report.types.js';

export interface ReportServiceDeps {
  db: Knex;
  datasources: DatasourceService;
}

/** Raised for any change to a locked dashboard or its content (contract §4.4 rule 24). */
export function dashboardLockedError(dashboardId: string): ValidationError {
  return new ValidationError(`Dashboard ${dashboardId} is locked; unlock it first`, { code: 'dashboard_locked' });
}

function patchOf(input: ReportInput): ReportPatch {
  const p: ReportPatch = {};
  if (input.name !== undefined) p.name = input.name;
  if (input.description !== undefined) p.description = input.description;
  if (input.sqlQuery !== undefined) p.sql_query = input.sqlQuery;
  if (input.rQuery !== undefined) p.r_query = input.rQuery;
  if (input.rQueryEnabled !== undefined) p.r_query_enabled = input.rQueryEnabled;
  if (input.dataRefreshRate !== undefined) p.data_refresh_rate = input.dataRefreshRate;
  if (input.dataRefreshAnchorTime !== undefined) p.data_refresh_anchor_time = input.dataRefreshAnchorTime;
  if (input.downloadActionsEnabled !== undefined) p.download_actions_enabled = input.downloadActionsEnabled;
  if (input.dataDownloadEnabled !== undefined) p.data_download_enabled = input.dataDownloadEnabled;
  if (input.maximizeActionEnabled !== undefined) p.maximize_action_enabled = input.maximizeActionEnabled;
  if (input.refreshEnabled !== undefined) p.refresh_enabled = input.refreshEnabled;
  if (input.unusedFiltersWarningEnabled !== undefined) p.unused_filters_warning_enabled = input.unusedFiltersWarningEnabled;
  if (input.unlimitedCsvExportEnabled !== undefined) p.unlimited_csv_export_enabled = input.unlimitedCsvExportEnabled;
  if (input.defaultPageWidth !== undefined) p.default_page_width = input.defaultPageWidth;
  if (input.defaultPageHeight !== undefined) p.default_page_height = input.defaultPageHeight;
  if (input.displayNameAsTitle !== undefined) p.display_name_as_title = input.displayNameAsTitle;
  if (input.attribution !== undefined) p.attribution = input.attribution;
  if (input.noDataMessage !== undefined) p.no_data_message = input.noDataMessage;
  if (input.datasourceId !== undefined) p.datasource_id = input.datasourceId;
  return p;
}

/**
 * Reports (contract rows 45–49, 51). Reads need View or Manage Dashboards and only show reports whose
 * datasource the key can use; writes need Manage Dashboards, access to the report's (old and new)
 * datasource, and an unlocked dashboard.
 */
export class ReportService {
  constructor(private readonly deps: ReportServiceDeps) {}

  /** List Reports: every report the key can see (datasource scope), by dashboard then grid position. */
  list(principal: Principal): Promise<Report[]> {
    principal.requireAny(...DASHBOARD_VIEW_PERMISSIONS);
    return new ReportRepository(this.deps.db).list(principal.organizationId, principal.datasourceScope(...DASHBOARD_VIEW_PERMISSIONS));
  }

  /**
   * Get Report for a key.
   * @throws NotFoundError when unknown, of another organization, or on a datasource the key cannot use
   */
  async get(principal: Principal, id: string): Promise<Report> {
    principal.requireAny(...DASHBOARD_VIEW_PERMISSIONS);
    const report = await new ReportRepository(this.deps.db).get(principal.organizationId, id);
    if (!principal.canUseDatasource(report.datasourceId, ...DASHBOARD_VIEW_PERMISSIONS)) throw new NotFoundError(`Report ${id} not found`, { code: 'report_not_found' });
    return report;
  }

  /** The reports of one dashboard that the key can see, in grid order. */
  async listVisibleByDashboard(principal: Principal, dashboardId: string): Promise<Report[]> {
    const all = await this.listByDashboard(principal.organizationId, dashboardId);
    return all.filter((r) => principal.canUseDatasource(r.datasourceId, ...DASHBOARD_VIEW_PERMISSIONS));
  }

  /** Internal (read path): a report by id without permission checks. @throws NotFoundError */
  getById(organizationId: string, id: string, db: Knex = this.deps.db): Promise<Report> {
    return new ReportRepository(db).get(organizationId, id);
  }

  /** Internal: a report by id, or undefined. */
  findById(organizationId: string, id: string, db: Knex = this.deps.db): Promise<Report | undefined> {
    return new ReportRepository(db).find(organizationId, id);
  }

  /** Internal (read path): every report of a dashboard in grid order (top to bottom, left to right), no permission filter. */
  listByDashboard(organizationId: string, dashboardId: string, db: Knex = this.deps.db): Promise<Report[]> {
    return new ReportRepository(db).listByDashboard(organizationId, dashboardId);
  }

  /** Internal (read path): records or clears a report's last query error (`query_error`). */
  setQueryError(organizationId: string, id: string, message: string | null): Promise<void> {
    return new ReportRepository(this.deps.db).setQueryError(organizationId, id, message);
  }

  private requireDatasourceAccess(principal: Principal, datasourceId: string, pointer = '/data/relationships/datasource'): void {
    if (!principal.canUseDatasource(datasourceId, DASHBOARD_MANAGE_PERMISSION)) {
      throw new ValidationError(`Datasource ${datasourceId} not found`, { code: 'datasource_not_found', source: { pointer } });
    }
  }

  private async checkDatasourceExists(db: Knex, organizationId: string, datasourceId: string): Promise<void> {
    if ((await this.deps.datasources.unknownIds(db, organizationId, [datasourceId])).length) {
      throw new ValidationError(`Datasource ${datasourceId} not found`, { code: 'datasource_not_found', source: { pointer: '/data/relationships/datasource' } });
    }
  }

  /** Locks the dashboard row and checks that it exists (422: it is a relationship) and is unlocked. */
  private async lockDashboard(trx: Knex, organizationId: string, dashboardId: string, pointer = '/data/relationships/dashboard'): Promise<void> {
    const repo = new DashboardRepository(trx);
    await repo.lockRow(organizationId, dashboardId).catch((err: unknown) => {
      if (err instanceof NotFoundError) throw new ValidationError(`Dashboard ${dashboardId} not found`, { code: 'dashboard_not_found', source: { pointer } });
      throw err;
    });
    const d = await repo.get(organizationId, dashboardId);
    if (d.isLocked) throw dashboardLockedError(dashboardId);
  }

  /**
   * Create Report: on an unlocked dashboard, at the first free grid position for its width × height
   * (default 6 × 6).
   * @throws ForbiddenError (no Manage Dashboards), ValidationError (unknown/inaccessible dashboard or datasource, locked dashboard)
   */
  async create(principal: Principal, input: ReportInput & { name: string; dashboardId: string; datasourceId: string }): Promise<Report> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    this.requireDatasourceAccess(principal, input.datasourceId);
    return withTransaction(this.deps.db, async (trx) => {
      await this.checkDatasourceExists(trx, principal.organizationId, input.datasourceId);
      await this.lockDashboard(trx, principal.organizationId, input.dashboardId);
      const repo = new ReportRepository(trx);
      const width = input.width ?? DEFAULT_REPORT_WIDTH;
      const height = input.height ?? DEFAULT_REPORT_HEIGHT;
      const pos = findFreePosition(await repo.listByDashboard(principal.organizationId, input.dashboardId), width, height);
      const created = await repo.insert({
        name: input.name,
        description: null,
        sql_query: null,
        r_query: null,
        r_query_enabled: false,
        data_refresh_rate: null,
        data_refresh_anchor_time: null,
        download_actions_enabled: true,
        data_download_enabled: true,
        maximize_action_enabled: true,
        refresh_enabled: true,
        unused_filters_warning_enabled: false,
        unlimited_csv_export_enabled: false,
        default_page_width: 800,
        default_page_height: 600,
        display_name_as_title: true,
        attribution: null,
        no_data_message: null,
        ...patchOf(input),
        id: newId(),
        organization_id: principal.organizationId,
        dashboard_id: input.dashboardId,
        datasource_id: input.datasourceId,
        row: pos.row,
        column: pos.column,
        width,
        height,
      }).catch((err: unknown) => { throw translatePgError(err); });
      await new DashboardRepository(trx).touch(principal.organizationId, input.dashboardId);
      return created;
    });
  }

  /**
   * Update Report. Position and size change only through the dashboard layout. Moving the report to
   * another dashboard places it at a free position there (same size); both dashboards must be unlocked.
   * @throws NotFoundError, ForbiddenError, ValidationError
   */
  async update(principal: Principal, id: string, input: Omit<ReportInput, 'width' | 'height'>): Promise<Report> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    const current = await this.get(principal, id);
    if (!principal.canUseDatasource(current.datasourceId, DASHBOARD_MANAGE_PERMISSION)) throw new ForbiddenError('This API key cannot change reports of this datasource');
    if (input.datasourceId !== undefined) this.requireDatasourceAccess(principal, input.datasourceId);
    return withTransaction(this.deps.db, async (trx) => {
      if (input.datasourceId !== undefined) await this.checkDatasourceExists(trx, principal.organizationId, input.datasourceId);
      await this.lockDashboard(trx, principal.organizationId, current.dashboardId, '/data/relationships/dashboard');
      const patch = patchOf(input);
      const repo = new ReportRepository(trx);
      if (input.dashboardId !== undefined && input.dashboardId !== current.dashboardId) {
        await this.lockDashboard(trx, principal.organizationId, input.dashboardId);
        const pos = findFreePosition(await repo.listByDashboard(principal.organizationId, input.dashboardId), current.width, current.height);
        Object.assign(patch, { dashboard_id: input.dashboardId, row: pos.row, column: pos.column });
        await new DashboardRepository(trx).touch(principal.organizationId, input.dashboardId);
      }
      const updated = await repo.update(principal.organizationId, id, patch).catch((err: unknown) => { throw translatePgError(err); });
      await new DashboardRepository(trx).touch(principal.organizationId, current.dashboardId);
      return updated;
    });
  }

  /** Delete Report (dashboard must be unlocked). @throws NotFoundError, ForbiddenError, ValidationError */
  async delete(principal: Principal, id: string): Promise<void> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    const current = await this.get(principal, id);
    if (!principal.canUseDatasource(current.datasourceId, DASHBOARD_MANAGE_PERMISSION)) throw new ForbiddenError('This API key cannot delete reports of this datasource');
    await withTransaction(this.deps.db, async (trx) => {
      await this.lockDashboard(trx, principal.organizationId, current.dashboardId);
      await new ReportRepository(trx).delete(principal.organizationId, id);
      await new DashboardRepository(trx).touch(principal.organizationId, current.dashboardId);
    });
  }

  /**
   * Duplicate Report: a copy (named "<name> (copy)", same size and settings, chart configuration
   * included) on the same dashboard at the first free position. The dashboard must be unlocked.
   * @throws NotFoundError, ForbiddenError, ValidationError
   */
  async duplicate(principal: Principal, id: string): Promise<Report> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    const current = await this.get(principal, id);
    if (!principal.canUseDatasource(current.datasourceId, DASHBOARD_MANAGE_PERMISSION)) throw new ForbiddenError('This API key cannot copy reports of this datasource');
    return withTransaction(this.deps.db, async (trx) => {
      await this.lockDashboard(trx, principal.organizationId, current.dashboardId);
      const repo = new ReportRepository(trx);
      const pos = findFreePosition(await repo.listByDashboard(principal.organizationId, current.dashboardId), current.width, current.height);
      const copy = await repo.insert({
        ...reportColumns(current),
        id: newId(),
        organization_id: principal.organizationId,
        dashboard_id: current.dashboardId,
        name: `${current.name} (copy)`,
        row: pos.row,
        column: pos.column,
      });
      await new DashboardRepository(trx).touch(principal.organizationId, current.dashboardId);
      return copy;
    });
  }
}

/** Every stored column of a report except ids and timestamps (copies, backups). */
export function reportColumns(r: Report): Omit<ReportInsert, 'id' | 'organization_id' | 'dashboard_id'> {
  return {
    datasource_id: r.datasourceId,
    name: r.name,
    description: r.description,
    sql_query: r.sqlQuery,
    r_query: r.rQuery,
    r_query_enabled: r.rQueryEnabled,
    data_refresh_rate: r.dataRefreshRate,
    data_refresh_anchor_time: r.dataRefreshAnchorTime,
    chart_configuration: JSON.stringify(r.chartConfiguration ?? {}),
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
    row: r.row,
    column: r.column,
    width: r.width,
    height: r.height,
  };
}
