import type { Knex } from 'knex';
import { NotFoundError } from '../errors.js';
import type { DatasourceScope } from '../api-keys/permissions.js';
import { sqlSnippetFields } from './sql-snippet.fields.js';
import type { NewSqlSnippet, SqlSnippet, SqlSnippetPatch, SqlSnippetRow } from './sql-snippet.types.js';

/** SQL for `sql_snippets` and `sql_snippet_references`. */
export class SqlSnippetRepository {
  constructor(private readonly db: Knex) {}

  private async hydrate(rows: SqlSnippetRow[]): Promise<SqlSnippet[]> {
    if (!rows.length) return [];
    const refs = await this.db('sql_snippet_references')
      .whereIn(
        'sql_snippet_id',
        rows.map((r) => r.id),
      )
      .orderBy('referenced_snippet_id')
      .select<{ sql_snippet_id: string; referenced_snippet_id: string }[]>('*');
    const byId = new Map<string, string[]>();
    for (const r of refs) byId.set(r.sql_snippet_id, [...(byId.get(r.sql_snippet_id) ?? []), r.referenced_snippet_id]);
    return rows.map((row) => ({ ...sqlSnippetFields.fromRow(row), sqlSnippetIds: byId.get(row.id) ?? [] }));
  }

  async list(organizationId: string, scope: DatasourceScope = 'all'): Promise<SqlSnippet[]> {
    const q = this.db<SqlSnippetRow>('sql_snippets').where({ organization_id: organizationId }).orderBy(['name', 'id']);
    if (scope !== 'all') q.whereIn('datasource_id', [...scope]);
    return this.hydrate(await q);
  }

  async listByIds(organizationId: string, ids: string[]): Promise<SqlSnippet[]> {
    if (!ids.length) return [];
    return this.hydrate(await this.db<SqlSnippetRow>('sql_snippets').where({ organization_id: organizationId }).whereIn('id', ids).orderBy('name'));
  }

  async find(organizationId: string, id: string): Promise<SqlSnippet | undefined> {
    const row = await this.db<SqlSnippetRow>('sql_snippets').where({ organization_id: organizationId, id }).first();
    return row ? (await this.hydrate([row]))[0] : undefined;
  }

  /** @throws NotFoundError */
  async get(organizationId: string, id: string): Promise<SqlSnippet> {
    const s = await this.find(organizationId, id);
    if (!s) throw new NotFoundError(`SQL snippet ${id} not found`, { code: 'sql_snippet_not_found' });
    return s;
  }

  /** Inserts the row (references are written by `replaceReferences`). */
  async insert(snippet: NewSqlSnippet): Promise<void> {
    await this.db('sql_snippets').insert(sqlSnippetFields.toColumns(snippet));
  }

  /** Updates the row (references are written by `replaceReferences`). */
  async update(organizationId: string, id: string, patch: SqlSnippetPatch): Promise<void> {
    await this.db('sql_snippets')
      .where({ organization_id: organizationId, id })
      .update({ ...sqlSnippetFields.toColumns(patch), updated_at: this.db.fn.now() });
  }

  async replaceReferences(id: string, referencedIds: string[]): Promise<void> {
    await this.db('sql_snippet_references').where({ sql_snippet_id: id }).delete();
    if (referencedIds.length) {
      await this.db('sql_snippet_references').insert(referencedIds.map((r) => ({ sql_snippet_id: id, referenced_snippet_id: r })));
    }
  }

  async delete(organizationId: string, id: string): Promise<boolean> {
    return (await this.db('sql_snippets').where({ organization_id: organizationId, id }).delete()) > 0;
  }
}
