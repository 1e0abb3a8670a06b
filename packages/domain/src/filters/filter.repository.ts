import type { Knex } from 'knex';
import { NotFoundError } from '../errors.js';
import { filterFields } from './filter.fields.js';
import type { Filter, FilterPatch, FilterRow, NewFilter } from './filter.types.js';

/** SQL for `filters` and `filter_sql_snippets`. Every query is scoped by organization. */
export class FilterRepository {
  constructor(private readonly db: Knex) {}

  private async hydrate(rows: FilterRow[]): Promise<Filter[]> {
    if (!rows.length) return [];
    const links = await this.db('filter_sql_snippets')
      .whereIn(
        'filter_id',
        rows.map((r) => r.id),
      )
      .orderBy(['filter_id', 'sql_snippet_id'])
      .select<{ filter_id: string; sql_snippet_id: string }[]>('filter_id', 'sql_snippet_id');
    const byId = new Map<string, string[]>();
    for (const l of links) byId.set(l.filter_id, [...(byId.get(l.filter_id) ?? []), l.sql_snippet_id]);
    return rows.map((r) => ({ ...filterFields.fromRow(r), sqlSnippetIds: byId.get(r.id) ?? [] }));
  }

  /** Every filter of the organization by variable name. */
  async list(organizationId: string): Promise<Filter[]> {
    return this.hydrate(await this.db<FilterRow>('filters').where({ organization_id: organizationId }).orderBy(['variable_name', 'id']));
  }

  async listByIds(organizationId: string, ids: readonly string[]): Promise<Filter[]> {
    if (!ids.length) return [];
    return this.hydrate(
      await this.db<FilterRow>('filters')
        .where({ organization_id: organizationId })
        .whereIn('id', [...ids])
        .orderBy(['variable_name', 'id']),
    );
  }

  async listByVariableNames(organizationId: string, names: readonly string[]): Promise<Filter[]> {
    if (!names.length) return [];
    return this.hydrate(
      await this.db<FilterRow>('filters')
        .where({ organization_id: organizationId })
        .whereIn('variable_name', [...names])
        .orderBy(['variable_name', 'id']),
    );
  }

  async find(organizationId: string, id: string): Promise<Filter | undefined> {
    const row = await this.db<FilterRow>('filters').where({ organization_id: organizationId, id }).first();
    return row ? (await this.hydrate([row]))[0] : undefined;
  }

  async findByVariableName(organizationId: string, variableName: string): Promise<Filter | undefined> {
    const row = await this.db<FilterRow>('filters').where({ organization_id: organizationId, variable_name: variableName }).first();
    return row ? (await this.hydrate([row]))[0] : undefined;
  }

  /** @throws NotFoundError (`filter_not_found`) */
  async get(organizationId: string, id: string): Promise<Filter> {
    const f = await this.find(organizationId, id);
    if (!f) throw new NotFoundError(`Filter ${id} not found`, { code: 'filter_not_found' });
    return f;
  }

  /** Inserts the row (snippet links are written by `replaceSnippets`). */
  async insert(filter: NewFilter): Promise<void> {
    await this.db('filters').insert(filterFields.toColumns(filter));
  }

  /** Updates the row (snippet links are written by `replaceSnippets`). */
  async update(organizationId: string, id: string, patch: FilterPatch): Promise<void> {
    await this.db('filters')
      .where({ organization_id: organizationId, id })
      .update({ ...filterFields.toColumns(patch), updated_at: this.db.fn.now() });
  }

  async replaceSnippets(organizationId: string, filterId: string, snippetIds: readonly string[]): Promise<void> {
    await this.db('filter_sql_snippets').where({ organization_id: organizationId, filter_id: filterId }).delete();
    if (snippetIds.length)
      await this.db('filter_sql_snippets').insert(snippetIds.map((s) => ({ organization_id: organizationId, filter_id: filterId, sql_snippet_id: s })));
  }

  /** Records the outcome of a SQL drop-down's options query (read path). */
  async recordQueryOutcome(organizationId: string, id: string, outcome: { success: Date } | { errorMessage: string }): Promise<void> {
    const patch =
      'success' in outcome ? { last_query_success: outcome.success, last_query_error_message: null } : { last_query_error_message: outcome.errorMessage };
    await this.db('filters').where({ organization_id: organizationId, id }).update(patch);
  }

  async delete(organizationId: string, id: string): Promise<boolean> {
    return (await this.db('filters').where({ organization_id: organizationId, id }).delete()) > 0;
  }
}
