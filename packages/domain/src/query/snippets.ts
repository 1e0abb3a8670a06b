import { QueryCompileError, positionAt, type QueryErrorLocation } from './query-compile-error.js';
import type { SnippetDefinition, SqlDialect } from './query.types.js';
import { buildBracketIndex, findClosingBracket, skipNonCode, splitTopLevel, type BracketIndex } from './sql-lexer.js';

/** Maximum snippet nesting depth (a top-level reference is depth 1). */
export const MAX_SNIPPET_DEPTH = 10;

/** Maximum length of the SQL after snippet expansion (guards against exponential expansion). */
const MAX_EXPANDED_SQL_LENGTH = 2_000_000;

/** Built-in snippet names; they are not expanded textually but compiled to bind parameters. */
export const BUILTIN_SNIPPET_NAMES = [
  'CLUVIO_USER_EMAIL',
  'CLUVIO_USER_FIRSTNAME',
  'CLUVIO_USER_LASTNAME',
  'CLUVIO_USER_ROLE',
  'CLUVIO_DASHBOARD_NAME',
  'CLUVIO_DASHBOARD_ID',
] as const;

/** One of the built-in snippet names. */
export type BuiltinSnippetName = (typeof BUILTIN_SNIPPET_NAMES)[number];

/** True if `name` is a built-in snippet name (exact, upper case). */
export function isBuiltinSnippetName(name: string): name is BuiltinSnippetName {
  return (BUILTIN_SNIPPET_NAMES as readonly string[]).includes(name);
}

const SNIPPET_REF_HEAD = /\[\s*([A-Za-z_][A-Za-z0-9_]*)\s*([(\]])/y;
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A parsed `[name]` / `[name(args)]` reference. */
interface SnippetRef {
  name: string;
  /** Raw argument texts, `undefined` when called without parentheses. */
  args?: Array<{ text: string; offset: number }>;
  end: number;
}

/**
 * Parses a snippet reference at `text[i] === '['` if its name is a built-in or one of `known`.
 * Returns null when the bracket group is not a snippet reference (it is then left untouched).
 */
export function parseSnippetRef(text: string, i: number, known: (name: string) => boolean, dialect: SqlDialect, brackets?: BracketIndex): SnippetRef | null {
  SNIPPET_REF_HEAD.lastIndex = i;
  const m = SNIPPET_REF_HEAD.exec(text);
  if (!m) return null;
  const name = m[1]!;
  if (!known(name) && !isBuiltinSnippetName(name)) return null;
  if (m[2] === ']') return { name, end: i + m[0].length };
  const open = i + m[0].length - 1;
  const close = findClosingBracket(text, open, dialect, brackets);
  if (close < 0) return null;
  const rest = /\s*\]/y;
  rest.lastIndex = close + 1;
  const r = rest.exec(text);
  if (!r) return null;
  const inner = text.slice(open + 1, close);
  const args = inner.trim() === '' ? [] : splitTopLevel(inner, dialect).map((a) => ({ text: a.text, offset: open + 1 + a.offset }));
  return { name, args, end: close + 1 + r[0].length };
}

/** Maps offsets of the expanded SQL back to the author's SQL. */
interface SourceMap {
  /** Location in the author's SQL of an offset in the expanded SQL. */
  locate(expandedOffset: number): QueryErrorLocation;
}

interface Span {
  outStart: number;
  outEnd: number;
  srcStart: number;
  srcEnd: number;
  snippet: string;
}

/** Result of `expandSnippetsWithMap`. */
export interface SnippetExpansion {
  sql: string;
  snippetNames: string[];
  sourceMap: SourceMap;
}

/**
 * Expands `[snippet]` references (recursively, depth ≤ 10) and returns the source map needed to
 * report positions in the author's SQL. Built-in `[CLUVIO_…]` references are left in place.
 * @throws QueryCompileError on a cycle, a too deep nesting, or bad snippet arguments
 */
