/** A reusable SQL fragment, referenced as `[name]` in report, filter, alert and snippet SQL. */
export interface SqlSnippet {
  id: string;
  organizationId: string;
  datasourceId: string;
  name: string;
  description: string | null;
  text: string;
  params: string | null;
  /** Snippets this one references (direct). */
  sqlSnippetIds: string[];
  createdAt: Date;
  updatedAt: Date;
}

export interface SqlSnippetInput {
  name?: string;
  description?: string | null;
  text?: string;
  params?: string | null;
  datasourceId?: string;
  /** Explicit references; when absent they are derived from `text`. */
  sqlSnippetIds?: string[];
}

export interface SqlSnippetRow {
  id: string;
  organization_id: string;
  datasource_id: string;
  name: string;
  description: string | null;
  text: string;
  params: string | null;
  created_at: Date;
  updated_at: Date;
}
