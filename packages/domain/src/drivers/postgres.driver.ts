// PostgreSQL and Redshift datasources (node-postgres + pg-cursor).
import pg from 'pg';
import Cursor from 'pg-cursor';
import copyStreams from 'pg-copy-streams';
import type { SqlDialect } from '../query/query.types.js';
import {
  QueryError,
  type ConnectionSettings,
  type DataType,
  type Driver,
  type QueryOptions,
  type ResultColumn,
  type RunningQuery,
  type SchemaInfo,
  type SchemaTableInfo,
  type CsvLineFormat,
} from './driver.types.js';
import { CsvCopyDecoder, csvCopyPlan, type CsvCopyPlan } from './postgres-csv-rows.js';
import { CopyLineSplitter, DescribeStatement, fixJsonRow, jsonCopyPlan, wrappableSelect, type JsonCopyPlan } from './postgres-json-rows.js';
import { arrayDataTypeOf, pgDataTypeOf, pgTypeNameOf, postgresClientTypes } from './postgres-types.js';
import { SessionPool, settingsFingerprint, type DriverPooling } from './session-pool.js';
import { StreamingQuery, withDeadline } from './streaming-query.js';
import { withRowJson } from './row-json.js';
import { csvBatch, type CsvPiece } from './row-csv.js';
import { openTransportSocket } from './transport.js';
import { redactSecret } from './values.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_BATCH_SIZE = 2_000;
const types = postgresClientTypes as unknown as pg.CustomTypesConfig;
const { to: copyTo } = copyStreams;
/** Bytes the COPY stream buffers ahead of the reader (read-ahead while a batch is processed). */
const COPY_HIGH_WATER_MARK = 1 << 20;

interface PgErrorLike {
  code?: string;
  message?: string;
}

/** Connection-level SQLSTATE classes (08: connection exception, 28: auth, 3D: no such database, 57P0x: shutdown). */
function isConnectionSqlState(code: string | undefined): boolean {
  if (!code) return false;
  return code.startsWith('08') || code.startsWith('28') || code === '3D000' || code.startsWith('57P') || code === '53300';
}

/**
 * Ends a session without waiting for a busy backend: `end()` sends Terminate, but the server reads
 * it only after its statement; the socket is destroyed if it has not closed shortly after.
 */
async function endClient(client: pg.Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const forced = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      resolve();
    }, 250);
  });
  await Promise.race([client.end().catch(() => {}), forced]);
  clearTimeout(timer);
}

/** Sessions whose connection broke (server restart, network): never reused. */
const brokenClients = new WeakSet<pg.Client>();

/** Lets an idle pooled session not keep the process alive (and a busy one keep it). */
function holdClient(client: pg.Client, held: boolean): void {
  const stream = (client as unknown as { connection?: { stream?: { ref?(): void; unref?(): void } } }).connection?.stream;
  if (held) stream?.ref?.();
  else stream?.unref?.();
}

/** Driver for `postgres` and `redshift`. */
export class PostgresDriver implements Driver {
  readonly dialect: SqlDialect = 'postgres';
  private readonly running = new Set<RunningQuery>();
  private readonly isRedshift: boolean;
  /** Major version of the server, from the last session set up (0 before). */
  private serverMajor = 0;

  /** With `pooling`, query sessions come from the datasource's pool (reset with `DISCARD ALL`). */
  constructor(
    private readonly settings: ConnectionSettings,
    private readonly pooling?: DriverPooling,
  ) {
    this.isRedshift = settings.databaseType === 'redshift';
  }