export function expandSnippetsWithMap(sql: string, snippets: SnippetDefinition[], dialect: SqlDialect): SnippetExpansion {
  const byName = new Map<string, SnippetDefinition>();
  for (const s of snippets) byName.set(s.name, s);
  const spans: Span[] = [];
  const locateSrc = (offset: number, snippet?: string): QueryErrorLocation => ({
    position: positionAt(sql, offset),
    ...(snippet ? { snippet } : {}),
  });

  // Expansion of one snippet body, memoised: the same reference (same name and arguments) expands
  // to the same text, so shared sub-snippets are expanded once (keeps diamonds linear).
  interface Expanded {
    text: string;
    /** Deepest nesting below this body (0 = no references). */
    height: number;
    /** Snippets referenced below this body, first use first. */
    names: string[];
  }
  const memo = new Map<string, Expanded>();

  const expand = (text: string, depth: number, stack: string[], root: { offset: number; name: string } | null): Expanded => {
    let out = '';
    let height = 0;
    const names: string[] = [];
    let i = 0;
    let copyFrom = 0;
    let brackets: BracketIndex | undefined;
    while (i < text.length) {
      const skipped = skipNonCode(text, i, dialect);
      if (skipped !== i) {
        i = skipped;
        continue;
      }
      if (text[i] !== '[') {
        i++;
        continue;
      }
      brackets ??= buildBracketIndex(text, dialect);
      const ref = parseSnippetRef(text, i, (n) => byName.has(n), dialect, brackets);
      if (!ref || isBuiltinSnippetName(ref.name)) {
        i++;
        continue;
      }
      const where = root ? locateSrc(root.offset, root.name) : locateSrc(i);
      if (stack.includes(ref.name)) {
        throw new QueryCompileError(`Snippet cycle: ${[...stack, ref.name].join(' -> ')}`, where, { snippetChain: [...stack, ref.name] });
      }
      if (depth + 1 > MAX_SNIPPET_DEPTH) {
        throw new QueryCompileError(`Snippets are nested deeper than ${MAX_SNIPPET_DEPTH} levels: ${[...stack, ref.name].join(' -> ')}`, where, {
          snippetChain: [...stack, ref.name],
        });
      }
      const def = byName.get(ref.name)!;
      const body = applySnippetArguments(def, ref.args, where);
      const key = `${def.name}\u0000${body}`;
      let sub = memo.get(key);
      // A memoised result is only valid here if it cannot hit the depth limit or a cycle from this stack.
      if (!sub || depth + 1 + sub.height > MAX_SNIPPET_DEPTH || sub.names.some((n) => stack.includes(n))) {
        sub = expand(body, depth + 1, [...stack, def.name], root ?? { offset: i, name: def.name });
        memo.set(key, sub);
      }
      for (const n of [def.name, ...sub.names]) if (!names.includes(n)) names.push(n);
      height = Math.max(height, sub.height + 1);
      out += text.slice(copyFrom, i);
      if (out.length + sub.text.length > MAX_EXPANDED_SQL_LENGTH) {
        throw new QueryCompileError(`The SQL is longer than ${MAX_EXPANDED_SQL_LENGTH} characters after snippet expansion`, where);
      }
      if (depth === 0) {
        spans.push({ outStart: out.length, outEnd: out.length + sub.text.length, srcStart: i, srcEnd: ref.end, snippet: def.name });
      }
      out += sub.text;
      i = ref.end;
      copyFrom = i;
    }
    return { text: out + text.slice(copyFrom), height, names };
  };

  if (sql.length > MAX_EXPANDED_SQL_LENGTH) throw new QueryCompileError(`The SQL is longer than ${MAX_EXPANDED_SQL_LENGTH} characters`);
  const top = expand(sql, 0, [], null);
  const expandedSql = top.text;
  const used = top.names;
  const sourceMap: SourceMap = {
    locate(offset) {
      let delta = 0;
      for (const s of spans) {
        if (offset < s.outStart) break;
        if (offset < s.outEnd) return locateSrc(s.srcStart, s.snippet);
        delta += s.outEnd - s.outStart - (s.srcEnd - s.srcStart);
      }
      return locateSrc(offset - delta);
    },
  };
  return { sql: expandedSql, snippetNames: used, sourceMap };
}

