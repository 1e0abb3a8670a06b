import type { CreateInputOf, NewRecordOf, PatchOf, RecordOf, RowOf, UpdateInputOf } from '../fields/index.js';
import type { sqlSnippetFields } from './sql-snippet.fields.js';

/** A reusable SQL fragment, referenced as `[name]` in report, filter, alert and snippet SQL. Fields: `sqlSnippetFields`. */
export interface SqlSnippet extends RecordOf<typeof sqlSnippetFields> {
  // restated so that messages and hovers name the type `SqlSnippet` (an empty extension would print its base)
  id: string;
}

/** Create SQL Snippet input: `name`, `text`, `datasourceId` required; `sqlSnippetIds` explicit references (else derived from `text`). */
export type CreateSqlSnippetInput = CreateInputOf<typeof sqlSnippetFields>;

/** Update SQL Snippet input; `undefined` = unchanged. */
export type UpdateSqlSnippetInput = UpdateInputOf<typeof sqlSnippetFields>;

/** Row of `sql_snippets`. */
export interface SqlSnippetRow extends RowOf<typeof sqlSnippetFields> {
  id: string;
}

/** What `SqlSnippetRepository.insert` takes. */
export type NewSqlSnippet = NewRecordOf<typeof sqlSnippetFields>;

/** What `SqlSnippetRepository.update` takes. */
export type SqlSnippetPatch = PatchOf<typeof sqlSnippetFields>;