  /** The datasource's session pool (none for Redshift: it has no `DISCARD ALL`). */
  private sessionPool(): SessionPool<pg.Client> | undefined {
    const p = this.pooling;
    if (!p || this.isRedshift) return undefined;
    return p.pools.pool(
      p.key,
      settingsFingerprint(this.settings),
      () =>
        new SessionPool<pg.Client>(
          {
            open: () => this.openSession(),
            reset: async (client) => {
              await client.query('DISCARD ALL');
            },
            destroy: async (client) => {
              if (brokenClients.has(client)) (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
              else await endClient(client);
            },
            alive: (client) => !brokenClients.has(client),
            hold: holdClient,
          },
          { max: Math.max(1, p.max), idleTimeoutMs: p.pools.idleTimeoutMs, acquireTimeoutMs: this.connectTimeoutMs },
        ),
    );
  }

  private get connectTimeoutMs(): number {
    return this.settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  }

  /**
   * Every connection parameter is explicit: node-postgres would otherwise fill gaps from the
   * process's own PGHOST/PGUSER/PGPASSWORD or ~/.pgpass, i.e. Sightline's credentials.
   */
  private clientConfig(): pg.ClientConfig {
    const s = this.settings;
    if (!s.host) throw new QueryError('connection_error', 'The datasource has no host');
    if (!s.username) throw new QueryError('connection_error', 'The datasource has no username');
    const password = s.password ?? '';
    return {
      host: s.host,
      port: s.port ?? 5432,
      user: s.username,
      // A function is never replaced by the environment or ~/.pgpass (an empty string would be).
      password: () => password,
      database: s.database || s.username,
      ssl: s.requireSsl ? { rejectUnauthorized: s.verifySsl } : false,
      connectionTimeoutMillis: this.connectTimeoutMs,
      application_name: 'sightline',
      types,
    };
  }

  private redact(message: string): string {
    return redactSecret(message, this.settings.password);
  }

  /** A driver error as a `QueryError` (database message kept, credentials removed). */
  toQueryError(err: unknown, fallbackKind: 'query_error' | 'connection_error' = 'query_error'): QueryError {
    if (err instanceof QueryError) return err;
    const e = (err ?? {}) as PgErrorLike;
    const message = this.redact(e.message ?? String(err));
    if (e.code === '57014') return new QueryError('timed_out', message, { code: e.code, cause: err });
    if (isConnectionSqlState(e.code)) return new QueryError('connection_error', message, { code: e.code, cause: err });
    // Socket-level failures carry no SQLSTATE (or a Node code such as ECONNREFUSED).
    if (!e.code || !/^[0-9A-Z]{5}$/.test(e.code)) {
      return new QueryError(fallbackKind, message, e.code ? { code: e.code, cause: err } : { cause: err });
    }
    return new QueryError('query_error', message, { code: e.code, cause: err });
  }

  private connectError(err: unknown): QueryError {
    const e = (err ?? {}) as PgErrorLike;
    const where = `${this.settings.host ?? 'localhost'}:${this.settings.port ?? 5432}`;
    const reason = this.redact(e.message ?? String(err));
    const message = /timeout/i.test(reason) ? `Could not connect to ${where} within ${this.connectTimeoutMs} ms` : `Could not connect to ${where}: ${reason}`;
    return new QueryError('connection_error', message, e.code ? { code: e.code, cause: err } : { cause: err });
  }

  /** Opens a session; bounded by the connect timeout. @throws QueryError kind connection_error */
  async openSession(): Promise<pg.Client> {
    const config = this.clientConfig();
    const transport = this.settings.transport;
    if (transport) {
      // Through a tunnel/agent: the stream is opened first (bounded by the connect timeout); the
      // client then runs its start-up (and TLS) over it instead of dialing TCP itself.
      const socket = await openTransportSocket(transport, config.host as string, config.port as number, this.connectTimeoutMs);
      config.stream = () => socket;
    }
    const client = new pg.Client(config);
    // node-postgres reads PGOPTIONS when `options` is unset; a datasource session must not inherit it.
    (client as unknown as { connectionParameters: { options?: string } }).connectionParameters.options = undefined;
    // Errors of an idle client (server restart) surface through the next query; never crash the process.
    client.on('error', () => brokenClients.add(client));
    client.on('end', () => brokenClients.add(client));
    try {
      await client.connect();
      return client;
    } catch (err) {
      void endClient(client);
      throw this.connectError(err);
    }
  }

  /** Session settings of every query: data time zone, statement timeout, stable output formats. */
  private async setUpSession(client: pg.Client, timeoutMs: number): Promise<{ pid: number; serverVersion: string }> {
    const timeout = String(Math.max(1, Math.ceil(timeoutMs)));
    const sql = this.isRedshift
      ? `SELECT set_config('timezone', $1, false), set_config('statement_timeout', $2, false), set_config('datestyle', 'ISO, MDY', false),
                pg_backend_pid() AS pid, version() AS server_version`
      : `SELECT set_config('TimeZone', $1, false), set_config('statement_timeout', $2, false), set_config('DateStyle', 'ISO, MDY', false),
                set_config('IntervalStyle', 'postgres', false), set_config('bytea_output', 'hex', false),
                pg_backend_pid() AS pid, current_setting('server_version') AS server_version`;
    const result = await client.query<{ pid: number; server_version: string }>(sql, [this.settings.dataTimeZone, timeout]);
    const row = result.rows[0];
    if (!row) throw new QueryError('query_error', 'Session set-up returned no row');
    return { pid: Number(row.pid), serverVersion: row.server_version };
  }

  async testConnection(): Promise<{ serverVersion: string }> {
    const client = await this.openSession();
    try {
      const { serverVersion } = await this.setUpSession(client, this.connectTimeoutMs);
      return { serverVersion };
    } catch (err) {
      throw this.toQueryError(err);
    } finally {
      await endClient(client);
    }
  }

  async query(sql: string, values: unknown[], options: QueryOptions): Promise<RunningQuery> {
    const pool = this.sessionPool();
    for (let attempt = 0; ; attempt++) {
      const { session: client, reused } = pool ? await pool.acquire() : { session: await this.openSession(), reused: false };
      const release = pool ? (reusable: boolean) => pool.release(client, reusable) : () => endClient(client);
      let pid: number;
      let serverVersion: string;
      try {
        ({ pid, serverVersion } = await this.setUpSession(client, options.timeoutMs));
      } catch (err) {
        await release(false);
        const mapped = this.toQueryError(err);
        // a pooled session can have broken while idle (server restart): try a fresh one
        if (reused && attempt < 3 && (brokenClients.has(client) || mapped.kind === 'connection_error')) continue;
        throw mapped;
      }
      if (options.onSession) {
        try {
          await options.onSession(pid);
        } catch (err) {
          await release(false);
          throw err;
        }
      }
      this.serverMajor = Number.parseInt(serverVersion, 10) || 0;
      const running = new PostgresRunningQuery(this, client, release, pid, { sql, values }, options, () => this.running.delete(running));
      this.running.add(running);
      return running;
    }
  }

  /**
   * The COPY plan that lets the database encode the rows of `sql` (see postgres-json-rows.ts), or
   * undefined when the statement is not one parameterless SELECT, cannot be described, or has a
   * column type the database-encoded path does not reproduce exactly: such statements take the
   * cursor path. (COPY takes no bind parameters.)
   */
  async jsonCopyPlanOf(client: pg.Client, sql: string, values: unknown[]): Promise<(JsonCopyPlan & { fields: pg.FieldDef[] }) | undefined> {
    const described = await this.describeSelect(client, sql, values);
    const plan = described && jsonCopyPlan(described.select, described.fields, this.serverMajor);
    return plan && { ...plan, fields: described.fields };
  }

  /** As `jsonCopyPlanOf`, for the database-encoded CSV lines (see postgres-csv-rows.ts). */
  async csvCopyPlanOf(
    client: pg.Client,
    sql: string,
    values: unknown[],
    format: CsvLineFormat,
  ): Promise<(CsvCopyPlan & { fields: pg.FieldDef[] }) | undefined> {
    const described = await this.describeSelect(client, sql, values);
    const plan = described && csvCopyPlan(described.select, described.fields, this.serverMajor, format);
    return plan && { ...plan, fields: described.fields };
  }

  /** The fields of a parameterless single SELECT (described, not run); undefined for anything else. */
  private async describeSelect(client: pg.Client, sql: string, values: unknown[]): Promise<{ select: string; fields: pg.FieldDef[] } | undefined> {
    if (this.isRedshift || values.length > 0) return undefined;
    const select = wrappableSelect(sql);
    if (!select) return undefined;
    const describe = new DescribeStatement(sql);
    client.query(describe as unknown as pg.Submittable);
    const fields = await describe.done;
    return fields ? { select, fields } : undefined;
  }

  /** `pg_cancel_backend(pid)` over a separate, short-lived session. */
  async cancelBackend(pid: number): Promise<void> {
    const client = await this.openSession();
    try {
      await client.query('SELECT pg_cancel_backend($1)', [pid]);
    } finally {
      await endClient(client);
    }
  }

  async endSession(sessionId: number): Promise<boolean> {
    const client = await this.openSession();
    try {
      // Redshift has no application_name in its pg_stat_activity: the pid alone names the session there.
      const sql = this.isRedshift
        ? 'SELECT pg_terminate_backend($1) AS ended'
        : `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE pid = $1 AND application_name = 'sightline' AND pid <> pg_backend_pid()`;
      const { rows } = await client.query<{ ended: boolean }>(sql, [Math.trunc(sessionId)]);
      return rows.some((r) => r.ended);
    } catch (err) {
      throw this.toQueryError(err);
    } finally {
      await endClient(client);
    }
  }

  async introspect(options: { timeoutMs: number }): Promise<SchemaInfo> {
    const client = await this.openSession();
    try {
      const { serverVersion } = await this.setUpSession(client, options.timeoutMs);
      const defaultSchema = await client.query<{ schema: string | null }>('SELECT current_schema() AS schema');
      const partitionFilter = this.isRedshift ? '' : 'AND NOT c.relispartition';
      // Domains resolve to their base type; enums and other text-like categories read as strings.
      const result = await client.query<{
        schema_name: string;
        table_name: string;
        relkind: string;
        row_count: string | number | null;
        column_name: string | null;
        db_type: string | null;
        type_oid: number | null;
        type_category: string | null;
        elem_oid: number | null;
      }>(
        `SELECT n.nspname AS schema_name, c.relname AS table_name, c.relkind::text AS relkind,
                CASE WHEN c.relkind IN ('r', 'p', 'm', 'f') AND c.reltuples >= 0 THEN c.reltuples::bigint END AS row_count,
                a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS db_type,
                bt.oid::int AS type_oid, bt.typcategory::text AS type_category, bt.typelem::int AS elem_oid
           FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
           LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           LEFT JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
           LEFT JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
          WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') ${partitionFilter}
            AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
            AND has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')
          ORDER BY n.nspname, c.relname, a.attnum`,
      );
      const schemas = new Map<string, Map<string, SchemaTableInfo>>();
      for (const row of result.rows) {
        let tables = schemas.get(row.schema_name);
        if (!tables) schemas.set(row.schema_name, (tables = new Map()));
        let table = tables.get(row.table_name);
        if (!table) {
          table = {
            name: row.table_name,
            type: row.relkind === 'v' || row.relkind === 'm' ? 'view' : 'table',
            row_count: row.row_count === null ? null : Number(row.row_count),
            columns: [],
          };
          tables.set(row.table_name, table);
        }
        if (row.column_name !== null) {
          table.columns.push({
            name: row.column_name,
            db_type: row.db_type ?? 'unknown',
            data_type: catalogDataType(row.type_oid, row.type_category, row.elem_oid),
          });
        }
      }
      return {
        schemas: [...schemas].map(([name, tables]) => ({ name, tables: [...tables.values()] })),
        default_schema_name: defaultSchema.rows[0]?.schema ?? null,
        server_version: serverVersion,
      };
    } catch (err) {
      throw this.toQueryError(err);
    } finally {
      await endClient(client);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.running].map((q) => q.close()));
  }
}

