import { expandSnippets } from '../query/snippets.js';
import { parseParameterAt } from '../query/parameter-parser.js';
import { skipNonCode } from '../query/sql-lexer.js';
import type { SnippetDefinition, SqlDialect } from '../query/query.types.js';

/** What a piece of report/filter SQL refers to. */
export interface SqlReferences {
  /** Variable names used in `{…=var}`, `{…:var}`, `{var.selector}` and `{var}` parameters (first use first). */
  variables: string[];
  /** Names of the custom snippets used, transitive closure. */
  snippetNames: string[];
}

function scan(text: string, from: number, to: number, dialect: SqlDialect, out: Set<string>): void {
  let i = from;
  while (i < to) {
    const skipped = skipNonCode(text, i, dialect);
    if (skipped !== i) {
      i = skipped;
      continue;
    }
    if (text[i] === '{') {
      let p: ReturnType<typeof parseParameterAt>;
      try {
        p = parseParameterAt(
          text,
          i,
          dialect,
          () => false,
          (offset) => ({ position: { offset, line: 1, column: offset + 1 } }),
        );
      } catch {
        p = null;
      }
      if (p && p.end <= to) {
        out.add(p.variable);
        if (p.lhs?.bracket) scan(text, p.lhs.offset, p.lhs.offset + p.lhs.sql.length, dialect, out);
        i = p.end;
        continue;
      }
    }
    i++;
  }
}

/**
 * Lists the variables and snippets a SQL text refers to, without compiling it (no filter definitions
 * or input values needed). Snippets are expanded first, so parameters inside snippets count. SQL the
 * compiler would reject (e.g. a snippet cycle) is scanned unexpanded instead of failing: this is used
 * to derive relationships, never to validate.
 * @param dialect lexing rules for strings, quoted identifiers and comments
 */
export function findSqlReferences(sql: string | null | undefined, snippets: SnippetDefinition[], dialect: SqlDialect = 'postgres'): SqlReferences {
  if (!sql) return { variables: [], snippetNames: [] };
  let text = sql;
  let snippetNames: string[] = [];
  try {
    const expanded = expandSnippets(sql, snippets, dialect);
    text = expanded.sql;
    snippetNames = expanded.snippetNames;
  } catch {
    // keep the unexpanded text
  }
  const variables = new Set<string>();
  scan(text, 0, text.length, dialect, variables);
  return { variables: [...variables], snippetNames };
}