/**
 * Expands every custom `[snippet]` / `[snippet(args)]` reference in `sql`, recursively (snippets may
 * reference snippets; nesting depth ≤ 10). A bracket group whose content is not exactly a known
 * snippet name (optionally with an argument list) is left untouched, as are references inside string
 * literals, quoted identifiers and comments. Built-in `[CLUVIO_…]` snippets are left in place
 * (`compileQuery` turns them into bind parameters).
 * @param dialect lexing rules for strings/comments (default `postgres`)
 * @returns the expanded SQL and the transitive closure of used snippet names (first use first)
 * @throws QueryCompileError on a cycle, nesting deeper than 10, or invalid snippet arguments
 */
export function expandSnippets(sql: string, snippets: SnippetDefinition[], dialect: SqlDialect = 'postgres'): { sql: string; snippetNames: string[] } {
  const { sql: out, snippetNames } = expandSnippetsWithMap(sql, snippets, dialect);
  return { sql: out, snippetNames };
}

interface SnippetParam {
  name: string;
  defaultText?: string;
}

/**
 * Parses a snippet's `params` attribute: comma-separated names, each optionally `name=default`.
 * @throws QueryCompileError on an invalid or duplicate name
 */
export function parseSnippetParams(params: string | null | undefined, snippetName = 'snippet'): SnippetParam[] {
  if (params == null || params.trim() === '') return [];
  const out: SnippetParam[] = [];
  for (const part of splitTopLevel(params, 'postgres')) {
    const eq = part.text.indexOf('=');
    const name = (eq < 0 ? part.text : part.text.slice(0, eq)).trim();
    if (!PARAM_NAME.test(name)) throw new QueryCompileError(`Snippet '${snippetName}' has an invalid parameter name '${name}' in params`);
    if (out.some((p) => p.name === name)) throw new QueryCompileError(`Snippet '${snippetName}' declares parameter '${name}' twice`);
    out.push(eq < 0 ? { name } : { name, defaultText: part.text.slice(eq + 1).trim() });
  }
  return out;
}

function applySnippetArguments(def: SnippetDefinition, args: SnippetRef['args'], where: QueryErrorLocation): string {
  const params = parseSnippetParams(def.params, def.name);
  if (params.length === 0) {
    if (args && args.length > 0) throw new QueryCompileError(`Snippet '${def.name}' takes no arguments`, where);
    return def.text;
  }
  const values = new Map<string, string>();
  let positional = 0;
  let sawNamed = false;
  for (const arg of args ?? []) {
    const named = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)/.exec(arg.text);
    if (named && params.some((p) => p.name === named[1])) {
      const name = named[1]!;
      if (values.has(name)) throw new QueryCompileError(`Snippet '${def.name}': argument '${name}' given twice`, where);
      values.set(name, arg.text.slice(named[0].length).trim());
      sawNamed = true;
      continue;
    }
    if (sawNamed) throw new QueryCompileError(`Snippet '${def.name}': positional argument after a named one`, where);
    const param = params[positional++];
    if (!param) throw new QueryCompileError(`Snippet '${def.name}' takes at most ${params.length} argument(s)`, where);
    values.set(param.name, arg.text.trim());
  }
  for (const p of params) {
    if (!values.has(p.name)) {
      if (p.defaultText === undefined) throw new QueryCompileError(`Snippet '${def.name}': missing argument '${p.name}'`, where);
      values.set(p.name, p.defaultText);
    }
  }
  return def.text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => values.get(name) ?? whole);
}