/** DataType of a catalog type: known OIDs first, then the type category (enum/string → String). */
function catalogDataType(oid: number | null, category: string | null, elemOid: number | null): DataType {
  if (oid === null) return 'Other';
  const known = pgDataTypeOf(oid);
  if (known !== 'Other' || pgTypeNameOf(oid) !== `oid:${oid}`) return known;
  if (category === 'A' && elemOid) return arrayDataTypeOf(catalogDataType(elemOid, null, null));
  if (category === 'E' || category === 'S') return 'String';
  return 'Other';
}

/** A pg-cursor that reports the row description as soon as it arrives (before any row). */
class DescribedCursor extends Cursor<unknown[]> {
  onDescription: ((fields: pg.FieldDef[]) => void) | null = null;

  handleRowDescription(msg: { fields: pg.FieldDef[] }): void {
    (Cursor.prototype as unknown as { handleRowDescription(m: unknown): void }).handleRowDescription.call(this, msg);
    this.onDescription?.(msg.fields);
  }
}

function toColumns(fields: pg.FieldDef[]): ResultColumn[] {
  return fields.map((f) => ({ name: f.name, dbType: pgTypeNameOf(f.dataTypeID), dataType: pgDataTypeOf(f.dataTypeID) }));
}

/** Where a running statement's rows come from: a cursor, or the database-encoded COPY. */
interface RowSource {
  columns(): Promise<ResultColumn[]>;
  batch(): Promise<unknown[][]>;
  /** Closes what is still open on the session so it can be reused; rejects when it cannot. */
  close(): Promise<void>;
}

