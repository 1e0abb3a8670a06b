import { z } from 'zod';
import { defineFields, f, nulFreeText } from '../fields/index.js';

/** Snippet names: letters, digits and `_`, not starting with a digit (they appear as `[name]` in SQL). */
export const SNIPPET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The `sql_snippets` resource (contract §3.10), one line per attribute: the domain type `SqlSnippet`,
 * the row mapping, the API attributes, request schemas and the backup form derive from it.
 */
export const sqlSnippetFields = defineFields({
  id: f.id(),
  organizationId: f.tenant(),
  name: f.text(z.string().max(200).regex(SNIPPET_NAME, 'must be letters, digits and "_" (not starting with a digit)')).required(),
  description: f.text({ max: 10_000 }).nullable(),
  text: f
    .text(
      z
        .string()
        .min(1)
        .max(1_000_000)
        .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters'),
    )
    .required(),
  params: f.text(nulFreeText(10_000)).nullable(),
  datasourceId: f.ref('datasources'),
  /** Snippets this one references (direct; `sql_snippet_references`); derived from `text` unless given. */
  sqlSnippetIds: f.refs('sql_snippets'),
  createdAt: f.createdAt(),
  updatedAt: f.updatedAt(),
});
