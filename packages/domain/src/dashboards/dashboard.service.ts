import type { Knex } from 'knex';
import type { Principal } from '../api-keys/permissions.js';
import type { Clock } from '../clock.js';
import { withTransaction } from '../db/db.js';
import { translatePgError } from '../db/pg-errors.js';
import { AppErrors, ForbiddenError, ValidationError, type AppError } from '../errors.js';
import { FilterRepository } from '../filters/filter.repository.js';
import { toFilterDefinition } from '../filters/filter.rules.js';
import type { Filter } from '../filters/filter.types.js';
import type { SqlSnippet } from '../sql-snippets/sql-snippet.types.js';
import { newId } from '../ids.js';
import { parseTimerange } from '../query/ranges.js';
import { isValidTimeZone } from '../query/time-zones.js';
import type { FilterDefinition, InputParameters } from '../query/query.types.js';
import { collectDashboardReferences, deriveDashboardReferences, loadReferenceContext } from '../reports/dashboard-references.js';
import { ReportRepository, datasourceSummaries } from '../reports/report.repository.js';
import { filterFields } from '../filters/filter.fields.js';
import { sqlSnippetFields } from '../sql-snippets/sql-snippet.fields.js';
import { SqlSnippetRepository } from '../sql-snippets/sql-snippet.repository.js';
import { reportFields } from '../reports/report.fields.js';
import { dashboardLockedError } from '../reports/report.service.js';
import { SharingLinkRepository } from '../sharing-links/sharing-link.repository.js';
import type { Report } from '../reports/report.types.js';
import type { RecordOf } from '../fields/index.js';
import { dashboardFields } from './dashboard.fields.js';
import { DashboardRepository } from './dashboard.repository.js';
import { DASHBOARD_MANAGE_PERMISSION, DASHBOARD_VIEW_PERMISSIONS } from './dashboard.permissions.js';
import {
  DASHBOARD_BACKUP_FORMAT_VERSION,
  type CreateDashboardInput,
  type Dashboard,
  type DashboardInput,
  type DashboardLayoutInput,
  type UpdateDashboardInput,
  type TimeZoneConfig,
} from './dashboard.types.js';
import { validateLayout } from './layout.js';

export interface DashboardServiceDeps {
  db: Knex;
  clock: Clock;
}

/** The full field record of a dashboard: the presenter-computed `published`/`layout` are neither copied nor backed up. */
const complete = (d: Dashboard): RecordOf<typeof dashboardFields> => ({ ...d, published: d.shareMode !== 'none', layout: [] });

/** Ids of what a dashboard relates to, as the key may see them (contract §3.4 relationships). */
export interface DashboardRelations {
  /** Reports on datasources the key can use, in grid order. */
  reports: Report[];
  reportIds: string[];
  /** Filters derived from the reports' SQL. */
  filterIds: string[];
  /** Snippets the reports' SQL uses (transitive closure). */
  sqlSnippetIds: string[];
  dashboardGroupIds: string[];
  userGroupIds: string[];
  userId: string | null;
  /** Sharing links of the dashboard (shown only to keys with Manage Dashboards). */
  sharingLinkIds: string[];
}

/** Everything the read path needs to compile a dashboard's queries, loaded with few queries. */
export interface DashboardContent {
  dashboard: Dashboard;
  /** Every report of the dashboard (no permission filter), in grid order. */
  reports: Report[];
  /** The filters the dashboard uses (derived from report SQL, transitively through filter SQL). */
  filters: Filter[];
  /** The same filters as compiler definitions (enough to compile every report and filter SQL of the dashboard). */
  filterDefinitions: FilterDefinition[];
  /** Every snippet of the organization (the compiler resolves `[name]` organization-wide). */
  snippets: SqlSnippet[];
}

