import { QueryCompileError, type QueryErrorLocation } from './query-compile-error.js';
import type { SqlDialect } from './query.types.js';
import { findClosingBracket, type BracketIndex } from './sql-lexer.js';

/** A `{…}` query parameter found in the SQL text. */
export interface ParsedParameter {
  /** condition `{lhs=var[.sel]}`, transformation `{lhs:target}`, value `{var.sel}`, bare `{var}` */
  form: 'condition' | 'transformation' | 'value' | 'bare';
  /** Offset of `{` and of the character after `}` in the scanned text. */
  start: number;
  end: number;
  /** Left-hand side: the SQL inside `[…]`, or the simple column reference. */
  lhs?: { sql: string; offset: number; bracket: boolean };
  variable: string;
  selector?: string;
  /** The parameter text, e.g. `{created_at=timerange}`. */
  source: string;
}

const IDENT = '(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")*"|`(?:[^`]|``)*`)';
const SIMPLE_REF = `${IDENT}(?:\\.${IDENT})*`;
const VAR = '[A-Za-z0-9_-]+';
const SEL = '[A-Za-z_][A-Za-z0-9_]*';
const CONDITION_RE = new RegExp(`^(\\s*)(${SIMPLE_REF})\\s*=\\s*(${VAR})(?:\\.(${SEL}))?\\s*$`);
const TRANSFORM_RE = new RegExp(`^(\\s*)(${SIMPLE_REF})\\s*:\\s*(${VAR})\\s*$`);
const VALUE_RE = new RegExp(`^\\s*(${VAR})\\.(${SEL})\\s*$`);
const BARE_RE = new RegExp(`^\\s*(${VAR})\\s*$`);
const LOOSE_RE = new RegExp(`^\\s*([^{}]+?)\\s*([=:])\\s*(${VAR})(?:\\.(${SEL}))?\\s*$`);
const MAX_SIMPLE_PARAMETER_LENGTH = 2000;
const BRACKET_TAIL_RE = new RegExp(`\\s*([=:])\\s*(${VAR})(?:\\.(${SEL}))?\\s*\\}`, 'y');

/**
 * Tries to read a query parameter at `text[i] === '{'`. Returns null if the braces do not hold a
 * parameter (they are then left untouched, e.g. ODBC escapes). Throws for text that clearly is meant
 * as a parameter of a *known* variable but has an invalid left-hand side (e.g. `{x::date:aggregation}`).
 * @param isKnownVariable true for built-ins, fixed aggregations and defined filters
 * @param locate maps an offset in `text` to a location for error messages
 * @param brackets the text's bracket index (optional, for speed)
 * @throws QueryCompileError
 */
export function parseParameterAt(
  text: string,
  i: number,
  dialect: SqlDialect,
  isKnownVariable: (name: string) => boolean,
  locate: (offset: number) => QueryErrorLocation,
  brackets?: BracketIndex,
): ParsedParameter | null {
  let j = i + 1;
  while (j < text.length && /\s/.test(text[j]!)) j++;
  if (text[j] === '[') {
    const close = findClosingBracket(text, j, dialect, brackets);
    if (close < 0) return null;
    BRACKET_TAIL_RE.lastIndex = close + 1;
    const m = BRACKET_TAIL_RE.exec(text);
    if (!m) return null;
    const end = close + 1 + m[0].length;
    const sql = text.slice(j + 1, close);
    if (sql.trim() === '') throw new QueryCompileError(`Empty [expression] in ${text.slice(i, end)}`, locate(i));
    return {
      form: m[1] === '=' ? 'condition' : 'transformation',
      start: i,
      end,
      lhs: { sql, offset: j + 1, bracket: true },
      variable: m[2]!,
      ...(m[3] !== undefined ? { selector: m[3] } : {}),
      source: text.slice(i, end),
    };
  }
  // A bracket-less parameter is short (names of ≤ 64 characters); do not scan the whole text.
  const close = text.indexOf('}', i + 1);
  if (close < 0 || close - i > MAX_SIMPLE_PARAMETER_LENGTH) return null;
  const content = text.slice(i + 1, close);
  if (content.includes('{')) return null;
  const end = close + 1;
  const source = text.slice(i, end);
  let m = CONDITION_RE.exec(content);
  if (m) {
    return {
      form: 'condition',
      start: i,
      end,
      lhs: { sql: m[2]!, offset: i + 1 + m[1]!.length, bracket: false },
      variable: m[3]!,
      ...(m[4] !== undefined ? { selector: m[4] } : {}),
      source,
    };
  }
  m = TRANSFORM_RE.exec(content);
  if (m) {
    return { form: 'transformation', start: i, end, lhs: { sql: m[2]!, offset: i + 1 + m[1]!.length, bracket: false }, variable: m[3]!, source };
  }
  m = VALUE_RE.exec(content);
  if (m) return { form: 'value', start: i, end, variable: m[1]!, selector: m[2]!, source };
  m = BARE_RE.exec(content);
  if (m) return { form: 'bare', start: i, end, variable: m[1]!, source };
  m = LOOSE_RE.exec(content);
  if (m && isKnownVariable(m[3]!)) {
    throw new QueryCompileError(
      `Invalid parameter ${source}: without brackets the left-hand side must be just a column name; write {[${m[1]}]${m[2]}${m[3]}${m[4] ? `.${m[4]}` : ''}}`,
      locate(i),
      { parameter: source },
    );
  }
  return null;
}
