import type { SqlSnippet } from '@sightline/domain';
import { defineResource, type ResourceRecord } from '@sightline/jsonapi';

export const sqlSnippetResource = defineResource({
  type: 'sql_snippets',
  attributes: ['name', 'description', 'text', 'params', 'created_at', 'updated_at'],
  relationships: {
    datasource: { type: 'datasources', many: false },
    sql_snippets: { type: 'sql_snippets', many: true },
  },
});

export function presentSqlSnippet(s: SqlSnippet): ResourceRecord {
  return {
    id: s.id,
    attributes: {
      name: s.name,
      description: s.description,
      text: s.text,
      params: s.params,
      created_at: s.createdAt.toISOString(),
      updated_at: s.updatedAt.toISOString(),
    },
    relationships: { datasource: s.datasourceId, sql_snippets: s.sqlSnippetIds },
  };
}
