import type { Knex } from 'knex';
import type { Principal } from '../api-keys/permissions.js';
import { lock, withTransaction } from '../db/db.js';
import { translatePgError } from '../db/pg-errors.js';
import type { DatasourceService } from '../datasources/datasource.service.js';
import { DashboardRepository } from '../dashboards/dashboard.repository.js';
import { DASHBOARD_MANAGE_PERMISSION, DASHBOARD_VIEW_PERMISSIONS } from '../dashboards/dashboard.permissions.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import { newId } from '../ids.js';
import type { FilterDefinition } from '../query/query.types.js';
import { collectDashboardReferences } from '../reports/dashboard-references.js';
import { ReportRepository } from '../reports/report.repository.js';
import { findSqlReferences } from '../reports/sql-references.js';
import { SqlSnippetRepository } from '../sql-snippets/sql-snippet.repository.js';
import { filterFields } from './filter.fields.js';
import { FilterRepository } from './filter.repository.js';
import { checkFilter, toFilterDefinition } from './filter.rules.js';
import type { CreateFilterInput, Filter, FilterContent, UpdateFilterInput } from './filter.types.js';

export interface FilterServiceDeps {
  db: Knex;
  datasources: DatasourceService;
}

const notFound = (id: string) => new NotFoundError(`Filter ${id} not found`, { code: 'filter_not_found' });

/**
 * Custom filters (contract rows 56–60, §4.6). Reads need View or Manage Dashboards; SQL drop-downs on
 * a datasource the key cannot use are invisible. Writes need Manage Dashboards (+ datasource access
 * for SQL drop-downs) and are refused (422) while a locked dashboard uses the filter.
 */
export class FilterService {
  constructor(private readonly deps: FilterServiceDeps) {}

  private visible(principal: Principal, f: Filter): boolean {
    return f.datasourceId === null || principal.canUseDatasource(f.datasourceId, ...DASHBOARD_VIEW_PERMISSIONS);
  }

  /** List Filters: every filter the key can see, by variable name. */
  async list(principal: Principal): Promise<Filter[]> {
    principal.requireAny(...DASHBOARD_VIEW_PERMISSIONS);
    return (await new FilterRepository(this.deps.db).list(principal.organizationId)).filter((f) => this.visible(principal, f));
  }

  /** Get Filter. @throws NotFoundError (unknown, other organization, or datasource outside the key's scope) */
  async get(principal: Principal, id: string): Promise<Filter> {
    principal.requireAny(...DASHBOARD_VIEW_PERMISSIONS);
    const f = await new FilterRepository(this.deps.db).find(principal.organizationId, id);
    if (!f || !this.visible(principal, f)) throw notFound(id);
    return f;
  }

  /** Filters by ids that the key can see (includes). */
  async listVisibleByIds(principal: Principal, ids: readonly string[]): Promise<Filter[]> {
    return (await new FilterRepository(this.deps.db).listByIds(principal.organizationId, ids)).filter((f) => this.visible(principal, f));
  }

  /** Internal (read path): a filter by id, no permission checks. @throws NotFoundError */
  getByIdUnchecked(organizationId: string, id: string, db: Knex = this.deps.db): Promise<Filter> {
    return new FilterRepository(db).get(organizationId, id);
  }

  /** Internal: a filter by variable name, or undefined. */
  findByVariableName(organizationId: string, variableName: string, db: Knex = this.deps.db): Promise<Filter | undefined> {
    return new FilterRepository(db).findByVariableName(organizationId, variableName);
  }

  /** Internal: every filter of the organization (domain objects, including manual `values`). */
  listAllFilters(organizationId: string, db: Knex = this.deps.db): Promise<Filter[]> {
    return new FilterRepository(db).list(organizationId);
  }

  /**
   * Internal (query compiler): every filter of the organization as `FilterDefinition`s (variable
   * names are resolved organization-wide). Manual drop-downs with `dropdown_validate` carry their
   * values as `validValues`; for SQL drop-downs the caller fills `validValues` from their options.
   */
  async listAll(organizationId: string, db: Knex = this.deps.db): Promise<FilterDefinition[]> {
    return (await new FilterRepository(db).list(organizationId)).map(toFilterDefinition);
  }

