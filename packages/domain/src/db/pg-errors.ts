import { AppError, ConflictError, UnavailableError, ValidationError } from '../errors.js';

interface PgLikeError { code?: string; constraint?: string; detail?: string; message?: string }

/**
 * Maps a PostgreSQL error to an `AppError` by SQLSTATE (never by message text).
 * Returns the input unchanged when it is not a known database error.
 */
export function translatePgError(err: unknown): unknown {
  if (err instanceof AppError || typeof err !== 'object' || err === null) return err;
  const e = err as PgLikeError;
  switch (e.code) {
    case '23505':
      return new ConflictError(`A resource with these values already exists${e.constraint ? ` (${e.constraint})` : ''}`, { cause: err });
    case '23503':
      return new ValidationError(`The operation references or is referenced by another resource${e.constraint ? ` (${e.constraint})` : ''}`, { code: 'in_use', cause: err });
    case '23502':
    case '23514':
    case '22P02':
    case '22001':
    case '22003':
    case '22007':
    case '22008':
      return new ValidationError('A value is out of range or malformed', { cause: err });
    case '57014':
      return new UnavailableError('The statement was cancelled', { cause: err });
    case '53300':
    case '57P01':
    case '57P03':
    case '08006':
    case '08001':
      return new UnavailableError('The database is not available', { cause: err });
    default:
      return err;
  }
}
