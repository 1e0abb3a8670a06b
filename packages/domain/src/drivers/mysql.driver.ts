// MySQL and MariaDB datasources (mysql2, text protocol streamed row by row with back-pressure).
import mysql from 'mysql2';
import type { SqlDialect } from '../query/query.types.js';
import {
  QueryError,
  type ConnectionSettings,
  type Driver,
  type QueryOptions,
  type ResultColumn,
  type RunningQuery,
  type SchemaInfo,
  type SchemaTableInfo,
} from './driver.types.js';
import {
  PlaceholderMismatchError,
  bindMysqlPlaceholders,
  convertRow,
  mysqlCatalogDataType,
  mysqlColumnType,
  mysqlConverter,
  mysqlTypeCast,
  type MysqlFieldInfo,
} from './mysql-values.js';
import { SessionPool, settingsFingerprint, type DriverPooling } from './session-pool.js';
import { StreamingQuery, withDeadline } from './streaming-query.js';
import { openTransportSocket } from './transport.js';
import { redactSecret } from './values.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_BATCH_SIZE = 1_000;
/** Full batches buffered ahead of the consumer before the socket is paused. */
const MAX_BUFFERED_BATCHES = 2;

interface MysqlErrorLike {
  code?: string;
  errno?: number;
  message?: string;
  fatal?: boolean;
}

/** Error codes of a statement stopped by the server's own time limit. */
const SERVER_TIMEOUT_CODES = new Set(['ER_STATEMENT_TIMEOUT', 'ER_QUERY_TIMEOUT']);
const SERVER_TIMEOUT_ERRNOS = new Set([1969, 3024]);
const CONNECTION_CODES = new Set([
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_HOST_NOT_PRIVILEGED',
  'HANDSHAKE_NO_SSL_SUPPORT',
]);

interface SessionInfo {
  threadId: number;
  serverVersion: string;
  isMariaDb: boolean;
  noBackslashEscapes: boolean;
}

/** Zones whose offset never changes: exact as a fixed offset on servers without time-zone tables. */
const CONSTANT_UTC_ZONES = new Set([
  'UTC',
  'Etc/UTC',
  'Etc/UCT',
  'UCT',
  'Etc/Universal',
  'Universal',
  'Etc/Zulu',
  'Zulu',
  'GMT',
  'Etc/GMT',
  'Etc/GMT+0',
  'Etc/GMT-0',
  'Etc/GMT0',
  'GMT0',
  'Etc/Greenwich',
  'Greenwich',
]);

/** The command that loads the time-zone tables of a MySQL/MariaDB server (as its administrator). */
export const MYSQL_TIME_ZONE_TABLES_COMMAND = 'mysql_tzinfo_to_sql /usr/share/zoneinfo | mysql -u root mysql';

