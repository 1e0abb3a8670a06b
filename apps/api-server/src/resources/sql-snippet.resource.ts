import { sqlSnippetFields, type SqlSnippet } from '@sightline/domain';
import { defineFieldResource, type ResourceRecord } from '@sightline/jsonapi';

/** `sql_snippets` (contract §3.10): attributes and relationships from `sqlSnippetFields`. */
export const sqlSnippetResource = defineFieldResource({ type: 'sql_snippets', fields: sqlSnippetFields });

export function presentSqlSnippet(s: SqlSnippet): ResourceRecord {
  return sqlSnippetResource.present(s);
}