  /**
   * Internal (read path): the filters a dashboard uses, derived from its reports' SQL (and,
   * transitively, the SQL of dynamic drop-downs among them), by variable name.
   */
  async listByDashboard(organizationId: string, dashboardId: string, db: Knex = this.deps.db): Promise<Filter[]> {
    const reports = await new ReportRepository(db).listByDashboard(organizationId, dashboardId);
    return (await collectDashboardReferences(db, organizationId, reports)).filters;
  }

  /** Internal (read path): records the outcome of a SQL drop-down's options query (`last_query_success` / `last_query_error_message`). */
  recordQueryOutcome(organizationId: string, id: string, outcome: { success: Date } | { errorMessage: string }): Promise<void> {
    return new FilterRepository(this.deps.db).recordQueryOutcome(organizationId, id, outcome);
  }

  /** 422 when a locked dashboard uses any of the variable names (its filters may not change). */
  private async assertNotUsedByLockedDashboard(trx: Knex, organizationId: string, variableNames: readonly string[]): Promise<void> {
    const locked = await new DashboardRepository(trx).allLockedIds(organizationId);
    if (!locked.length) return;
    const reports = await new ReportRepository(trx).listByDashboards(organizationId, locked);
    for (const dashboardId of locked) {
      const refs = await collectDashboardReferences(
        trx,
        organizationId,
        reports.filter((r) => r.dashboardId === dashboardId),
      );
      const hit = variableNames.find((v) => refs.variables.includes(v));
      if (hit !== undefined) {
        throw new ValidationError(`Filter "${hit}" is used by locked dashboard ${dashboardId}; unlock it first`, { code: 'dashboard_locked' });
      }
    }
  }

  private async checkLinks(trx: Knex, principal: Principal, id: string, f: FilterContent, datasourceChanged: boolean): Promise<void> {
    if (f.datasourceId !== null && datasourceChanged) {
      const inaccessible = !principal.canUseDatasource(f.datasourceId, DASHBOARD_MANAGE_PERMISSION);
      if (inaccessible || (await this.deps.datasources.unknownIds(trx, principal.organizationId, [f.datasourceId])).length) {
        throw new ValidationError(`Datasource ${f.datasourceId} not found`, {
          code: 'datasource_not_found',
          source: { pointer: '/data/relationships/datasource' },
        });
      }
    }
    if (f.parentFilterId !== null) {
      const pointer = { pointer: '/data/relationships/parent_filter' };
      if (f.parentFilterId === id) throw new ValidationError('A filter cannot be its own parent', { source: pointer });
      const repo = new FilterRepository(trx);
      const parent = await repo.find(principal.organizationId, f.parentFilterId);
      if (!parent || !this.visible(principal, parent))
        throw new ValidationError(`Filter ${f.parentFilterId} not found`, { code: 'filter_not_found', source: pointer });
      // walk up the chain: the new link must not close a cycle
      const seen = new Set<string>([id]);
      let cursor: Filter | undefined = parent;
      while (cursor?.parentFilterId) {
        if (seen.has(cursor.parentFilterId)) throw new ValidationError('parent_filter would create a cycle of parent filters', { source: pointer });
        seen.add(cursor.id);
        cursor = await repo.find(principal.organizationId, cursor.parentFilterId);
      }
    }
  }

  /** Snippet linkage: the explicit ids (checked) or the closure derived from `sql_query`. */
  private async snippetIds(trx: Knex, organizationId: string, sqlQuery: string | null, explicit?: string[]): Promise<string[]> {
    const all = await new SqlSnippetRepository(trx).list(organizationId);
    if (explicit) {
      const known = new Set(all.map((s) => s.id));
      const unknown = explicit.filter((s) => !known.has(s));
      if (unknown.length)
        throw new ValidationError(`Unknown SQL snippet(s): ${unknown.join(', ')}`, {
          code: 'sql_snippet_not_found',
          source: { pointer: '/data/relationships/sql_snippets' },
        });
      return explicit;
    }
    const names = new Set(
      findSqlReferences(
        sqlQuery,
        all.map((s) => ({ name: s.name, text: s.text, params: s.params })),
      ).snippetNames,
    );
    return all.filter((s) => names.has(s.name)).map((s) => s.id);
  }

