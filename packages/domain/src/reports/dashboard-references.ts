import type { Knex } from 'knex';
import { dialectOf, type DatabaseType } from '../drivers/driver.types.js';
import { FilterRepository } from '../filters/filter.repository.js';
import type { Filter } from '../filters/filter.types.js';
import { SqlSnippetRepository } from '../sql-snippets/sql-snippet.repository.js';
import type { SqlSnippet } from '../sql-snippets/sql-snippet.types.js';
import { datasourceTypesById } from './report.repository.js';
import type { Report } from './report.types.js';
import { findSqlReferences } from './sql-references.js';

/** What a dashboard's reports use, derived from their SQL (contract §3.4 note). */
export interface DashboardReferences {
  /** Every variable name referenced (built-ins and ad hoc ones included). */
  variables: string[];
  /** Defined filters among them, plus the filters their own SQL uses (dynamic drop-downs), transitively. */
  filters: Filter[];
  /** Snippets used by the reports' SQL (transitive closure). */
  sqlSnippets: SqlSnippet[];
}

/**
 * Derives the filters and SQL snippets of a set of reports (normally one dashboard's) by scanning
 * their SQL for `{…=var}`, `{…:var}`, `{var.selector}`, `{var}` and `[snippet]` references. Filters
 * whose own SQL references other filters pull those in too.
 */
export async function collectDashboardReferences(db: Knex, organizationId: string, reports: readonly Report[]): Promise<DashboardReferences> {
  if (!reports.length) return { variables: [], filters: [], sqlSnippets: [] };
  const snippets = await new SqlSnippetRepository(db).list(organizationId);
  const definitions = snippets.map((s) => ({ name: s.name, text: s.text, params: s.params }));
  const types = await datasourceTypesById(db, organizationId, reports.map((r) => r.datasourceId));
  const dialect = (datasourceId: string | null) => (datasourceId ? dialectOf((types.get(datasourceId) ?? 'postgres') as DatabaseType) : undefined) ?? 'postgres';
  const variables = new Set<string>();
  const snippetNames = new Set<string>();
  for (const r of reports) {
    const refs = findSqlReferences(r.sqlQuery, definitions, dialect(r.datasourceId));
    refs.variables.forEach((v) => variables.add(v));
    refs.snippetNames.forEach((s) => snippetNames.add(s));
  }
  const filterRepo = new FilterRepository(db);
  const found = new Map<string, Filter>();
  let pending = [...variables];
  while (pending.length) {
    const batch = (await filterRepo.listByVariableNames(organizationId, pending)).filter((f) => !found.has(f.id));
    pending = [];
    const missing = batch.map((f) => f.datasourceId).filter((id): id is string => id !== null && !types.has(id));
    for (const [id, type] of await datasourceTypesById(db, organizationId, missing)) types.set(id, type);
    for (const f of batch) {
      found.set(f.id, f);
      if (f.sqlQuery) {
        const refs = findSqlReferences(f.sqlQuery, definitions, dialect(f.datasourceId));
        for (const v of refs.variables) {
          if (!variables.has(v)) {
            variables.add(v);
            pending.push(v);
          }
        }
      }
    }
  }
  const filters = [...found.values()].sort((a, b) => a.variableName.localeCompare(b.variableName));
  return { variables: [...variables], filters, sqlSnippets: snippets.filter((s) => snippetNames.has(s.name)) };
}
