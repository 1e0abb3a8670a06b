import type { Knex } from 'knex';
import { dialectOf, type DatabaseType } from '../drivers/driver.types.js';
import { FilterRepository } from '../filters/filter.repository.js';
import type { Filter } from '../filters/filter.types.js';
import type { SnippetDefinition } from '../query/query.types.js';
import { SqlSnippetRepository } from '../sql-snippets/sql-snippet.repository.js';
import type { SqlSnippet } from '../sql-snippets/sql-snippet.types.js';
import { datasourceTypesById } from './report.repository.js';
import type { Report } from './report.types.js';
import { findSqlReferences } from './sql-references.js';

/** What a dashboard's reports use, derived from their SQL (contract §3.4 note). */
export interface DashboardReferences {
  /** Every variable name referenced (built-ins and ad hoc ones included). */
  variables: string[];
  /** Defined filters among them, plus the filters their own SQL uses (dynamic drop-downs), transitively; by variable name. */
  filters: Filter[];
  /** Snippets used by the reports' SQL (transitive closure). */
  sqlSnippets: SqlSnippet[];
}

/** Organization data the derivation needs; load it once with `loadReferenceContext` to derive for many dashboards. */
export interface ReferenceContext {
  snippets: SqlSnippet[];
  /** Database type by datasource id (lexing dialect). */
  databaseTypes: Map<string, string>;
  /** Looks filters up by variable name. */
  filtersByName: (names: string[]) => Promise<Filter[]>;
}

/**
 * Loads the organization's snippets and datasource types; with `allFilters` the filters are loaded
 * once too (for many dashboards), else looked up by name on demand (one dashboard).
 */
export async function loadReferenceContext(db: Knex, organizationId: string, options: { allFilters?: boolean } = {}): Promise<ReferenceContext> {
  const [snippets, databaseTypes] = await Promise.all([new SqlSnippetRepository(db).list(organizationId), datasourceTypesById(db, organizationId)]);
  const repo = new FilterRepository(db);
  if (options.allFilters) {
    const byName = new Map((await repo.list(organizationId)).map((f) => [f.variableName, f]));
    return { snippets, databaseTypes, filtersByName: async (names) => names.map((n) => byName.get(n)).filter((f): f is Filter => f !== undefined) };
  }
  return { snippets, databaseTypes, filtersByName: (names) => repo.listByVariableNames(organizationId, names) };
}

/** Derives the references of `reports` with a loaded context (see `collectDashboardReferences`). */
export async function deriveDashboardReferences(reports: readonly Report[], ctx: ReferenceContext): Promise<DashboardReferences> {
  if (!reports.length) return { variables: [], filters: [], sqlSnippets: [] };
  const definitions: SnippetDefinition[] = ctx.snippets.map((s) => ({ name: s.name, text: s.text, params: s.params }));
  const dialect = (datasourceId: string | null) =>
    (datasourceId ? dialectOf((ctx.databaseTypes.get(datasourceId) ?? 'postgres') as DatabaseType) : undefined) ?? 'postgres';
  const variables = new Set<string>();
  const snippetNames = new Set<string>();
  for (const r of reports) {
    const refs = findSqlReferences(r.sqlQuery, definitions, dialect(r.datasourceId));
    refs.variables.forEach((v) => variables.add(v));
    refs.snippetNames.forEach((s) => snippetNames.add(s));
  }
  const found = new Map<string, Filter>();
  let pending = [...variables];
  while (pending.length) {
    const batch = (await ctx.filtersByName(pending)).filter((f) => !found.has(f.id));
    pending = [];
    for (const f of batch) {
      found.set(f.id, f);
      if (!f.sqlQuery) continue;
      for (const v of findSqlReferences(f.sqlQuery, definitions, dialect(f.datasourceId)).variables) {
        if (!variables.has(v)) {
          variables.add(v);
          pending.push(v);
        }
      }
    }
  }
  const filters = [...found.values()].sort((a, b) => (a.variableName < b.variableName ? -1 : a.variableName > b.variableName ? 1 : 0));
  return { variables: [...variables], filters, sqlSnippets: ctx.snippets.filter((s) => snippetNames.has(s.name)) };
}

/**
 * Derives the filters and SQL snippets of a set of reports (normally one dashboard's) by scanning
 * their SQL for `{…=var}`, `{…:var}`, `{var.selector}`, `{var}` and `[snippet]` references. Filters
 * whose own SQL references other filters pull those in too.
 */
export async function collectDashboardReferences(db: Knex, organizationId: string, reports: readonly Report[]): Promise<DashboardReferences> {
  if (!reports.length) return { variables: [], filters: [], sqlSnippets: [] };
  return deriveDashboardReferences(reports, await loadReferenceContext(db, organizationId));
}
