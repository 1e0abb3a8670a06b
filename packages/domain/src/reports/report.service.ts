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
import { reportFields } from './report.fields.js';
import { ReportRepository } from './report.repository.js';
import type { CreateReportInput, Report, ReportPatch, UpdateReportInput } from './report.types.js';

export interface ReportServiceDeps {
  db: Knex;
  datasources: DatasourceService;
}

/** Raised for any change to a locked dashboard or its content (contract §4.4 rule 24). */
export function dashboardLockedError(dashboardId: string): ValidationError {
  return new ValidationError(`Dashboard ${dashboardId} is locked; unlock it first`, { code: 'dashboard_locked' });
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
    if (!principal.canUseDatasource(report.datasourceId, ...DASHBOARD_VIEW_PERMISSIONS))
      throw new NotFoundError(`Report ${id} not found`, { code: 'report_not_found' });
    return report;
  }

  /** The reports of one dashboard that the key can see, in grid order. */
  async listVisibleByDashboard(principal: Principal, dashboardId: string): Promise<Report[]> {
    const all = await this.listByDashboard(principal.organizationId, dashboardId);
    return all.filter((r) => principal.canUseDatasource(r.datasourceId, ...DASHBOARD_VIEW_PERMISSIONS));
  }

  /** Internal (read path): a report by id without permission checks. @throws NotFoundError */
  getByIdUnchecked(organizationId: string, id: string, db: Knex = this.deps.db): Promise<Report> {
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
      throw new ValidationError(`Datasource ${datasourceId} not found`, {
        code: 'datasource_not_found',
        source: { pointer: '/data/relationships/datasource' },
      });
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
  async create(principal: Principal, input: CreateReportInput): Promise<Report> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    this.requireDatasourceAccess(principal, input.datasourceId);
    return withTransaction(this.deps.db, async (trx) => {
      await this.checkDatasourceExists(trx, principal.organizationId, input.datasourceId);
      await this.lockDashboard(trx, principal.organizationId, input.dashboardId);
      const repo = new ReportRepository(trx);
      const report = reportFields.prepareCreate(input);
      const pos = findFreePosition(await repo.listByDashboard(principal.organizationId, input.dashboardId), report.width, report.height);
      const created = await repo
        .insert({ ...report, id: newId(), organizationId: principal.organizationId, row: pos.row, column: pos.column })
        .catch((err: unknown) => {
          throw translatePgError(err);
        });
      await new DashboardRepository(trx).touch(principal.organizationId, input.dashboardId);
      return created;
    });
  }

  /**
   * Update Report. Position and size change only through the dashboard layout. Moving the report to
   * another dashboard places it at a free position there (same size); both dashboards must be unlocked.
   * @throws NotFoundError, ForbiddenError, ValidationError
   */
  async update(principal: Principal, id: string, input: UpdateReportInput): Promise<Report> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    const current = await this.get(principal, id);
    if (!principal.canUseDatasource(current.datasourceId, DASHBOARD_MANAGE_PERMISSION))
      throw new ForbiddenError('This API key cannot change reports of this datasource');
    if (input.datasourceId !== undefined) this.requireDatasourceAccess(principal, input.datasourceId);
    return withTransaction(this.deps.db, async (trx) => {
      if (input.datasourceId !== undefined) await this.checkDatasourceExists(trx, principal.organizationId, input.datasourceId);
      await this.lockDashboard(trx, principal.organizationId, current.dashboardId, '/data/relationships/dashboard');
      const patch: ReportPatch = reportFields.prepareUpdate(input, current);
      const repo = new ReportRepository(trx);
      if (input.dashboardId !== undefined && input.dashboardId !== current.dashboardId) {
        await this.lockDashboard(trx, principal.organizationId, input.dashboardId);
        const pos = findFreePosition(await repo.listByDashboard(principal.organizationId, input.dashboardId), current.width, current.height);
        Object.assign(patch, { row: pos.row, column: pos.column });
        await new DashboardRepository(trx).touch(principal.organizationId, input.dashboardId);
      }
      const updated = await repo.update(principal.organizationId, id, patch).catch((err: unknown) => {
        throw translatePgError(err);
      });
      await new DashboardRepository(trx).touch(principal.organizationId, current.dashboardId);
      return updated;
    });
  }

  /** Delete Report (dashboard must be unlocked). @throws NotFoundError, ForbiddenError, ValidationError */
  async delete(principal: Principal, id: string): Promise<void> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    const current = await this.get(principal, id);
    if (!principal.canUseDatasource(current.datasourceId, DASHBOARD_MANAGE_PERMISSION))
      throw new ForbiddenError('This API key cannot delete reports of this datasource');
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
    if (!principal.canUseDatasource(current.datasourceId, DASHBOARD_MANAGE_PERMISSION))
      throw new ForbiddenError('This API key cannot copy reports of this datasource');
    return withTransaction(this.deps.db, async (trx) => {
      await this.lockDashboard(trx, principal.organizationId, current.dashboardId);
      const repo = new ReportRepository(trx);
      const pos = findFreePosition(await repo.listByDashboard(principal.organizationId, current.dashboardId), current.width, current.height);
      const copy = await repo.insert({
        ...reportFields.copyOf(current),
        id: newId(),
        organizationId: principal.organizationId,
        dashboardId: current.dashboardId,
        name: `${current.name} (copy)`,
        row: pos.row,
        column: pos.column,
      });
      await new DashboardRepository(trx).touch(principal.organizationId, current.dashboardId);
      return copy;
    });
  }
}
