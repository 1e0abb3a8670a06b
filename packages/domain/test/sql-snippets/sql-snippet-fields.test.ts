import { describe, expect, it } from '@jest/globals';
import { sqlSnippetFields, type SqlSnippet } from '../../src/sql-snippets/index.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Flat<T> = { [K in keyof T]: T[K] };
function assertType<_T extends true>(): void {}

// Pinned to what was written by hand before the field table; new fields may be added without touching this test.
describe('sqlSnippetFields', () => {
  it('infers the SqlSnippet domain type and keeps the attributes, relationships and backup members', () => {
    assertType<Equal<Flat<Pick<SqlSnippet, keyof SqlSnippetBefore>>, SqlSnippetBefore>>();
    const only = (names: readonly string[], kept: readonly string[]) => names.filter((n) => kept.includes(n));
    const attributes = ['name', 'description', 'text', 'params', 'created_at', 'updated_at'];
    expect(only(sqlSnippetFields.attributes, attributes)).toEqual(attributes);
    expect(sqlSnippetFields.relationships).toEqual({ datasource: { type: 'datasources', many: false }, sql_snippets: { type: 'sql_snippets', many: true } });
    const now = new Date();
    const snippet: SqlSnippet = {
      id: 's',
      organizationId: 'o',
      datasourceId: 'd',
      name: 'n',
      description: null,
      text: 't',
      params: null,
      sqlSnippetIds: ['r'],
      createdAt: now,
      updatedAt: now,
    };
    const backup = ['id', 'name', 'description', 'text', 'params', 'datasource_id', 'sql_snippet_ids'];
    expect(only(Object.keys(sqlSnippetFields.toBackup(snippet)), backup)).toEqual(backup);
    expect(sqlSnippetFields.toBackup(snippet)).toMatchObject({ datasource_id: 'd', sql_snippet_ids: ['r'] });
  });
});

type SqlSnippetBefore = {
  id: string;
  organizationId: string;
  datasourceId: string;
  name: string;
  description: string | null;
  text: string;
  params: string | null;
  sqlSnippetIds: string[];
  createdAt: Date;
  updatedAt: Date;
};
