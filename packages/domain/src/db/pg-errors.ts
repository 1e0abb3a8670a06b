import { AppError, ConflictError, UnavailableError, ValidationError } from '../errors.js';
import { databaseUnavailable, isConnectionFailure } from './connection-errors.js';

interface PgLikeError {
  code?: string;
  constraint?: string;
  table?: string;
  detail?: string;
  message?: string;
}

/** `sql_snippets` → `SQL snippets`: a table name as words for an error message. */
function tableWords(table: string): string {
  return table.replace(/_/g, ' ').replace(/\bsql\b/g, 'SQL');
}

/**
 * Maps a PostgreSQL error to an `AppError` by SQLSTATE (never by message text).
 * Returns the input unchanged when it is not a known database error.
 */
export function translatePgError(err: unknown): unknown {
  if (err instanceof AppError || typeof err !== 'object' || err === null) return err;
  // the database could not be reached or dropped the session (08xxx, 57P01/57P03, 53300, sockets, pool timeouts)
  if (isConnectionFailure(err)) return databaseUnavailable(err);
  const e = err as PgLikeError;
  switch (e.code) {
    case '23505':
      return new ConflictError(`A resource with these values already exists${e.constraint ? ` (${e.constraint})` : ''}`, { cause: err });
    // 23001: a row still referenced under ON DELETE RESTRICT (PostgreSQL 18 reports RESTRICT with
    // its own SQLSTATE; older servers say 23503). `table` is the referencing table.
    case '23001':
      return new ValidationError(
        e.table
          ? `It is still used by ${tableWords(e.table)}; remove or change those first`
          : 'It is still used by another resource; remove or change that first',
        { code: 'in_use', cause: err },
      );
    // 23503: a referenced row is missing (insert/update), or a row is still referenced (delete).
    case '23503':
      return new ValidationError(
        e.table
          ? `A related resource does not exist, or this one is still used by ${tableWords(e.table)}`
          : 'A related resource does not exist, or this one is still used by another',
        { code: 'in_use', cause: err },
      );
    case '23502':
    case '23514':
    case '22P02':
    case '22021': // invalid byte sequence, e.g. NUL in text
    case '22001':
    case '22003':
    case '22007':
    case '22008':
      return new ValidationError('A value is out of range or malformed', { cause: err });
    case '57014':
      return new UnavailableError('The statement was cancelled', { cause: err });
    default:
      return err;
  }
}
