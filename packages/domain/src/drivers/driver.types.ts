import type { Duplex } from 'node:stream';
import type { SqlDialect } from '../query/query.types.js';

/** Every `database_type` of the API contract (§3.1). */
export type DatabaseType =
  | 'postgres'
  | 'redshift'
  | 'mysql'
  | 'mariadb'
  | 'oracle'
  | 'mssql'
  | 'bigquery'
  | 'athena'
  | 'presto'
  | 'trino'
  | 'snowflake'
  | 'vertica'
  | 'mongodb'
  | 'databricks';

/** All database types the API accepts, in contract order. */
export const DATABASE_TYPES: readonly DatabaseType[] = Object.freeze([
  'postgres',
  'redshift',
  'mysql',
  'mariadb',
  'oracle',
  'mssql',
  'bigquery',
  'athena',
  'presto',
  'trino',
  'snowflake',
  'vertica',
  'mongodb',
  'databricks',
] as const);

/** The database types this build has a driver for (`createDriver` throws for the others). */
export const SUPPORTED_DATABASE_TYPES: readonly DatabaseType[] = Object.freeze(['postgres', 'redshift', 'mysql', 'mariadb'] as const);

/** True when `value` is one of `DATABASE_TYPES`. */
export function isDatabaseType(value: unknown): value is DatabaseType {
  return typeof value === 'string' && (DATABASE_TYPES as readonly string[]).includes(value);
}

/** True when this build can connect to `type`. */
export function isSupportedDatabaseType(type: DatabaseType): boolean {
  return SUPPORTED_DATABASE_TYPES.includes(type);
}

/** The SQL dialect a database type speaks (only for supported types). */
export function dialectOf(type: DatabaseType): SqlDialect | undefined {
  if (type === 'postgres' || type === 'redshift') return 'postgres';
  if (type === 'mysql' || type === 'mariadb') return 'mysql';
  return undefined;
}

/** Column data type of results and schemas (the contract's `DataType`). */
export type DataType =
  | 'Boolean'
  | 'Integer'
  | 'BigInt'
  | 'Float'
  | 'String'
  | 'JSON'
  | 'DateTime'
  | 'Date'
  | 'Time'
  | 'Binary'
  | 'Internal'
  | 'Other'
  | 'Record'
  | 'BooleanArray'
  | 'BinaryArray'
  | 'FloatArray'
  | 'IntegerArray'
  | 'BigIntArray'
  | 'RecordArray'
  | 'StringArray'
  | 'DateArray'
  | 'TimeArray'
  | 'DateTimeArray'
  | 'JSONArray'
  | 'OtherArray';

/** How to reach a datasource. Credentials stay in memory only; they never appear in error messages. */
export interface ConnectionSettings {
  databaseType: DatabaseType;
  host: string | null;
  port: number | null;
  username: string | null;
  password: string | null;
  database: string | null;
  requireSsl: boolean;
  verifySsl: boolean;
  /** IANA zone name; the session time zone of every query (e.g. `Europe/Berlin`). */
  dataTimeZone: string;
  /** Upper bound for opening a session, in milliseconds (default 10000). */
  connectTimeoutMs?: number;
  /**
   * How the driver reaches `host:port`. Undefined (direct mode): a plain TCP connection from this
   * process. Otherwise every session (queries, Test Connection, cancel, schema refresh) is opened
   * through `transport.open(host, port)`, where `host`/`port` are seen from the transport's far end.
   */
  transport?: DatasourceTransport;
}

/**
 * A way to reach a database server other than direct TCP: an SSH tunnel through a bastion, or a
 * datasource agent inside the customer's network. The drivers speak their wire protocol (TLS
 * included when `require_ssl`) over the returned stream, one stream per database session: node-postgres
 * gets it as the `stream` option of its client config, mysql2 as its `stream` connection option.
 *
 * Contract for implementations:
 * - `open` resolves with a connected, bidirectional byte stream to `host:port` (e.g. an ssh2
 *   `forwardOut` channel or an agent-multiplexed stream); bytes written are delivered to the
 *   database, bytes the database sends are readable.
 * - It rejects (ideally with a `QueryError` kind `connection_error` whose message names what failed,
 *   e.g. "SSH tunnel to bastion:22: authentication failed") when the stream cannot be opened. The driver
 *   bounds `open` by its connect timeout and destroys a stream that arrives later.
 * - When the path breaks later (tunnel or agent gone), the stream should be destroyed with an Error
 *   whose message says so: the driver reports that message as the query's `connection_error`.
 * - Destroying the stream (the driver does when a session ends) must release its resources. The
 *   drivers call `unref()` on a pooled idle session's stream and `ref()` when it is used again: a
 *   stream offering them should then not (or again) keep the process alive.
 */
export interface DatasourceTransport {
  /**
   * Identifies the path (e.g. `ssh:user@bastion:22`): pooled sessions are shared only between
   * settings with equal keys, so a changed tunnel never reuses sessions of the old one.
   */
  readonly key?: string;
  /** Opens one stream to the database at `host:port`. @throws QueryError kind connection_error */
  open(host: string, port: number): Promise<Duplex>;
}