/** A statement streamed through a named portal, `batchSize` rows per round trip. */
class CursorSource implements RowSource {
  private readonly cursor: DescribedCursor;
  private fields: ResultColumn[] | null = null;
  private next: Promise<unknown[][]> | null;
  /** Settles when the first round trip did (never rejects; keeps no rows). */
  private readonly firstSettled: Promise<void>;
  private firstError: unknown = null;
  private readonly described: Promise<void>;

  constructor(
    client: pg.Client,
    sql: string,
    values: unknown[],
    private readonly batchSize: number,
  ) {
    const cursor = new DescribedCursor(sql, values, { rowMode: 'array', types });
    this.described = new Promise((resolve) => {
      cursor.onDescription = (fields) => {
        this.setFields(fields);
        resolve();
      };
    });
    this.cursor = client.query(cursor);
    // Start the first round trip right away: the row description arrives first, then the first rows.
    this.next = this.read();
    this.firstSettled = this.next.then(
      () => {},
      (err: unknown) => {
        this.firstError = err;
      },
    );
  }

  private setFields(fields: pg.FieldDef[]): void {
    if (this.fields === null) this.fields = toColumns(fields);
  }

  private read(): Promise<unknown[][]> {
    return new Promise((resolve, reject) => {
      this.cursor.read(this.batchSize, (err, rows, result) => {
        if (err) return reject(err);
        this.setFields(result?.fields ?? []);
        resolve(rows);
      });
    });
  }