/** Ends a connection gracefully, destroying it if the server does not answer promptly. */
function endConnection(conn: mysql.Connection): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      conn.destroy();
      resolve();
    }, 250);
    conn.end(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Connections that broke (server restart, network, fatal error): never reused. */
const brokenConnections = new WeakSet<mysql.Connection>();

/** The sql_mode a pooled connection had when it was opened (restored after each reset). */
const initialSqlModes = new WeakMap<mysql.Connection, string>();

/** Lets an idle pooled connection not keep the process alive (and a busy one keep it). */
function holdConnection(conn: mysql.Connection, held: boolean): void {
  const stream = (conn as unknown as { stream?: { ref?(): void; unref?(): void } }).stream;
  if (held) stream?.ref?.();
  else stream?.unref?.();
}

/** COM_RESET_CONNECTION (session variables, user variables, temporary tables, locks, prepared statements). */
function resetConnection(conn: mysql.Connection): Promise<void> {
  return new Promise((resolve, reject) => {
    conn.reset((err) => (err ? reject(err) : resolve()));
  });
}

/** Driver for `mysql` and `mariadb`. */
export class MysqlDriver implements Driver {
  readonly dialect: SqlDialect = 'mysql';
  private readonly running = new Set<RunningQuery>();

  /** With `pooling`, query sessions come from the datasource's pool (reset with `COM_RESET_CONNECTION`). */
  constructor(
    private readonly settings: ConnectionSettings,
    private readonly pooling?: DriverPooling,
  ) {}

  private sessionPool(): SessionPool<mysql.Connection> | undefined {
    const p = this.pooling;
    if (!p) return undefined;
    return p.pools.pool(
      p.key,
      settingsFingerprint(this.settings),
      () =>
        new SessionPool<mysql.Connection>(
          {
            open: async () => {
              const conn = await this.openSession();
              try {
                const [[mode]] = (await this.runSmall(conn, 'SELECT @@SESSION.sql_mode')) as [[string]];
                initialSqlModes.set(conn, String(mode));
              } catch (err) {
                await endConnection(conn);
                throw this.toQueryError(err);
              }
              return conn;
            },
            reset: async (conn) => {
              await resetConnection(conn);
              // The reset returns the character set and sql_mode to the server's defaults; a new session
              // has the handshake's (utf8mb4, and IGNORE_SPACE from the client flags): restore those.
              const mode = bindMysqlPlaceholders('?', [initialSqlModes.get(conn) ?? ''], { noBackslashEscapes: false, timeZone: 'UTC' });
              await this.runSmall(conn, `SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci, SESSION sql_mode = ${mode}`);
            },
            destroy: async (conn) => {
              if (brokenConnections.has(conn)) conn.destroy();
              else await endConnection(conn);
            },
            alive: (conn) => !brokenConnections.has(conn),
            hold: holdConnection,
          },
          { max: Math.max(1, p.max), idleTimeoutMs: p.pools.idleTimeoutMs, acquireTimeoutMs: this.connectTimeoutMs },
        ),
    );
  }

  private get connectTimeoutMs(): number {
    return this.settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  }

  private redact(message: string): string {
    return redactSecret(message, this.settings.password);
  }

  /** A driver error as a `QueryError` (database message kept, credentials removed). */
  toQueryError(err: unknown): QueryError {
    if (err instanceof QueryError) return err;
    const e = (err ?? {}) as MysqlErrorLike;
    const message = this.redact(e.message ?? String(err));
    const options = e.code ? { code: e.code, cause: err } : { cause: err };
    if ((e.code && SERVER_TIMEOUT_CODES.has(e.code)) || (e.errno && SERVER_TIMEOUT_ERRNOS.has(e.errno))) return new QueryError('timed_out', message, options);
    if (e.code === 'ER_QUERY_INTERRUPTED') return new QueryError('cancelled', message, options);
    if ((e.code && CONNECTION_CODES.has(e.code)) || (e.fatal && !e.code?.startsWith('ER_'))) return new QueryError('connection_error', message, options);
    return new QueryError('query_error', message, options);
  }

  /** Opens a session; bounded by the connect timeout. @throws QueryError kind connection_error */
  async openSession(): Promise<mysql.Connection> {
    const s = this.settings;
    if (!s.host) throw new QueryError('connection_error', 'The datasource has no host');
    const where = `${s.host ?? 'localhost'}:${s.port ?? 3306}`;
    // Through a tunnel/agent: the stream is opened first (bounded by the connect timeout); mysql2
    // then runs its handshake (and TLS) over it instead of dialing TCP itself.
    const socket = s.transport ? await openTransportSocket(s.transport, s.host, s.port ?? 3306, this.connectTimeoutMs) : undefined;
    const opening = new Promise<mysql.Connection>((resolve, reject) => {
      const conn = mysql.createConnection({
        ...(socket ? { stream: socket } : {}),
        host: s.host ?? undefined,
        port: s.port ?? undefined,
        user: s.username ?? undefined,
        password: s.password ?? undefined,
        database: s.database ?? undefined,
        ssl: s.requireSsl ? { rejectUnauthorized: s.verifySsl } : undefined,
        connectTimeout: this.connectTimeoutMs,
        charset: 'UTF8MB4_UNICODE_CI',
        rowsAsArray: true,
        dateStrings: true,
        supportBigNumbers: true,
        bigNumberStrings: true,
        multipleStatements: false,
        // Never let a (hostile) server ask for LOAD DATA LOCAL INFILE.
        flags: ['-LOCAL_FILES'],
        typeCast: mysqlTypeCast as unknown as mysql.ConnectionOptions['typeCast'],
      });
      // Fatal errors of an idle connection surface through the next query; never crash the process.
      conn.on('error', () => brokenConnections.add(conn));
      conn.on('end', () => brokenConnections.add(conn));
      conn.connect((err) => {
        if (err) {
          conn.destroy();
          reject(err);
        } else resolve(conn);
      });
    });
    return withDeadline(opening, this.connectTimeoutMs + 1_000, () => new Error('timeout')).catch((err: unknown) => {
      const e = (err ?? {}) as MysqlErrorLike;
      const reason = this.redact(e.message ?? String(err));
      const message =
        /timeout|ETIMEDOUT/i.test(reason) || e.code === 'ETIMEDOUT'
          ? `Could not connect to ${where} within ${this.connectTimeoutMs} ms`
          : `Could not connect to ${where}: ${reason}`;
      throw new QueryError('connection_error', message, e.code ? { code: e.code, cause: err } : { cause: err });
    });
  }

  /** Runs a small statement to completion and returns converted rows (set-up, catalog queries). */
  runSmall(conn: mysql.Connection, sql: string): Promise<unknown[][]> {
    return new Promise((resolve, reject) => {
      conn.query({ sql, rowsAsArray: true }, (err: unknown, rows: unknown, fields: unknown) => {
        if (err) return reject(err);
        if (!Array.isArray(rows) || !Array.isArray(fields)) return resolve([]);
        const converters = (fields as MysqlFieldInfo[]).map(mysqlConverter);
        resolve((rows as unknown[][]).map((r) => convertRow(r, converters)));
      });
    });
  }

  /** Session settings of every query: data time zone and the server's statement time limit. */
  private async setUpSession(conn: mysql.Connection, timeoutMs: number): Promise<SessionInfo> {
    const [row] = await this.runSmall(conn, 'SELECT CONNECTION_ID(), VERSION(), @@SESSION.sql_mode');
    const [threadId, serverVersion, sqlMode] = row as [number, string, string];
    const info: SessionInfo = {
      threadId: Number(threadId),
      serverVersion: String(serverVersion),
      isMariaDb: /mariadb/i.test(String(serverVersion)),
      noBackslashEscapes: /NO_BACKSLASH_ESCAPES/i.test(String(sqlMode)),
    };
    const literal = (v: string) => bindMysqlPlaceholders('?', [v], { noBackslashEscapes: info.noBackslashEscapes, timeZone: 'UTC' });
    const zone = this.settings.dataTimeZone;
    try {
      await this.runSmall(conn, `SET time_zone = ${literal(zone)}`);
    } catch (err) {
      if ((err as MysqlErrorLike).errno !== 1298) throw err;
      // Unknown zone. Without time-zone tables (every new server) the server knows no name at all:
      // a fixed offset would be wrong across daylight saving time, so only constant UTC zones get one.
      const [[utcKnown]] = (await this.runSmall(conn, "SELECT CONVERT_TZ('2000-01-01 00:00:00', '+00:00', 'UTC') IS NOT NULL")) as [[unknown]];
      if (Number(utcKnown)) throw err;
      if (!CONSTANT_UTC_ZONES.has(zone)) {
        throw new QueryError(
          'query_error',
          `The server has no time-zone tables, so it cannot use the data time zone "${zone}". Load them on the server (${MYSQL_TIME_ZONE_TABLES_COMMAND}), or set the datasource's data_time_zone to UTC`,
          { code: 'ER_UNKNOWN_TIME_ZONE' },
        );
      }
      await this.runSmall(conn, "SET time_zone = '+00:00'");
    }
    const ms = Math.max(1, Math.ceil(timeoutMs));
    try {
      await this.runSmall(conn, info.isMariaDb ? `SET SESSION max_statement_time = ${(ms / 1000).toFixed(3)}` : `SET SESSION max_execution_time = ${ms}`);
    } catch (err) {
      // Servers older than MySQL 5.7.8 / MariaDB 10.1 lack the variable; the client-side limit (KILL QUERY) still applies.
      if ((err as MysqlErrorLike).errno !== 1193) throw err;
    }
    return info;
  }

  async testConnection(): Promise<{ serverVersion: string }> {
    const conn = await this.openSession();
    try {
      const { serverVersion } = await this.setUpSession(conn, this.connectTimeoutMs);
      return { serverVersion };
    } catch (err) {
      throw this.toQueryError(err);
    } finally {
      await endConnection(conn);
    }
  }

  async query(sql: string, values: unknown[], options: QueryOptions): Promise<RunningQuery> {
    const pool = this.sessionPool();
    for (let attempt = 0; ; attempt++) {
      const { session: conn, reused } = pool ? await pool.acquire() : { session: await this.openSession(), reused: false };
      const release = pool ? (reusable: boolean) => pool.release(conn, reusable) : () => endConnection(conn);
      let session: SessionInfo;
      let bound: string;
      try {
        session = await this.setUpSession(conn, options.timeoutMs);
        bound = bindMysqlPlaceholders(sql, values, { noBackslashEscapes: session.noBackslashEscapes, timeZone: this.settings.dataTimeZone });
      } catch (err) {
        if (err instanceof PlaceholderMismatchError) {
          await release(true);
          throw new QueryError('query_error', err.message);
        }
        await release(false);
        // a pooled connection can have broken while idle (server restart): try a fresh one
        if (reused && attempt < 3 && ((err as MysqlErrorLike).fatal || brokenConnections.has(conn))) continue;
        throw this.toQueryError(err);
      }
      if (options.onSession) {
        try {
          await options.onSession(session.threadId);
        } catch (err) {
          await release(false);
          throw err;
        }
      }
      const running = new MysqlRunningQuery(this, conn, release, session.threadId, bound, options, () => this.running.delete(running));
      this.running.add(running);
      return running;
    }
  }

  /** `KILL QUERY <thread>` over a separate, short-lived session. */
  async killQuery(threadId: number): Promise<void> {
    const conn = await this.openSession();
    try {
      await this.runSmall(conn, `KILL QUERY ${Math.trunc(threadId)}`);
    } finally {
      await endConnection(conn);
    }
  }

  async endSession(sessionId: number): Promise<boolean> {
    const conn = await this.openSession();
    try {
      const id = Math.trunc(sessionId);
      // connection ids are not reused before wrap-around; the user check keeps other users' sessions safe
      const found = await this.runSmall(conn, `SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ${id} AND USER = SUBSTRING_INDEX(USER(), '@', 1)`);
      if (!found.length) return false;
      try {
        await this.runSmall(conn, `KILL CONNECTION ${id}`);
        return true;
      } catch (err) {
        // ER_NO_SUCH_THREAD: the session is already gone
        if ((err as MysqlErrorLike).errno === 1094) return false;
        throw err;
      }
    } catch (err) {
      throw this.toQueryError(err);
    } finally {
      await endConnection(conn);
    }
  }

  async introspect(options: { timeoutMs: number }): Promise<SchemaInfo> {
    const conn = await this.openSession();
    try {
      const session = await this.setUpSession(conn, options.timeoutMs);
      const [current] = await this.runSmall(conn, 'SELECT DATABASE()');
      const rows = await this.runSmall(
        conn,
        `SELECT t.TABLE_SCHEMA, t.TABLE_NAME, t.TABLE_TYPE, t.TABLE_ROWS, c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE
           FROM information_schema.TABLES t
           LEFT JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME
          WHERE t.TABLE_SCHEMA NOT IN ('information_schema', 'mysql', 'performance_schema', 'sys')
          ORDER BY t.TABLE_SCHEMA, t.TABLE_NAME, c.ORDINAL_POSITION`,
      );
      const schemas = new Map<string, Map<string, SchemaTableInfo>>();
      for (const row of rows) {
        const [schemaName, tableName, tableType, tableRows, columnName, dataType, columnType] = row as [
          string,
          string,
          string,
          number | string | null,
          string | null,
          string | null,
          string | null,
        ];
        let tables = schemas.get(schemaName);
        if (!tables) schemas.set(schemaName, (tables = new Map()));
        let table = tables.get(tableName);
        if (!table) {
          const isView = /VIEW/i.test(tableType);
          table = { name: tableName, type: isView ? 'view' : 'table', row_count: isView || tableRows === null ? null : Number(tableRows), columns: [] };
          tables.set(tableName, table);
        }
        if (columnName !== null) {
          table.columns.push({
            name: columnName,
            db_type: columnType ?? dataType ?? 'unknown',
            data_type: mysqlCatalogDataType(dataType ?? '', columnType ?? ''),
          });
        }
      }
      return {
        schemas: [...schemas].map(([name, tables]) => ({ name, tables: [...tables.values()] })),
        default_schema_name: (current?.[0] as string | null | undefined) ?? null,
        server_version: session.serverVersion,
      };
    } catch (err) {
      throw this.toQueryError(err);
    } finally {
      await endConnection(conn);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.running].map((q) => q.close()));
  }
}

