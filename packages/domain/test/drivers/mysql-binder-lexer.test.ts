import { describe, expect, it } from '@jest/globals';
import { bindMysqlPlaceholders } from '../../src/drivers/mysql-values.js';
import { skipNonCode } from '../../src/query/sql-lexer.js';

const ctx = { noBackslashEscapes: false, timeZone: 'UTC' };

/** Every `?` the query compiler's lexer sees as code, by position. */
function codePlaceholders(sql: string, noBackslashEscapes: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < sql.length;) {
    const skipped = skipNonCode(sql, i, 'mysql', { noBackslashEscapes });
    if (skipped > i) i = skipped;
    else {
      if (sql[i] === '?') out.push(i);
      i++;
    }
  }
  return out;
}

describe('MySQL placeholder binding uses the shared SQL lexer', () => {
  it('treats "--" followed by a control character as a comment, like MySQL and the query compiler', () => {
    const sql = 'SELECT ? --\u0001 ?\n';
    expect(codePlaceholders(sql, false)).toHaveLength(1);
    expect(bindMysqlPlaceholders(sql, [1], ctx)).toBe('SELECT 1 --\u0001 ?\n');
  });

  it('counts the same placeholders as the lexer, with and without NO_BACKSLASH_ESCAPES', () => {
    const sql = String.raw`SELECT 'a\' ?', ? FROM t WHERE b = "x\" ?" -- ?` + '\n AND c = ?';
    for (const noBackslashEscapes of [false, true]) {
      const count = codePlaceholders(sql, noBackslashEscapes).length;
      const values = Array.from({ length: count }, (_, i) => i);
      expect(() => bindMysqlPlaceholders(sql, values, { ...ctx, noBackslashEscapes })).not.toThrow();
    }
    // with backslash escapes the quotes hide their "?"; without, the first literal ends at "\'" and
    // the next quote opens a literal that runs to the end
    expect(codePlaceholders(sql, false)).toHaveLength(2);
    expect(codePlaceholders(sql, true)).toHaveLength(1);
  });
});