  async columns(): Promise<ResultColumn[]> {
    if (this.fields) return this.fields;
    await Promise.race([this.described, this.firstSettled]);
    if (this.fields) return this.fields;
    if (this.firstError) throw this.firstError;
    return [];
  }

  /**
   * Read-ahead: when a full batch arrives, the next one is requested at once, so the database
   * produces rows while the caller processes the previous batch (at most two batches in memory).
   */
  batch(): Promise<unknown[][]> {
    const pending = this.next ?? this.read();
    this.next = null;
    return pending.then((rows) => {
      if (rows.length === this.batchSize) {
        const next = this.read();
        next.catch(() => {}); // observed when fetched; never an unhandled rejection meanwhile
        this.next = next;
      }
      return rows;
    });
  }

  close(): Promise<void> {
    return this.cursor.close();
  }
}

/**
 * The rows of `COPY (<json rows>) TO STDOUT` (postgres-json-rows.ts): each line is a row's JSON
 * array text; the values come from `JSON.parse` and the text is kept for the result writer.
 * Back-pressure: the stream stops reading the socket when `COPY_HIGH_WATER_MARK` bytes wait.
 */
class CopySource implements RowSource {
  private readonly stream: ReturnType<typeof copyTo>;
  private readonly chunks: AsyncIterator<Buffer>;
  private readonly splitter = new CopyLineSplitter();
  private lines: string[] = [];
  private at = 0;
  private ended = false;
  /** The statement failed in the database (the session is idle again after it). */
  private failed = false;
  /** True once the database sent any row (a later error is the statement's own). */
  sentRows = false;