/** The Create Dashboard Backup document (format version 1): everything needed to rebuild the dashboard. */
export interface DashboardBackup {
  format_version: number;
  created_at: string;
  dashboard: Record<string, unknown>;
  reports: Array<Record<string, unknown>>;
  filters: Array<Record<string, unknown>>;
  sql_snippets: Array<Record<string, unknown>>;
  datasources: Array<{ id: string; name: string; database_type: string }>;
}

const attrPointer = (name: string) => ({ pointer: `/data/attributes/${name}` });

/** Checks a time zone configuration (contract §4.4 rule 31). @throws AppErrors (422) */
export function checkTimeZoneConfig(tz: TimeZoneConfig): void {
  const errors: AppError[] = [];
  const p = (m: string) => ({ pointer: `/data/attributes/time_zone_config/${m}` });
  if (tz.type === 'fixed') {
    if (!tz.fixedTimeZone || !isValidTimeZone(tz.fixedTimeZone))
      errors.push(new ValidationError('time_zone_config type fixed needs a valid IANA fixed_time_zone', { source: p('fixed_time_zone') }));
  } else if (tz.fixedTimeZone !== undefined) {
    errors.push(new ValidationError('fixed_time_zone is only for time_zone_config type fixed', { source: p('fixed_time_zone') }));
  }
  if (tz.allowedTimeZones !== undefined) {
    if (tz.type !== 'input')
      errors.push(new ValidationError('allowed_time_zones is only for time_zone_config type input', { source: p('allowed_time_zones') }));
    tz.allowedTimeZones.forEach((z, i) => {
      if (!isValidTimeZone(z))
        errors.push(new ValidationError(`allowed_time_zones[${i}] is not a known IANA time zone`, { source: p(`allowed_time_zones/${i}`) }));
    });
  }
  if (errors.length) throw new AppErrors(errors);
}

