import type { Knex } from 'knex';
import type { Permission, Principal } from '../api-keys/permissions.js';
import { lock, withTransaction } from '../db/db.js';
import type { DatasourceService } from '../datasources/datasource.service.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import { newId } from '../ids.js';
import { SqlSnippetRepository } from './sql-snippet.repository.js';
import { sqlSnippetFields } from './sql-snippet.fields.js';
import type { CreateSqlSnippetInput, SqlSnippet, UpdateSqlSnippetInput } from './sql-snippet.types.js';

/** Permissions that let a key read snippets (contract row 64). */
export const SNIPPET_VIEW_PERMISSIONS: Permission[] = ['View Dashboards', 'Manage Dashboards', 'Manage Datasources'];
const SNIPPET_WRITE_PERMISSIONS: Permission[] = ['Manage Dashboards', 'Manage Datasources'];

/** Names referenced as `[name]` or `[name(args)]` in SQL text (candidates; non-snippets are ignored). */
export function referencedSnippetNames(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/\[([A-Za-z_][A-Za-z0-9_]*)\s*[\](]/g)) names.add(m[1]!);
  return [...names];
}

export interface SqlSnippetServiceDeps {
  db: Knex;
  datasources: DatasourceService;
}

/** SQL snippets: CRUD with the contract's datasource-access rules and cycle checks. */
export class SqlSnippetService {
  constructor(private readonly deps: SqlSnippetServiceDeps) {}

  list(principal: Principal): Promise<SqlSnippet[]> {
    principal.requireAny(...SNIPPET_VIEW_PERMISSIONS);
    return new SqlSnippetRepository(this.deps.db).list(principal.organizationId, principal.datasourceScope(...SNIPPET_VIEW_PERMISSIONS));
  }

  /** Every snippet of the organization (the query compiler resolves names organization-wide). */
  listAll(organizationId: string, db: Knex = this.deps.db): Promise<SqlSnippet[]> {
    return new SqlSnippetRepository(db).list(organizationId);
  }

  /** @throws NotFoundError when unknown or outside the key's datasource scope */
  async get(principal: Principal, id: string): Promise<SqlSnippet> {
    principal.requireAny(...SNIPPET_VIEW_PERMISSIONS);
    const snippet = await new SqlSnippetRepository(this.deps.db).get(principal.organizationId, id);
    if (!principal.canUseDatasource(snippet.datasourceId, ...SNIPPET_VIEW_PERMISSIONS))
      throw new NotFoundError(`SQL snippet ${id} not found`, { code: 'sql_snippet_not_found' });
    return snippet;
  }

  listByIds(organizationId: string, ids: string[]): Promise<SqlSnippet[]> {
    return new SqlSnippetRepository(this.deps.db).listByIds(organizationId, ids);
  }

  private requireDatasource(principal: Principal, datasourceId: string, permissions: Permission[]): void {
    if (!principal.canUseDatasource(datasourceId, ...permissions)) {
      throw new ValidationError(`Datasource ${datasourceId} not found`, {
        source: { pointer: '/data/relationships/datasource' },
        code: 'datasource_not_found',
      });
    }
  }

  /** Resolves references (explicit ids or names in the text) and rejects reference cycles. */
  private async resolveReferences(trx: Knex, organizationId: string, self: { id: string; name: string; text: string }, explicit?: string[]): Promise<string[]> {
    const all = await new SqlSnippetRepository(trx).list(organizationId);
    const byName = new Map(all.filter((s) => s.id !== self.id).map((s) => [s.name, s]));
    let refs: string[];
    if (explicit) {
      const known = new Set(all.map((s) => s.id));
      const unknown = explicit.filter((id) => !known.has(id));
      if (unknown.length)
        throw new ValidationError(`Unknown SQL snippet(s): ${unknown.join(', ')}`, { source: { pointer: '/data/relationships/sql_snippets' } });
      refs = explicit;
    } else {
      refs = referencedSnippetNames(self.text)
        .map((n) => byName.get(n)?.id)
        .filter((id): id is string => id !== undefined);
    }
    if (refs.includes(self.id))
      throw new ValidationError(`Snippet "${self.name}" references itself`, { code: 'snippet_cycle', source: { pointer: '/data/attributes/text' } });
    // Cycle check on the text graph (what expansion follows), with this snippet's new text.
    const texts = new Map(all.map((s) => [s.name, s.text]));
    texts.delete(all.find((s) => s.id === self.id)?.name ?? '');
    texts.set(self.name, self.text);
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (name: string, path: string[]): void => {
      if (done.has(name)) return;
      if (visiting.has(name))
        throw new ValidationError(`SQL snippets reference each other in a cycle: ${[...path, name].join(' → ')}`, {
          code: 'snippet_cycle',
          source: { pointer: '/data/attributes/text' },
        });
      visiting.add(name);
      for (const ref of referencedSnippetNames(texts.get(name) ?? '')) if (texts.has(ref)) visit(ref, [...path, name]);
      visiting.delete(name);
      done.add(name);
    };
    visit(self.name, []);
    return refs;
  }