  constructor(
    client: pg.Client,
    private readonly plan: JsonCopyPlan,
    private readonly fields: ResultColumn[],
    private readonly batchSize: number,
  ) {
    this.stream = client.query(copyTo(plan.sql, { highWaterMark: COPY_HIGH_WATER_MARK }));
    this.stream.on('error', () => {}); // reported through the iterator
    this.chunks = this.stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  columns(): Promise<ResultColumn[]> {
    return Promise.resolve(this.fields);
  }

  async batch(): Promise<unknown[][]> {
    const rows: unknown[][] = [];
    const texts: string[] = [];
    const fixups = this.plan.fixups;
    while (rows.length < this.batchSize) {
      if (this.at >= this.lines.length) {
        if (this.ended) break;
        const next = await this.chunks.next().catch((err: unknown) => {
          if (/^[0-9A-Z]{5}$/.test((err as PgErrorLike | null)?.code ?? '')) this.failed = true;
          throw err;
        });
        if (next.done) {
          this.ended = true;
          if (this.splitter.hasRest) throw new QueryError('query_error', 'The COPY output ended inside a row');
          break;
        }
        this.sentRows = true;
        this.lines = this.splitter.push(next.value);
        this.at = 0;
        continue;
      }
      const line = this.lines[this.at++]!;
      const row = JSON.parse(line) as unknown[];
      texts.push(fixJsonRow(row, fixups) ? JSON.stringify(row) : line);
      rows.push(row);
    }
    if (this.at >= this.lines.length) this.lines = [];
    return withRowJson(rows, texts);
  }

  async close(): Promise<void> {
    if (!this.ended && !this.failed) throw new Error('COPY still running');
  }
}

/** Output bytes gathered into one batch of a `CsvCopySource` (besides `batchSize` rows). */
const CSV_BATCH_BYTES = 1 << 20;

/**
 * The CSV lines of `COPY (<cells>) TO STDOUT (FORMAT csv)` (postgres-csv-rows.ts), as
 * batches of `csvBatch` pieces: no value is decoded, except in the rare rows the database sent raw.
 * Back-pressure as `CopySource`.
 */
class CsvCopySource implements RowSource {
  private readonly stream: ReturnType<typeof copyTo>;
  private readonly chunks: AsyncIterator<Buffer>;
  private readonly decoder: CsvCopyDecoder;
  private ended = false;
  private failed = false;
  sentRows = false;

  constructor(
    client: pg.Client,
    plan: CsvCopyPlan,
    private readonly fields: ResultColumn[],
    private readonly batchSize: number,
  ) {
    this.decoder = new CsvCopyDecoder(plan.typeOids, plan.separator);
    this.stream = client.query(copyTo(plan.sql, { highWaterMark: COPY_HIGH_WATER_MARK }));
    this.stream.on('error', () => {}); // reported through the iterator
    this.chunks = this.stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  columns(): Promise<ResultColumn[]> {
    return Promise.resolve(this.fields);
  }

  async batch(): Promise<unknown[][]> {
    const pieces: CsvPiece[] = [];
    let rows = 0;
    let bytes = 0;
    while (!this.ended && rows < this.batchSize && bytes < CSV_BATCH_BYTES) {
      const next = await this.chunks.next().catch((err: unknown) => {
        if (/^[0-9A-Z]{5}$/.test((err as PgErrorLike | null)?.code ?? '')) this.failed = true;
        throw err;
      });
      if (next.done) {
        this.ended = true;
        if (this.decoder.hasRest) throw new QueryError('query_error', 'The COPY output ended inside a row');
        break;
      }
      this.sentRows = true;
      bytes += next.value.length;
      const decoded = this.decoder.push(next.value);
      for (const piece of decoded.pieces) pieces.push(piece);
      rows += decoded.rows;
    }
    return csvBatch(pieces, rows);
  }

  async close(): Promise<void> {
    if (!this.ended && !this.failed) throw new Error('COPY still running');
  }
}

/** SQLSTATE classes after which the cursor path is not tried: cancel/shutdown, connection, resources, system. */
const NO_FALLBACK_CLASSES = new Set(['57', '08', '53', '58', 'XX']);

/**
 * A running statement. With `csv` (or `jsonText`), a parameterless SELECT whose column types allow
 * it is described and run as a database-encoded COPY of CSV lines (or JSON rows); when the COPY fails before sending a row (e.g. a
 * statement that cannot be a subquery) the statement runs through the cursor instead.
 */
class PostgresRunningQuery extends StreamingQuery {
  readonly backendId: number;
  private source: RowSource | null = null;
  private readonly ready: Promise<RowSource>;
  private released = false;