/** Checks default input parameters beyond their shape: a parseable timerange and a known `tz`. @throws ValidationError */
export function checkDefaultParameters(parameters: InputParameters, now: Date): void {
  // stored as jsonb, which cannot hold NUL characters (and no filter value may contain one)
  if (JSON.stringify(parameters).includes('\\u0000')) {
    throw new ValidationError('default_parameters must not contain NUL characters', { source: attrPointer('default_parameters') });
  }
  if (parameters.tz !== undefined && !isValidTimeZone(parameters.tz)) {
    throw new ValidationError(`default_parameters.tz "${parameters.tz}" is not a known IANA time zone`, { source: attrPointer('default_parameters/tz') });
  }
  if (parameters.timerange !== undefined) {
    try {
      parseTimerange(parameters.timerange, now, 'UTC');
    } catch (err) {
      throw new ValidationError(`default_parameters: ${(err as Error).message}`, { source: attrPointer('default_parameters/timerange') });
    }
  }
  const names = (parameters.filters ?? []).map((f) => f.variable_name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new ValidationError(`default_parameters.filters names "${dup}" twice`, { source: attrPointer('default_parameters/filters') });
}

/**
 * Dashboards (contract rows 18–22, 25, 26, 30–32; §4.4). Reads need View or Manage Dashboards, writes
 * Manage Dashboards. A locked dashboard refuses changes (422) except unlocking.
 */
export class DashboardService {
  constructor(private readonly deps: DashboardServiceDeps) {}

  /** List Dashboards: every dashboard of the organization by name. */
  list(principal: Principal): Promise<Dashboard[]> {
    principal.requireAny(...DASHBOARD_VIEW_PERMISSIONS);
    return new DashboardRepository(this.deps.db).list(principal.organizationId);
  }

  /** Get Dashboard. @throws NotFoundError (`dashboard_not_found`) */
  get(principal: Principal, id: string): Promise<Dashboard> {
    principal.requireAny(...DASHBOARD_VIEW_PERMISSIONS);
    return new DashboardRepository(this.deps.db).get(principal.organizationId, id);
  }

  /** Dashboards by ids (includes); unknown ids are skipped. */
  listByIds(organizationId: string, ids: readonly string[]): Promise<Dashboard[]> {
    return new DashboardRepository(this.deps.db).listByIds(organizationId, ids);
  }

  /** Internal (read path): a dashboard by id without permission checks. @throws NotFoundError */
  getByIdUnchecked(organizationId: string, id: string, db: Knex = this.deps.db): Promise<Dashboard> {
    return new DashboardRepository(db).get(organizationId, id);
  }

  /** Internal: a dashboard by id, or undefined. */
  findById(organizationId: string, id: string, db: Knex = this.deps.db): Promise<Dashboard | undefined> {
    return new DashboardRepository(db).find(organizationId, id);
  }

  /**
   * Internal (read path, e.g. Poll Dashboard Status): the dashboard, its reports, the filters it uses
   * and the organization's snippets, in three parallel queries plus one per level of filter lookups.
   * @throws NotFoundError
   */
  async getContent(organizationId: string, dashboardId: string, db: Knex = this.deps.db): Promise<DashboardContent> {
    const [dashboard, reports, ctx] = await Promise.all([
      new DashboardRepository(db).get(organizationId, dashboardId),
      new ReportRepository(db).listByDashboard(organizationId, dashboardId),
      loadReferenceContext(db, organizationId),
    ]);
    const refs = await deriveDashboardReferences(reports, ctx);
    return { dashboard, reports, filters: refs.filters, filterDefinitions: refs.filters.map(toFilterDefinition), snippets: ctx.snippets };
  }

  /** Ids among `ids` that are no dashboards of the organization (relationship checks). */
  unknownIds(organizationId: string, ids: readonly string[], db: Knex = this.deps.db): Promise<string[]> {
    return new DashboardRepository(db).unknownIds(organizationId, ids);
  }

  /** The relationship linkage of a dashboard for this key (reports filtered by datasource scope). */
  async relations(principal: Principal, dashboard: Dashboard): Promise<DashboardRelations> {
    return (await this.relationsOfMany(principal, [dashboard]))[0]!;
  }

  /** `relations` for several dashboards with a fixed number of queries (lists, includes). */
  async relationsOfMany(principal: Principal, dashboards: readonly Dashboard[]): Promise<DashboardRelations[]> {
    if (!dashboards.length) return [];
    const db = this.deps.db;
    const all = await new ReportRepository(db).listByDashboards(
      principal.organizationId,
      dashboards.map((d) => d.id),
    );
    const visible = all.filter((r) => principal.canUseDatasource(r.datasourceId, ...DASHBOARD_VIEW_PERMISSIONS));
    const [ctx, links] = await Promise.all([
      loadReferenceContext(db, principal.organizationId, { allFilters: dashboards.length > 1 }),
      principal.has(DASHBOARD_MANAGE_PERMISSION)
        ? new SharingLinkRepository(db).listByDashboards(
            principal.organizationId,
            dashboards.map((d) => d.id),
          )
        : [],
    ]);
    const out: DashboardRelations[] = [];
    for (const dashboard of dashboards) {
      const reports = visible.filter((r) => r.dashboardId === dashboard.id).sort((a, b) => a.row - b.row || a.column - b.column || (a.id < b.id ? -1 : 1));
      const refs = await deriveDashboardReferences(reports, ctx);
      out.push({
        reports,
        reportIds: reports.map((r) => r.id),
        filterIds: refs.filters
          .filter((f) => f.datasourceId === null || principal.canUseDatasource(f.datasourceId, ...DASHBOARD_VIEW_PERMISSIONS))
          .map((f) => f.id),
        sqlSnippetIds: refs.sqlSnippets
          .filter((s) => principal.canUseDatasource(s.datasourceId, ...DASHBOARD_VIEW_PERMISSIONS, 'Manage Datasources'))
          .map((s) => s.id),
        dashboardGroupIds: dashboard.dashboardGroupIds,
        userGroupIds: dashboard.userGroupIds,
        userId: dashboard.userId,
        sharingLinkIds: links.filter((l) => l.dashboardId === dashboard.id).map((l) => l.id),
      });
    }
    return out;
  }

  private check(input: DashboardInput): void {
    if (input.timeZoneConfig) checkTimeZoneConfig(input.timeZoneConfig);
    if (input.defaultParameters) checkDefaultParameters(input.defaultParameters, this.deps.clock.now());
  }

  /**
   * Create Dashboard. `default_parameters` cannot be set on create (contract §4.4 rule 30).
   * @throws ForbiddenError, ValidationError
   */
  async create(principal: Principal, input: CreateDashboardInput): Promise<Dashboard> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    if (input.defaultParameters !== undefined) {
      throw new ValidationError('default_parameters can only be set on existing dashboards (use Update Dashboard)', {
        source: attrPointer('default_parameters'),
      });
    }
    this.check(input);
    const id = newId();
    return withTransaction(this.deps.db, async (trx) => {
      const repo = new DashboardRepository(trx);
      await repo.insert({ ...dashboardFields.prepareCreate(input), id, organizationId: principal.organizationId }).catch((err: unknown) => {
        throw translatePgError(err);
      });
      return repo.get(principal.organizationId, id);
    });
  }

  /**
   * Update Dashboard. While locked, only a request that unlocks (`is_locked: false`) is accepted; it
   * may change other attributes at the same time.
   * @throws NotFoundError, ForbiddenError, ValidationError (locked, invalid values)
   */
  async update(principal: Principal, id: string, input: UpdateDashboardInput): Promise<Dashboard> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    this.check(input);
    return withTransaction(this.deps.db, async (trx) => {
      const repo = new DashboardRepository(trx);
      await repo.lockRow(principal.organizationId, id);
      const current = await repo.get(principal.organizationId, id);
      if (current.isLocked && input.isLocked !== false) throw dashboardLockedError(id);
      const patch = dashboardFields.prepareUpdate(input, complete(current));
      if (Object.keys(patch).length)
        await repo.update(principal.organizationId, id, patch).catch((err: unknown) => {
          throw translatePgError(err);
        });
      return repo.get(principal.organizationId, id);
    });
  }

  /** Delete Dashboard (and its reports). @throws NotFoundError, ForbiddenError, ValidationError (locked) */
  async delete(principal: Principal, id: string): Promise<void> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    await withTransaction(this.deps.db, async (trx) => {
      const repo = new DashboardRepository(trx);
      await repo.lockRow(principal.organizationId, id);
      if ((await repo.get(principal.organizationId, id)).isLocked) throw dashboardLockedError(id);
      await repo.delete(principal.organizationId, id);
    });
  }

  /** Lock (`true`) or Unlock (`false`) Dashboard; idempotent. @throws NotFoundError, ForbiddenError */
  async setLocked(principal: Principal, id: string, locked: boolean): Promise<void> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    await new DashboardRepository(this.deps.db).update(principal.organizationId, id, { isLocked: locked });
  }

  /**
   * Update Dashboard Layout: replaces the position of every report (contract row 31, §4.4 rule 27).
   * @throws NotFoundError, ForbiddenError, ValidationError (locked; layout errors point at `/layout/<i>`)
   */
  async updateLayout(principal: Principal, id: string, input: DashboardLayoutInput): Promise<void> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    await withTransaction(this.deps.db, async (trx) => {
      const repo = new DashboardRepository(trx);
      await repo.lockRow(principal.organizationId, id);
      if ((await repo.get(principal.organizationId, id)).isLocked) throw dashboardLockedError(id);
      const reports = new ReportRepository(trx);
      const current = await reports.listByDashboard(principal.organizationId, id);
      validateLayout(
        current.map((r) => r.id),
        input.layout,
      );
      for (const item of input.layout) {
        await reports.setPosition(principal.organizationId, item.id, { row: item.row, column: item.column, width: item.width, height: item.height });
      }
      await repo.update(principal.organizationId, id, input.floatingEnabled === undefined ? {} : { floatingEnabled: input.floatingEnabled });
    });
  }

  private requireReportsUsable(principal: Principal, reports: readonly Report[]): void {
    const blocked = reports.find((r) => !principal.canUseDatasource(r.datasourceId, DASHBOARD_MANAGE_PERMISSION));
    if (blocked) throw new ForbiddenError(`This API key cannot use datasource ${blocked.datasourceId} of report ${blocked.id}`);
  }

  /**
   * Duplicate Dashboard: a new, unlocked, unshared dashboard named "<name> (copy)" with every
   * attribute, copies of all reports at the same positions, and the same dashboard-group memberships.
   * Filters and snippets are organization-wide and referenced by name, so the copy uses the same ones.
   * @throws NotFoundError, ForbiddenError (a report's datasource is outside the key's scope)
   */
  async duplicate(principal: Principal, id: string): Promise<Dashboard> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    return withTransaction(this.deps.db, async (trx) => {
      const repo = new DashboardRepository(trx);
      const source = await repo.get(principal.organizationId, id);
      const reports = await new ReportRepository(trx).listByDashboard(principal.organizationId, id);
      this.requireReportsUsable(principal, reports);
      const copyId = newId();
      const copy = dashboardFields.copyOf(complete(source));
      await repo.insert({
        ...copy,
        id: copyId,
        organizationId: principal.organizationId,
        userId: source.userId,
        name: `${source.name} (copy)`,
        isLocked: false,
        shareMode: 'none',
      });
      const reportRepo = new ReportRepository(trx);
      for (const r of reports) {
        await reportRepo.insert({ ...reportFields.copyOf(r), id: newId(), organizationId: principal.organizationId, dashboardId: copyId });
      }
      await repo.addToGroups(principal.organizationId, copyId, source.dashboardGroupIds);
      return repo.get(principal.organizationId, copyId);
    });
  }

  /**
   * Create Dashboard Backup (contract row 32): a self-contained JSON document (`format_version` 1)
   * with the dashboard's attributes, its reports (with layout and chart configuration), the filters
   * it uses (including manual drop-down options, which a restore needs), the snippets its reports and
   * filters use, and the datasources they point at (id, name, type: no credentials).
   * @throws NotFoundError, ForbiddenError
   */
  async backup(principal: Principal, id: string): Promise<DashboardBackup> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    const db = this.deps.db;
    const dashboard = await new DashboardRepository(db).get(principal.organizationId, id);
    const reports = await new ReportRepository(db).listByDashboard(principal.organizationId, id);
    this.requireReportsUsable(principal, reports);
    const refs = await collectDashboardReferences(db, principal.organizationId, reports);
    // snippets used by the filters' own SQL as well
    const snippetIds = new Set(refs.sqlSnippets.map((s) => s.id));
    for (const f of refs.filters) f.sqlSnippetIds.forEach((s) => snippetIds.add(s));
    const snippets = await new SqlSnippetRepository(db).listByIds(principal.organizationId, [...snippetIds]);
    const datasourceIds = [
      ...new Set([
        ...reports.map((r) => r.datasourceId),
        ...refs.filters.map((f) => f.datasourceId).filter((d): d is string => d !== null),
        ...snippets.map((s) => s.datasourceId),
      ]),
    ];
    const datasources = await datasourceSummaries(db, principal.organizationId, datasourceIds);
    const parents = await new FilterRepository(db).listByIds(
      principal.organizationId,
      refs.filters.map((f) => f.parentFilterId).filter((p): p is string => p !== null && !refs.filters.some((f) => f.id === p)),
    );
    return {
      format_version: DASHBOARD_BACKUP_FORMAT_VERSION,
      created_at: this.deps.clock.now().toISOString(),
      dashboard: dashboardFields.toBackup(complete(dashboard)),
      reports: reports.map((r) => reportFields.toBackup(r)),
      filters: [...refs.filters, ...parents].map((f) => filterFields.toBackup(f)),
      sql_snippets: snippets.map((s) => sqlSnippetFields.toBackup(s)),
      datasources,
    };
  }
}
