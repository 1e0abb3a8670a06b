import type { Knex } from 'knex';
import type { DatasourceScope } from '../api-keys/permissions.js';
import { NotFoundError } from '../errors.js';
import { reportFields } from './report.fields.js';
import type { NewReport, Report, ReportPatch, ReportRow } from './report.types.js';

/** Maps a `reports` row to the domain object. */
function toReport(row: ReportRow): Report {
  return reportFields.fromRow(row);
}

/** SQL for `reports`. Every query is scoped by organization. */
export class ReportRepository {
  constructor(private readonly db: Knex) {}

  /** Reports of the organization (optionally only those on datasources in `scope`), by dashboard then position. */
  async list(organizationId: string, scope: DatasourceScope = 'all'): Promise<Report[]> {
    const q = this.db<ReportRow>('reports').where({ organization_id: organizationId }).orderBy(['dashboard_id', 'row', 'column', 'id']);
    if (scope !== 'all') q.whereIn('datasource_id', [...scope]);
    return (await q).map(toReport);
  }

  /** Reports of one dashboard in grid order (top to bottom, left to right). */
  async listByDashboard(organizationId: string, dashboardId: string): Promise<Report[]> {
    const rows = await this.db<ReportRow>('reports').where({ organization_id: organizationId, dashboard_id: dashboardId }).orderBy(['row', 'column', 'id']);
    return rows.map(toReport);
  }

  /** Reports of several dashboards. */
  async listByDashboards(organizationId: string, dashboardIds: readonly string[]): Promise<Report[]> {
    if (!dashboardIds.length) return [];
    const rows = await this.db<ReportRow>('reports')
      .where({ organization_id: organizationId })
      .whereIn('dashboard_id', [...dashboardIds])
      .orderBy(['dashboard_id', 'row', 'column', 'id']);
    return rows.map(toReport);
  }

  async listByIds(organizationId: string, ids: readonly string[]): Promise<Report[]> {
    if (!ids.length) return [];
    return (
      await this.db<ReportRow>('reports')
        .where({ organization_id: organizationId })
        .whereIn('id', [...ids])
        .orderBy(['row', 'column', 'id'])
    ).map(toReport);
  }

  async find(organizationId: string, id: string): Promise<Report | undefined> {
    const row = await this.db<ReportRow>('reports').where({ organization_id: organizationId, id }).first();
    return row ? toReport(row) : undefined;
  }

  /** @throws NotFoundError (`report_not_found`) */
  async get(organizationId: string, id: string): Promise<Report> {
    const report = await this.find(organizationId, id);
    if (!report) throw new NotFoundError(`Report ${id} not found`, { code: 'report_not_found' });
    return report;
  }

  async insert(report: NewReport): Promise<Report> {
    const [created] = await this.db('reports').insert(reportFields.toColumns(report)).returning('*');
    return toReport(created as ReportRow);
  }

  async update(organizationId: string, id: string, patch: ReportPatch): Promise<Report> {
    const [row] = await this.db('reports')
      .where({ organization_id: organizationId, id })
      .update({ ...reportFields.toColumns(patch), updated_at: this.db.fn.now() })
      .returning('*');
    if (!row) throw new NotFoundError(`Report ${id} not found`, { code: 'report_not_found' });
    return toReport(row as ReportRow);
  }

  /** Sets the grid position of one report (layout updates). */
  async setPosition(organizationId: string, id: string, rect: { row: number; column: number; width: number; height: number }): Promise<void> {
    await this.db('reports')
      .where({ organization_id: organizationId, id })
      .update({ ...reportFields.toColumns(rect), updated_at: this.db.fn.now() });
  }

  /** Records (or clears) the last query error of a report. */
  async setQueryError(organizationId: string, id: string, message: string | null): Promise<void> {
    await this.db('reports')
      .where({ organization_id: organizationId, id })
      .update(reportFields.toColumns({ queryError: message }));
  }

  async delete(organizationId: string, id: string): Promise<boolean> {
    return (await this.db('reports').where({ organization_id: organizationId, id }).delete()) > 0;
  }
}

/** Database types of the organization's datasources by id (to pick the SQL lexing dialect of report/filter SQL). */
export async function datasourceTypesById(db: Knex, organizationId: string): Promise<Map<string, string>> {
  const rows = await db('datasources').where({ organization_id: organizationId }).select<{ id: string; database_type: string }[]>('id', 'database_type');
  return new Map(rows.map((r) => [r.id, r.database_type]));
}

/** Id, name and type of datasources (backups name what they point at; never credentials). */
export async function datasourceSummaries(
  db: Knex,
  organizationId: string,
  ids: readonly string[],
): Promise<Array<{ id: string; name: string; database_type: string }>> {
  if (!ids.length) return [];
  return db('datasources')
    .where({ organization_id: organizationId })
    .whereIn('id', [...new Set(ids)])
    .orderBy('id')
    .select<{ id: string; name: string; database_type: string }[]>('id', 'name', 'database_type');
}