  constructor(
    private readonly driver: PostgresDriver,
    private readonly client: pg.Client,
    /** Ends the session, or gives it back to its pool (`reusable`: reset and keep it). */
    private readonly release: (reusable: boolean) => Promise<void>,
    pid: number,
    private readonly statement: { sql: string; values: unknown[] },
    options: QueryOptions,
    private readonly onRelease: () => void,
  ) {
    super(options.timeoutMs, options.batchSize ?? DEFAULT_BATCH_SIZE);
    this.backendId = pid;
    if (options.csv || options.jsonText) {
      this.ready = this.startCopy(options.csv);
      this.ready.catch(() => {});
    } else {
      this.source = this.cursorSource();
      this.ready = Promise.resolve(this.source);
    }
  }

  private cursorSource(): CursorSource {
    return new CursorSource(this.client, this.statement.sql, this.statement.values, this.batchSize);
  }

  private async startCopy(csv: CsvLineFormat | undefined): Promise<RowSource> {
    const { sql, values } = this.statement;
    if (csv) {
      const plan = await this.driver.csvCopyPlanOf(this.client, sql, values, csv).catch(() => undefined);
      if (this.released) throw new QueryError('cancelled', 'The query was cancelled');
      this.source = plan ? new CsvCopySource(this.client, plan, toColumns(plan.fields), this.batchSize) : this.cursorSource();
      return this.source;
    }
    const plan = await this.driver.jsonCopyPlanOf(this.client, sql, values).catch(() => undefined);
    if (this.released) throw new QueryError('cancelled', 'The query was cancelled');
    this.source = plan ? new CopySource(this.client, plan, toColumns(plan.fields), this.batchSize) : this.cursorSource();
    return this.source;
  }

  protected async fetchColumns(): Promise<ResultColumn[]> {
    return (await this.ready).columns();
  }

  protected async fetchBatch(): Promise<unknown[][]> {
    const source = await this.ready;
    const current = this.source ?? source;
    try {
      return await current.batch();
    } catch (err) {
      const code = (err as PgErrorLike | null)?.code;
      const fallback =
        (current instanceof CopySource || current instanceof CsvCopySource) &&
        !current.sentRows &&
        !this.stopped &&
        !this.released &&
        typeof code === 'string' &&
        /^[0-9A-Z]{5}$/.test(code) &&
        !NO_FALLBACK_CLASSES.has(code.slice(0, 2));
      if (!fallback) throw err;
      this.source = this.cursorSource();
      return this.source.batch();
    }
  }

  protected cancelInDatabase(): Promise<void> {
    return this.driver.cancelBackend(this.backendId);
  }

  protected async releaseSession(): Promise<void> {
    this.released = true;
    this.onRelease();
    let reusable = this.endedOnItsOwn && this.source !== null;
    if (reusable) {
      // the portal must be closed (and the session idle) before the pool resets it
      await withDeadline(this.source!.close(), 1_000, () => new Error('cursor close deadline')).catch(() => {
        reusable = false;
      });
    }
    if (reusable) {
      // The reset (`DISCARD ALL`, a round trip) runs while the caller stores the result: the pool
      // counts the session as open until it is done and hands it to the next query only then.
      void this.release(true).catch(() => {});
      return;
    }
    await this.release(reusable);
  }

  protected toQueryError(err: unknown): QueryError {
    return this.driver.toQueryError(err);
  }
}