/** One column of a result set. */
export interface ResultColumn {
  name: string;
  /** The database's own type name (e.g. `int4`, `timestamptz`, `VARCHAR`). */
  dbType: string;
  dataType: DataType;
}

/** CSV options of `QueryOptions.csv` (those of `CsvRowEncoder`, @sightline/render/csv). */
export interface CsvLineFormat {
  columnSeparator: ',' | ';' | '\t';
  decimalSeparator: '.' | ',' | '/';
  quoteStyle: 'necessary' | 'always';
}

export interface QueryOptions {
  /** Wall-clock limit of the whole query (from `query()` until the last row), in milliseconds. */
  timeoutMs: number;
  /** Rows per batch yielded by `rows()` (default 1000). */
  batchSize?: number;
  /**
   * The caller stores rows as JSON (the result writer): the driver may let the database encode
   * them and attach each row's exact JSON text to its batch (`rowJsonOf`). Values are the same.
   */
  jsonText?: boolean;
  /**
   * The caller writes the rows as CSV in this format (the unlimited CSV export): the driver may let
   * the database encode them and yield batches whose `csvPiecesOf` holds the exact lines (values
   * not decoded), or a row's values where the database could not. Such batches may hold somewhat
   * more than `batchSize` rows.
   */
  csv?: CsvLineFormat;
  /**
   * Called with the session id (pg backend pid, mysql connection id) once the session is set up and
   * before the statement is sent, so that another process can end the query if this one dies.
   * A rejection ends the session and is passed on unchanged.
   */
  onSession?: (sessionId: number) => Promise<void>;
}

/** A query running on its own database session. */
export interface RunningQuery {
  /** Session/backend id in the database (pg backend pid, mysql connection/thread id). */
  backendId: number;
  /** Resolves once the row description arrives (empty for statements without a result set). */
  columns(): Promise<ResultColumn[]>;
  /**
   * Batches of positional rows, streamed (never the whole result in memory); values are JSON-safe.
   * Can be iterated once. @throws QueryError
   */
  rows(): AsyncIterable<unknown[][]>;
  /** Stops the query in the database within a second; a running or later iteration throws kind `cancelled`. */
  cancel(): Promise<void>;
  /** Releases the session (idempotent); stops the query if it still runs. */
  close(): Promise<void>;
}

/** A column of a table in `SchemaInfo`. */
export interface SchemaColumnInfo {
  name: string;
  db_type: string;
  data_type: DataType;
}

/** A table or view in `SchemaInfo`. */
export interface SchemaTableInfo {
  name: string;
  type: 'table' | 'view';
  /** Estimated (pg: planner statistics; mysql: information_schema) row count, null when unknown. */
  row_count: number | null;
  columns: SchemaColumnInfo[];
}

/** The structure of a datasource as the schema browser shows it (snake_case: it is stored as-is). */
export interface SchemaInfo {
  schemas: Array<{ name: string; tables: SchemaTableInfo[] }>;
  default_schema_name: string | null;
  server_version: string;
}

/** A connection to one datasource. Each `query` opens a dedicated session. */
export interface Driver {
  readonly dialect: SqlDialect;
  /**
   * Opens a session, asks for the server version and closes it. Bounded by the connect timeout even
   * for unreachable hosts. @throws QueryError (kind `connection_error` or `query_error`)
   */
  testConnection(): Promise<{ serverVersion: string }>;
  /**
   * Opens a dedicated session, sets the data time zone and statement timeout, and starts `sql`
   * with bound `values` (`$1` placeholders for postgres, `?` for mysql).
   * @throws QueryError when the session cannot be opened or set up
   */
  query(sql: string, values: unknown[], options: QueryOptions): Promise<RunningQuery>;
  /** Reads schemas, tables (with estimated row counts) and columns. @throws QueryError */
  introspect(options: { timeoutMs: number }): Promise<SchemaInfo>;
  /**
   * Ends a session of this datasource that another (possibly dead) process opened: stops its query
   * and closes it (`pg_terminate_backend`, `KILL CONNECTION`). Only sessions Sightline opened are
   * touched. Resolves false when no such session exists any more. @throws QueryError
   */
  endSession(sessionId: number): Promise<boolean>;
  /** Stops every query still running on this driver and releases its sessions. */
  close(): Promise<void>;
}

export type QueryErrorKind = 'query_error' | 'timed_out' | 'cancelled' | 'connection_error';

/**
 * A failure reported by a datasource. `message` is the database's own message (credentials
 * removed); `code` is its SQLSTATE (pg) or error code name (mysql) when there is one.
 */
export class QueryError extends Error {
  readonly code?: string;
  readonly kind: QueryErrorKind;

  constructor(kind: QueryErrorKind, message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'QueryError';
    this.kind = kind;
    if (options.code !== undefined) this.code = options.code;
  }
}

/** True for a `QueryError`. */
export function isQueryError(err: unknown): err is QueryError {
  return err instanceof QueryError;
}