/** A statement whose rows arrive as a stream; batches are buffered up to a bound, then the socket pauses. */
class MysqlRunningQuery extends StreamingQuery {
  readonly backendId: number;
  private converters: Array<(raw: unknown) => unknown> = [];
  private fields: ResultColumn[] | null = null;
  private current: unknown[][] = [];
  private readonly ready: unknown[][][] = [];
  private ended = false;
  private failure: unknown = null;
  private paused = false;
  private wake: (() => void) | null = null;
  private readonly fieldsArrived: Promise<void>;
  private resolveFields: () => void = () => {};

  constructor(
    private readonly driver: MysqlDriver,
    private readonly conn: mysql.Connection,
    /** Ends the connection, or gives it back to its pool (`reusable`: reset and keep it). */
    private readonly release: (reusable: boolean) => Promise<void>,
    threadId: number,
    sql: string,
    options: QueryOptions,
    private readonly onRelease: () => void,
  ) {
    super(options.timeoutMs, options.batchSize ?? DEFAULT_BATCH_SIZE);
    this.backendId = threadId;
    this.fieldsArrived = new Promise((resolve) => {
      this.resolveFields = resolve;
    });
    const query = conn.query({ sql, rowsAsArray: true });
    query.on('fields', (fields: MysqlFieldInfo[] | undefined) => {
      // Statements without a result set report `undefined` fields.
      if (this.fields || !Array.isArray(fields)) return;
      this.converters = fields.map(mysqlConverter);
      this.fields = fields.map((f) => ({ name: f.name, ...mysqlColumnType(f) }));
      this.resolveFields();
    });
    query.on('result', (row: unknown, resultIndex?: number) => {
      // Statements without a result set report an OK packet instead of rows; a procedure's further
      // result sets (other columns) are not part of this result.
      if (!Array.isArray(row) || (resultIndex ?? 0) > 0) return;
      try {
        this.current.push(convertRow(row, this.converters));
      } catch (err) {
        // mysql2 swallows exceptions thrown by listeners: report them as the query's failure.
        this.failure = err;
        this.notify();
        return;
      }
      if (this.current.length >= this.batchSize) {
        this.ready.push(this.current);
        this.current = [];
        if (this.ready.length >= MAX_BUFFERED_BATCHES && !this.paused) {
          this.paused = true;
          this.conn.pause();
        }
        this.notify();
      }
    });
    query.on('error', (err: unknown) => {
      this.failure = err;
      this.resolveFields();
      this.notify();
    });
    // A lost connection (server gone, transport stream destroyed) is reported to the connection
    // only: mysql2 tells a callback-less query nothing, so the read would wait forever.
    conn.on('error', (err: unknown) => {
      if (this.ended || this.failure) return;
      this.failure = err;
      this.resolveFields();
      this.notify();
    });
    query.on('end', () => {
      if (this.current.length > 0) this.ready.push(this.current);
      this.current = [];
      this.ended = true;
      this.resolveFields();
      this.notify();
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  protected async fetchColumns(): Promise<ResultColumn[]> {
    await this.fieldsArrived;
    if (this.fields) return this.fields;
    if (this.failure) throw this.failure;
    return [];
  }

  protected async fetchBatch(): Promise<unknown[][]> {
    for (;;) {
      const batch = this.ready.shift();
      if (batch) {
        if (this.paused && this.ready.length < MAX_BUFFERED_BATCHES) {
          this.paused = false;
          this.conn.resume();
        }
        return batch;
      }
      if (this.failure) throw this.failure;
      if (this.ended) {
        this.markFinished();
        return [];
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  protected cancelInDatabase(): Promise<void> {
    return this.driver.killQuery(this.backendId);
  }

  protected async releaseSession(): Promise<void> {
    this.onRelease();
    if (this.ended || this.failure) {
      // reused only when the statement ended by itself and the connection survived it
      const fatal = (this.failure as MysqlErrorLike | null)?.fatal === true;
      await this.release(this.endedOnItsOwn && this.ended && !fatal && !brokenConnections.has(this.conn));
    } else {
      brokenConnections.add(this.conn);
      this.conn.destroy();
      await this.release(false);
    }
  }

  protected toQueryError(err: unknown): QueryError {
    return this.driver.toQueryError(err);
  }
}
