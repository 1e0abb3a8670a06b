import { UnavailableError } from '../errors.js';

/** What clients are told to wait before retrying while Sightline's database is unreachable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** SQLSTATEs of a server that refuses or drops sessions (connection exception, shutdown, too many connections). */
function isConnectionSqlState(code: string): boolean {
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';
}

/** Socket-level failures reaching a server (Node `code`s). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Messages node-postgres raises without any code when a session breaks or cannot be opened (its
 * `client.js`); knex prefixes the SQL, so they are matched as the end of the message.
 */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
];

/** Error names of a pool that could not hand out a connection in time (knex, tarn). */
const POOL_TIMEOUT_NAMES = new Set(['KnexTimeoutError', 'TimeoutError']);

/**
 * True when `err` (or an error it wraps) says Sightline's own PostgreSQL could not be reached or
 * dropped the session: refused or reset connections, a pool that could not connect in time, a
 * server shutting down (57P01) or starting (57P03), too many connections. Statement errors (a
 * constraint, a syntax error, a cancelled statement) are not.
 */
export function isConnectionFailure(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 4) return false;
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && (SOCKET_CODES.has(e.code) || (/^[0-9A-Z]{5}$/.test(e.code) && isConnectionSqlState(e.code)))) return true;
  if (typeof e.name === 'string' && POOL_TIMEOUT_NAMES.has(e.name)) return true;
  if (typeof e.message === 'string' && !e.code && PG_CONNECTION_MESSAGES.some((m) => (e.message as string).endsWith(m))) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isConnectionFailure(inner, depth + 1))) return true;
  return isConnectionFailure(e.cause, depth + 1);
}

/**
 * The 503 of a request that failed because Sightline's database is unreachable (with
 * `Retry-After`).
 */
export function databaseUnavailable(cause: unknown): UnavailableError {
  return new UnavailableError('The database is not reachable at the moment; try again shortly', {
    code: 'database_unavailable',
    cause,
    retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
    meta: { retry_after_seconds: DATABASE_RETRY_AFTER_SECONDS },
  });
}
