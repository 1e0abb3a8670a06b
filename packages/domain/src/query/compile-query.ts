import { Binder } from './binder.js';
import { parseParameterAt, type ParsedParameter } from './parameter-parser.js';
import { QueryCompileError, type QueryErrorLocation } from './query-compile-error.js';
import type { CompileInput, CompiledQuery } from './query.types.js';
import { renderParameter } from './render-parameter.js';
import { buildResolveContext, isKnownVariable, resolveVariable, type ResolvedVariable } from './resolve.js';
import { expandSnippetsWithMap, isBuiltinSnippetName, parseSnippetRef, type BuiltinSnippetName } from './snippets.js';
import { buildBracketIndex, isIdentChar, skipNonCode } from './sql-lexer.js';
import { assertTimeZone } from './time-zones.js';

const BUILTIN_VALUES: Record<BuiltinSnippetName, keyof NonNullable<CompileInput['builtins']>> = {
  CLUVIO_USER_EMAIL: 'userEmail',
  CLUVIO_USER_FIRSTNAME: 'userFirstname',
  CLUVIO_USER_LASTNAME: 'userLastname',
  CLUVIO_USER_ROLE: 'userRole',
  CLUVIO_DASHBOARD_NAME: 'dashboardName',
  CLUVIO_DASHBOARD_ID: 'dashboardId',
};

/**
 * False when `sql` cannot reference a snippet (`[name]`) or a filter (`{…}`): it has neither
 * bracket, so compiling it needs no snippet or filter definitions (callers may skip loading them).
 */
export function mayReferenceDefinitions(sql: string): boolean {
  return typeof sql !== 'string' || sql.includes('[') || sql.includes('{');
}

/**
 * Compiles report/filter/alert SQL written in the Cluvio-compatible parameter language into SQL with
 * bind placeholders. Pure: no I/O; `now` is taken from the input.
 *
 * Steps: validate zones and request-level inputs → expand `[snippets]` → scan the SQL (skipping
 * strings, quoted identifiers and comments) for `{…}` parameters and built-in `[CLUVIO_…]` snippets →
 * resolve each variable (built-ins, filter definitions, else ad hoc multi-select TEXT) → render.
 * No input value is ever spliced into the SQL text: values are bound; aggregation SQL and zone names
 * come from whitelists. See README.md for the full rules.
 *
 * @returns SQL with `$1…$n` (PostgreSQL, textual order; a parameter repeated verbatim reuses its
 *   placeholders) or `?` (MySQL, one per occurrence — execute it as a server-side prepared statement,
 *   e.g. mysql2 `execute`), the bind values, the used snippets and the referenced variables
 * @throws QueryCompileError (422) for malformed parameters, unknown selectors, wrong forms, invalid
 *   input values or zones, snippet cycles/depth, and bind placeholders written in the query text
 */
export function compileQuery(input: CompileInput): CompiledQuery {
  const dialect = input.dialect;
  if (dialect !== 'postgres' && dialect !== 'mysql') throw new QueryCompileError(`Unsupported SQL dialect ${JSON.stringify(dialect)}`);
  if (typeof input.sql !== 'string') throw new QueryCompileError('sql must be a string');
  const dataZone = assertTimeZone(input.dataTimeZone, 'data time zone');
  const requestTz = input.parameters?.tz;
  if (requestTz !== undefined && requestTz !== null && requestTz !== '') assertTimeZone(requestTz, 'tz');
  let dashboardZone: string | null;
  if (input.dashboardTimeZone === undefined) dashboardZone = requestTz ? requestTz : null;
  else dashboardZone = input.dashboardTimeZone === null ? null : assertTimeZone(input.dashboardTimeZone, 'dashboard time zone');
  const operatingZone = dashboardZone ?? dataZone;

  const ctx = buildResolveContext(input, operatingZone, dashboardZone);
  const expansion = expandSnippetsWithMap(input.sql, input.snippets ?? [], dialect);
  const text = expansion.sql;
  const locate = (offset: number): QueryErrorLocation => expansion.sourceMap.locate(offset);
  const brackets = buildBracketIndex(text, dialect);
  const binder = new Binder(dialect);
  const variables: string[] = [];
  const resolved = new Map<string, ResolvedVariable>();
  const rendered = new Map<string, string>();

  const resolve = (name: string, at: number): ResolvedVariable => {
    if (!variables.includes(name)) variables.push(name);
    let v = resolved.get(name);
    if (!v) {
      v = resolveVariable(ctx, name, locate(at));
      resolved.set(name, v);
    }
    return v;
  };

  const renderSegment = (from: number, to: number): string => {
    let out = '';
    let copyFrom = from;
    let i = from;
    while (i < to) {
      const skipped = skipNonCode(text, i, dialect);
      if (skipped !== i) {
        i = Math.min(skipped, to);
        continue;
      }
      const ch = text[i];
      if (ch === '{') {
        const p = parseParameterAt(text, i, dialect, (n) => isKnownVariable(ctx, n), locate, brackets);
        if (p && p.end <= to) {
          out += text.slice(copyFrom, i) + renderOne(p);
          i = p.end;
          copyFrom = i;
          continue;
        }
      } else if (ch === '[') {
        const ref = parseSnippetRef(text, i, () => false, dialect, brackets);
        if (ref && ref.end <= to && isBuiltinSnippetName(ref.name)) {
          if (ref.args) throw new QueryCompileError(`Built-in snippet [${ref.name}] takes no arguments`, locate(i));
          const value = input.builtins?.[BUILTIN_VALUES[ref.name]] ?? null;
          const p = binder.bind(value);
          out += text.slice(copyFrom, i) + (dialect === 'postgres' ? `${p}::text` : p);
          i = ref.end;
          copyFrom = i;
          continue;
        }
      } else if (dialect === 'postgres' && ch === '$' && /\d/.test(text[i + 1] ?? '') && !isIdentChar(text[i - 1])) {
        throw new QueryCompileError('Positional parameters like $1 are not allowed in the query text; use filters ({column=filter}) instead', locate(i));
      } else if (dialect === 'mysql' && ch === '?') {
        throw new QueryCompileError("Placeholders '?' are not allowed in the query text; use filters ({column=filter}) instead", locate(i));
      }
      i++;
    }
    return out + text.slice(copyFrom, to);
  };

  const renderOne = (p: ParsedParameter): string => {
    // PostgreSQL: a parameter written identically twice (SELECT … GROUP BY …) renders identically,
    // reusing its placeholders. MySQL '?' placeholders cannot be shared.
    if (dialect === 'postgres') {
      const hit = rendered.get(p.source);
      if (hit !== undefined) {
        resolve(p.variable, p.start);
        return hit;
      }
    }
    const lhsSql = p.lhs ? (p.lhs.bracket ? renderSegment(p.lhs.offset, p.lhs.offset + p.lhs.sql.length) : p.lhs.sql) : undefined;
    const v = resolve(p.variable, p.start);
    const sql = renderParameter(p, v, lhsSql, { binder, zones: { dataZone, dashboardZone }, location: locate(p.start) });
    if (dialect === 'postgres') rendered.set(p.source, sql);
    return sql;
  };

  const sql = renderSegment(0, text.length);
  return { sql, values: binder.values, snippetNames: expansion.snippetNames, variables };
}
