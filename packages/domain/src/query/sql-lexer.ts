import type { SqlDialect } from './query.types.js';

/**
 * Minimal SQL lexing shared by snippet expansion and parameter scanning: it only needs to know which
 * parts of the text are *not code* (string literals, quoted identifiers, comments), so that `{…}` and
 * `[…]` inside them are never touched.
 *
 * Recognised (per dialect):
 * - `'…'` with `''` doubling; backslash escapes in MySQL, and in PostgreSQL `E'…'` strings;
 * - `"…"` with `""` doubling (MySQL also honours backslash escapes inside);
 * - `` `…` `` with ``` `` ``` doubling (both dialects; harmless in PostgreSQL);
 * - PostgreSQL dollar quoting `$tag$…$tag$` (`$1` is a parameter, not a tag);
 * - `--` line comments (MySQL: only when followed by whitespace/control char or end), MySQL `#` line
 *   comments, `/* … *\/` block comments (nested in PostgreSQL).
 * An unterminated construct extends to the end of the text.
 */

/** True for characters that may continue an unquoted identifier (`$` included: PG/MySQL allow it). */
export function isIdentChar(ch: string | undefined): boolean {
  return ch !== undefined && /[A-Za-z0-9_$\u0080-\uffff]/.test(ch);
}

const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

/** How the server reads the text, beyond its dialect. */
export interface LexOptions {
  /** MySQL `sql_mode` NO_BACKSLASH_ESCAPES: a backslash is an ordinary character inside quotes. */
  noBackslashEscapes?: boolean;
}

/**
 * If a string literal, quoted identifier or comment starts at `i`, returns the index just after it;
 * otherwise returns `i`. The one SQL lexer: query compilation, snippet expansion, reference scanning
 * and MySQL placeholder binding all skip non-code through it.
 */
export function skipNonCode(text: string, i: number, dialect: SqlDialect, options: LexOptions = {}): number {
  const ch = text[i];
  const next = text[i + 1];
  const mysqlBackslashes = dialect === 'mysql' && !options.noBackslashEscapes;
  switch (ch) {
    case "'": {
      const prev = text[i - 1];
      const backslashes = mysqlBackslashes || (dialect !== 'mysql' && (prev === 'E' || prev === 'e') && !isIdentChar(text[i - 2]));
      return skipQuoted(text, i, "'", backslashes);
    }
    case '"':
      return skipQuoted(text, i, '"', mysqlBackslashes);
    case '`':
      return skipQuoted(text, i, '`', false);
    case '$': {
      if (dialect !== 'postgres' || isIdentChar(text[i - 1])) return i;
      DOLLAR_TAG.lastIndex = i;
      const m = DOLLAR_TAG.exec(text);
      if (!m) return i;
      const close = text.indexOf(m[0], i + m[0].length);
      return close < 0 ? text.length : close + m[0].length;
    }
    case '-': {
      if (next !== '-') return i;
      if (dialect === 'mysql') {
        const after = text[i + 2];
        if (after !== undefined && !/[\s\x00-\x1f]/.test(after)) return i;
      }
      return skipLine(text, i);
    }
    case '#':
      return dialect === 'mysql' ? skipLine(text, i) : i;
    case '/': {
      if (next !== '*') return i;
      if (dialect === 'mysql') {
        const close = text.indexOf('*/', i + 2);
        return close < 0 ? text.length : close + 2;
      }
      let depth = 0;
      let j = i;
      while (j < text.length) {
        if (text[j] === '/' && text[j + 1] === '*') {
          depth++;
          j += 2;
        } else if (text[j] === '*' && text[j + 1] === '/') {
          depth--;
          j += 2;
          if (depth === 0) return j;
        } else j++;
      }
      return text.length;
    }
    default:
      return i;
  }
}

function skipLine(text: string, i: number): number {
  const nl = text.indexOf('\n', i);
  return nl < 0 ? text.length : nl;
}

function skipQuoted(text: string, i: number, quote: string, backslashes: boolean): number {
  let j = i + 1;
  while (j < text.length) {
    const c = text[j];
    if (backslashes && c === '\\') {
      j += 2;
      continue;
    }
    if (c === quote) {
      if (text[j + 1] === quote) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return text.length;
}

/**
 * Matching closing bracket for every `[` / `(` at a code position of `text`, computed in one pass
 * (so scanning many `{[` is linear, not quadratic). Unbalanced openers map to -1.
 */
export type BracketIndex = Map<number, number>;

/** Builds the `BracketIndex` of `text` (one lexing pass). */
export function buildBracketIndex(text: string, dialect: SqlDialect): BracketIndex {
  const index: BracketIndex = new Map();
  const stack: Array<{ at: number; close: string }> = [];
  let j = 0;
  while (j < text.length) {
    const skipped = skipNonCode(text, j, dialect);
    if (skipped !== j) {
      j = skipped;
      continue;
    }
    const c = text[j];
    if (c === '[' || c === '(') stack.push({ at: j, close: c === '[' ? ']' : ')' });
    else if (c === ']' || c === ')') {
      const top = stack.pop();
      if (top && top.close === c) index.set(top.at, j);
      else {
        // A mismatched closer ends every open group (each of them would meet it at its top).
        if (top) index.set(top.at, -1);
        for (const open of stack) index.set(open.at, -1);
        stack.length = 0;
      }
    }
    j++;
  }
  for (const open of stack) index.set(open.at, -1);
  return index;
}

/**
 * Reads a balanced group starting at the opening bracket `text[i]` (`[` or `(`): nested `[]`/`()` and
 * non-code regions are respected. Returns the index of the matching closing bracket, or -1.
 * @param index the text's `BracketIndex`, if already built (answers in O(1))
 */
export function findClosingBracket(text: string, i: number, dialect: SqlDialect, index?: BracketIndex): number {
  const known = index?.get(i);
  if (known !== undefined) return known;
  const stack: string[] = [];
  let j = i;
  while (j < text.length) {
    const skipped = skipNonCode(text, j, dialect);
    if (skipped !== j) {
      j = skipped;
      continue;
    }
    const c = text[j];
    if (c === '[' || c === '(') stack.push(c === '[' ? ']' : ')');
    else if (c === ']' || c === ')') {
      if (stack.pop() !== c) return -1;
      if (stack.length === 0) return j;
    }
    j++;
  }
  return -1;
}

/**
 * Splits `text` at top-level commas (outside brackets, parentheses and non-code regions).
 * Returns the raw parts with their start offsets in `text`.
 */
export function splitTopLevel(text: string, dialect: SqlDialect): Array<{ text: string; offset: number }> {
  const parts: Array<{ text: string; offset: number }> = [];
  let depth = 0;
  let start = 0;
  let j = 0;
  while (j < text.length) {
    const skipped = skipNonCode(text, j, dialect);
    if (skipped !== j) {
      j = skipped;
      continue;
    }
    const c = text[j];
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      parts.push({ text: text.slice(start, j), offset: start });
      start = j + 1;
    }
    j++;
  }
  parts.push({ text: text.slice(start), offset: start });
  return parts;
}
