import { ValidationError } from '../errors.js';
import type { SqlPosition } from './query.types.js';

/** Where an error happened: a position in the author's SQL and, if inside a snippet, its name. */
export interface QueryErrorLocation {
  position: SqlPosition;
  /** Set when the faulty text came from this snippet (the position is then the top-level reference). */
  snippet?: string;
}

/**
 * 422: the query text or its parameter inputs cannot be compiled (malformed expression, unknown
 * selector, wrong form for a filter type, bad input value, snippet cycle …). `meta.position`
 * (`{offset, line, column}`, 1-based line/column in the author's SQL) is set where relevant and the
 * detail names it.
 */
export class QueryCompileError extends ValidationError {
  /** Position in the author's SQL, when the problem is tied to one. */
  readonly position?: SqlPosition;

  /**
   * @param message what is wrong (without the position; it is appended)
   * @param location where in the SQL, if applicable
   * @param meta extra machine-readable details (e.g. `parameter`, `variable`)
   */
  constructor(message: string, location?: QueryErrorLocation | null, meta: Record<string, unknown> = {}) {
    const where = location
      ? location.snippet
        ? ` (in snippet '${location.snippet}' referenced at line ${location.position.line}, column ${location.position.column})`
        : ` (at line ${location.position.line}, column ${location.position.column})`
      : '';
    super(`${message}${where}`, {
      code: 'query_compile_error',
      meta: {
        ...meta,
        ...(location ? { position: location.position } : {}),
        ...(location?.snippet ? { snippet: location.snippet } : {}),
      },
    });
    this.position = location?.position;
  }
}

/**
 * Line/column of a 0-based offset in `text` (both 1-based; `\r\n`, `\n` and `\r` end a line).
 * @param text the text the offset refers to
 * @param offset 0-based, clamped to the text length
 */
export function positionAt(text: string, offset: number): SqlPosition {
  const end = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < end; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 10 || (ch === 13 && text.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { offset: end, line, column: end - lineStart + 1 };
}