  /**
   * Creates a snippet on a datasource the key can use.
   * @throws ValidationError, ConflictError (duplicate name)
   */
  async create(principal: Principal, input: CreateSqlSnippetInput): Promise<SqlSnippet> {
    principal.requireAny(...SNIPPET_WRITE_PERMISSIONS);
    this.requireDatasource(principal, input.datasourceId, SNIPPET_WRITE_PERMISSIONS);
    return withTransaction(this.deps.db, async (trx) => {
      await this.deps.datasources.getVisible(principal, input.datasourceId, SNIPPET_WRITE_PERMISSIONS).catch(() => {
        throw new ValidationError(`Datasource ${input.datasourceId} not found`, {
          source: { pointer: '/data/relationships/datasource' },
          code: 'datasource_not_found',
        });
      });
      const repo = new SqlSnippetRepository(trx);
      const id = newId();
      await lock(trx, `sql_snippets:${principal.organizationId}`);
      if ((await repo.list(principal.organizationId)).some((s) => s.name === input.name)) {
        throw new ConflictError(`A SQL snippet named "${input.name}" already exists`, { source: { pointer: '/data/attributes/name' } });
      }
      const refs = await this.resolveReferences(trx, principal.organizationId, { id, name: input.name, text: input.text }, input.sqlSnippetIds);
      await repo.insert({ ...sqlSnippetFields.prepareCreate(input), id, organizationId: principal.organizationId });
      await repo.replaceReferences(id, refs);
      return repo.get(principal.organizationId, id);
    });
  }

  /**
   * Updates a snippet; the key needs access to the old and the new datasource. A rename leaves
   * references in other SQL as they are (contract §4.7).
   */
  async update(principal: Principal, id: string, input: UpdateSqlSnippetInput): Promise<SqlSnippet> {
    principal.requireAny(...SNIPPET_WRITE_PERMISSIONS);
    const current = await this.get(principal, id);
    if (!principal.canUseDatasource(current.datasourceId, ...SNIPPET_WRITE_PERMISSIONS))
      throw new ForbiddenError('This API key cannot change snippets of this datasource');
    if (input.datasourceId) this.requireDatasource(principal, input.datasourceId, SNIPPET_WRITE_PERMISSIONS);
    return withTransaction(this.deps.db, async (trx) => {
      const repo = new SqlSnippetRepository(trx);
      if (input.datasourceId) {
        const unknown = await this.deps.datasources.unknownIds(trx, principal.organizationId, [input.datasourceId]);
        if (unknown.length)
          throw new ValidationError(`Datasource ${input.datasourceId} not found`, {
            source: { pointer: '/data/relationships/datasource' },
            code: 'datasource_not_found',
          });
      }
      await lock(trx, `sql_snippets:${principal.organizationId}`);
      const name = input.name ?? current.name;
      if (name !== current.name && (await repo.list(principal.organizationId)).some((s) => s.name === name)) {
        throw new ConflictError(`A SQL snippet named "${name}" already exists`, { source: { pointer: '/data/attributes/name' } });
      }
      const text = input.text ?? current.text;
      const refs =
        input.text !== undefined || input.sqlSnippetIds !== undefined || name !== current.name
          ? await this.resolveReferences(trx, principal.organizationId, { id, name, text }, input.sqlSnippetIds)
          : undefined;
      await repo.update(principal.organizationId, id, sqlSnippetFields.prepareUpdate(input, current));
      if (refs) await repo.replaceReferences(id, refs);
      return repo.get(principal.organizationId, id);
    });
  }

  /** Deletes a snippet: needs Manage Datasources on its datasource (contract row 67). */
  async delete(principal: Principal, id: string): Promise<void> {
    const current = await this.get(principal, id);
    if (!principal.canUseDatasource(current.datasourceId, 'Manage Datasources')) {
      throw new ForbiddenError('Deleting a SQL snippet requires "Manage Datasources" on its datasource');
    }
    await new SqlSnippetRepository(this.deps.db).delete(principal.organizationId, id);
  }
}