  private async assertUniqueName(trx: Knex, organizationId: string, variableName: string, selfId: string): Promise<void> {
    await lock(trx, `filters:${organizationId}`);
    const other = await new FilterRepository(trx).findByVariableName(organizationId, variableName);
    if (other && other.id !== selfId) {
      throw new ConflictError(`A filter with variable_name "${variableName}" already exists`, {
        code: 'variable_name_taken',
        source: { pointer: '/data/attributes/variable_name' },
      });
    }
  }

  /**
   * Create Filter.
   * @throws ForbiddenError, ValidationError (rules of `checkFilter`, unknown links, locked dashboard), ConflictError (variable name taken)
   */
  async create(principal: Principal, input: CreateFilterInput): Promise<Filter> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    const { sqlSnippetIds, ...f } = filterFields.prepareCreate(input);
    checkFilter(f);
    const id = newId();
    return withTransaction(this.deps.db, async (trx) => {
      await this.checkLinks(trx, principal, id, f, true);
      await this.assertUniqueName(trx, principal.organizationId, f.variableName, id);
      await this.assertNotUsedByLockedDashboard(trx, principal.organizationId, [f.variableName]);
      const repo = new FilterRepository(trx);
      await repo.insert({ ...f, id, organizationId: principal.organizationId }).catch((err: unknown) => {
        throw translatePgError(err);
      });
      await repo.replaceSnippets(principal.organizationId, id, await this.snippetIds(trx, principal.organizationId, f.sqlQuery, sqlSnippetIds));
      return repo.get(principal.organizationId, id);
    });
  }

  /**
   * Update Filter: the request is merged into the stored filter and the result must satisfy every
   * rule. Changing `control_type` away from a kind clears what it no longer admits only when the
   * request says so (send `null`); otherwise the mismatch is a 422. Renaming is allowed (old
   * references become ad hoc filters, contract §4.6).
   * @throws NotFoundError, ForbiddenError, ValidationError, ConflictError
   */
  async update(principal: Principal, id: string, input: UpdateFilterInput): Promise<Filter> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    const current = await this.get(principal, id);
    if (current.datasourceId !== null && !principal.canUseDatasource(current.datasourceId, DASHBOARD_MANAGE_PERMISSION)) {
      throw new ForbiddenError('This API key cannot change filters of this datasource');
    }
    const { sqlSnippetIds, ...patch } = filterFields.prepareUpdate(input, current);
    const f: Filter = { ...current, ...patch };
    checkFilter(f);
    return withTransaction(this.deps.db, async (trx) => {
      await this.checkLinks(trx, principal, id, f, f.datasourceId !== current.datasourceId);
      if (f.variableName !== current.variableName) await this.assertUniqueName(trx, principal.organizationId, f.variableName, id);
      await this.assertNotUsedByLockedDashboard(trx, principal.organizationId, [...new Set([current.variableName, f.variableName])]);
      const repo = new FilterRepository(trx);
      await repo.update(principal.organizationId, id, patch).catch((err: unknown) => {
        throw translatePgError(err);
      });
      if (sqlSnippetIds !== undefined || f.sqlQuery !== current.sqlQuery) {
        await repo.replaceSnippets(principal.organizationId, id, await this.snippetIds(trx, principal.organizationId, f.sqlQuery, sqlSnippetIds));
      }
      return repo.get(principal.organizationId, id);
    });
  }

  /**
   * Delete Filter: references in SQL become ad hoc filters (contract §4.6); child filters lose their
   * parent. Refused (422) while a locked dashboard uses it.
   * @throws NotFoundError, ForbiddenError, ValidationError
   */
  async delete(principal: Principal, id: string): Promise<void> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    const current = await this.get(principal, id);
    if (current.datasourceId !== null && !principal.canUseDatasource(current.datasourceId, DASHBOARD_MANAGE_PERMISSION)) {
      throw new ForbiddenError('This API key cannot delete filters of this datasource');
    }
    await withTransaction(this.deps.db, async (trx) => {
      await this.assertNotUsedByLockedDashboard(trx, principal.organizationId, [current.variableName]);
      await new FilterRepository(trx).delete(principal.organizationId, id);
    });
  }
}
