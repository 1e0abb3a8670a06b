import { z } from 'zod';

/**
 * Every environment variable Sightline reads, declared once: name, description, default.
 * `parseConfig(env)` is pure (no I/O); secrets that the all-in-one mode keeps in its data dir are
 * filled in later from the data dir's secrets (`loadOrCreateRuntimeSecrets`, packages/runtime).
 */
const port = (name: string, dflt: number) =>
  z.coerce
    .number({ error: `${name} must be a port number` })
    .int(`${name} must be an integer`)
    .min(0, `${name} must be 0-65535`)
    .max(65535, `${name} must be 0-65535`)
    .default(dflt);
const positiveInt = (name: string, dflt: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be an integer`)
    .min(1, `${name} must be at least 1`)
    .max(max, `${name} must be at most ${max}`)
    .default(dflt);
const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v));
const bool = (dflt: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .optional()
    .transform((v) => (v === undefined ? dflt : ['true', '1', 'yes'].includes(v)));

export const ENV_SCHEMA = z.object({
  /** PostgreSQL for metadata, queue and result store. Unset: the all-in-one start runs an embedded PostgreSQL. */
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL')
      .optional(),
  ),
  /** Port of the API server. */
  API_PORT: port('API_PORT', 8080),
  /** Port of the data server. */
  DATA_PORT: port('DATA_PORT', 8081),
  /** Interface both servers bind to. */
  HOST: z.string().default('127.0.0.1'),
  /** Public base URL of the API server (used in links and logs). */
  API_BASE_URL: optionalString.pipe(z.url('API_BASE_URL must be a URL').optional()),
  /** Public base URL of the data server. */
  DATA_BASE_URL: optionalString.pipe(z.url('DATA_BASE_URL must be a URL').optional()),
  /** Folder for the embedded PostgreSQL, generated secrets and the mail outbox. */
  SIGHTLINE_DATA_DIR: z.string().min(1).default('./.sightline'),
  /** When set, the first organization's admin API key gets this secret (unattended starts). */
  SIGHTLINE_ADMIN_API_KEY: optionalString.pipe(
    z
      .string()
      .min(24, 'SIGHTLINE_ADMIN_API_KEY must be at least 24 characters')
      .regex(/^[\x21-\x7e]+$/, 'SIGHTLINE_ADMIN_API_KEY must be printable ASCII without spaces')
      .optional(),
  ),
  /** HMAC key that signs data access tokens (at least 32 characters). Required with DATABASE_URL. */
  SIGHTLINE_DATA_TOKEN_SECRET: optionalString.pipe(z.string().min(32, 'SIGHTLINE_DATA_TOKEN_SECRET must be at least 32 characters').optional()),
  /** Key that encrypts datasource credentials at rest: 32 bytes as 64 hex characters or base64. Required with DATABASE_URL. */
  SIGHTLINE_ENCRYPTION_KEY: optionalString,
  /** Lifetime of data access tokens in seconds. */
  DATA_TOKEN_TTL_SECONDS: positiveInt('DATA_TOKEN_TTL_SECONDS', 300, 3600),
  /** Largest accepted request body in bytes. */
  MAX_BODY_BYTES: positiveInt('MAX_BODY_BYTES', 1_048_576, 64 * 1_048_576),
  /** Most rows stored for one result; a result that hits it says so (`row_limit_reached`). */
  RESULT_ROW_LIMIT: positiveInt('RESULT_ROW_LIMIT', 1_000_000),
  /** Default statement timeout for datasource queries, in seconds (a datasource may override it). */
  QUERY_TIMEOUT_SECONDS: positiveInt('QUERY_TIMEOUT_SECONDS', 300, 86_400),
  /** Executions one worker process runs at the same time. */
  WORKER_CONCURRENCY: positiveInt('WORKER_CONCURRENCY', 8, 256),
  /**
   * How long a process may take to stop after SIGTERM/SIGINT, in seconds: the worker stops taking
   * jobs and lets running ones finish up to it, then stops their queries and hands them back to the
   * queue; the servers let requests in progress (downloads) finish up to it.
   */
  SHUTDOWN_TIMEOUT_SECONDS: positiveInt('SHUTDOWN_TIMEOUT_SECONDS', 30, 3600),
  /** Port of the embedded PostgreSQL (all-in-one mode without DATABASE_URL). */
  EMBEDDED_PG_PORT: port('EMBEDDED_PG_PORT', 54329),
  /** Create the "Sample Data" datasource and its demo database. */
  SAMPLE_DATA: bool(true),
  /** SMTP server for outgoing mail (smtp:// or smtps://). Unset: mail goes to the outbox folder in the data dir. */
  SMTP_URL: optionalString.pipe(
    z
      .string()
      .regex(/^smtps?:\/\//, 'SMTP_URL must be an smtp:// or smtps:// URL')
      .optional(),
  ),
  /** Sender address of outgoing mail. */
  MAIL_FROM: z.string().default('Sightline <sightline@localhost>'),
  /** Failed API-key authentications one client address (and one key prefix) may have per window; more answer 429. */
  AUTH_FAILURE_LIMIT: positiveInt('AUTH_FAILURE_LIMIT', 30),
  /** Length of the failed-authentication window in seconds (it starts at a client's first failure). */
  AUTH_FAILURE_WINDOW_SECONDS: positiveInt('AUTH_FAILURE_WINDOW_SECONDS', 60, 86_400),
  /** Take the client address from `X-Forwarded-For` (set it only behind a reverse proxy that sets that header). */
  TRUST_PROXY: bool(false),
  /**
   * Internal base URL at which workers reach this API server process's datasource agent relay
   * (each process behind a load balancer needs its own). Unset: the URL the API server listens on.
   */
  AGENT_RELAY_URL: optionalString.pipe(z.url('AGENT_RELAY_URL must be a URL').optional()),
  /** Rscript used for R post-processing (`r_query`). Unset: `Rscript` on PATH; without R, r_query executions fail with a clear error. */
  R_SCRIPT_PATH: optionalString,
  /** Wall-clock limit of one R post-processing run, in seconds. */
  R_TIMEOUT_SECONDS: positiveInt('R_TIMEOUT_SECONDS', 60, 3600),
  /** Address-space (virtual memory) limit of one R process, in MiB. */
  R_MEMORY_LIMIT_MB: positiveInt('R_MEMORY_LIMIT_MB', 2048, 262_144),
  /** pino log level. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  databaseUrl?: string;
  apiPort: number;
  dataPort: number;
  host: string;
  apiBaseUrl?: string;
  dataBaseUrl?: string;
  dataDir: string;
  adminApiKey?: string;
  dataTokenSecret?: string;
  encryptionKey?: Buffer;
  dataTokenTtlSeconds: number;
  maxBodyBytes: number;
  resultRowLimit: number;
  queryTimeoutSeconds: number;
  workerConcurrency: number;
  shutdownTimeoutSeconds: number;
  embeddedPgPort: number;
  sampleData: boolean;
  smtpUrl?: string;
  mailFrom: string;
  authFailureLimit: number;
  authFailureWindowSeconds: number;
  trustProxy: boolean;
  agentRelayUrl?: string;
  /** R post-processing: Rscript path (undefined: found on PATH), limits. */
  rScriptPath?: string;
  rTimeoutSeconds: number;
  rMemoryLimitMb: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** Config after the runtime secrets are known (from env, or from the data dir in all-in-one mode). */
export interface ResolvedConfig extends Config {
  databaseUrl: string;
  dataTokenSecret: string;
  encryptionKey: Buffer;
}

/** Thrown by `parseConfig` with every problem listed. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Decodes a 32-byte key given as 64 hex characters or as base64/base64url.
 * @returns the key, or undefined when the text is not a 32-byte key
 */
export function decodeKey(text: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const buf = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (buf.length === 32) return buf;
  }
  return undefined;
}

/**
 * Parses the environment into a typed config. Pure and synchronous.
 * @throws ConfigError listing every invalid or missing variable at once
 */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const parsed = ENV_SCHEMA.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '');
      problems.push(issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}`);
    }
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  let encryptionKey: Buffer | undefined;
  if (e.SIGHTLINE_ENCRYPTION_KEY !== undefined) {
    encryptionKey = decodeKey(e.SIGHTLINE_ENCRYPTION_KEY);
    if (!encryptionKey) problems.push('SIGHTLINE_ENCRYPTION_KEY must be 32 bytes as 64 hex characters or base64');
  }
  if (e.DATABASE_URL) {
    if (!e.SIGHTLINE_DATA_TOKEN_SECRET) problems.push('SIGHTLINE_DATA_TOKEN_SECRET is required when DATABASE_URL is set');
    if (e.SIGHTLINE_ENCRYPTION_KEY === undefined) problems.push('SIGHTLINE_ENCRYPTION_KEY is required when DATABASE_URL is set');
  }
  if (e.API_PORT !== 0 && e.API_PORT === e.DATA_PORT) problems.push('API_PORT and DATA_PORT must differ');
  if (problems.length) throw new ConfigError(problems);
  return {
    databaseUrl: e.DATABASE_URL,
    apiPort: e.API_PORT,
    dataPort: e.DATA_PORT,
    host: e.HOST,
    apiBaseUrl: e.API_BASE_URL,
    dataBaseUrl: e.DATA_BASE_URL,
    dataDir: e.SIGHTLINE_DATA_DIR,
    adminApiKey: e.SIGHTLINE_ADMIN_API_KEY,
    dataTokenSecret: e.SIGHTLINE_DATA_TOKEN_SECRET,
    encryptionKey,
    dataTokenTtlSeconds: e.DATA_TOKEN_TTL_SECONDS,
    maxBodyBytes: e.MAX_BODY_BYTES,
    resultRowLimit: e.RESULT_ROW_LIMIT,
    queryTimeoutSeconds: e.QUERY_TIMEOUT_SECONDS,
    workerConcurrency: e.WORKER_CONCURRENCY,
    shutdownTimeoutSeconds: e.SHUTDOWN_TIMEOUT_SECONDS,
    embeddedPgPort: e.EMBEDDED_PG_PORT,
    sampleData: e.SAMPLE_DATA,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    authFailureLimit: e.AUTH_FAILURE_LIMIT,
    authFailureWindowSeconds: e.AUTH_FAILURE_WINDOW_SECONDS,
    trustProxy: e.TRUST_PROXY,
    agentRelayUrl: e.AGENT_RELAY_URL,
    rScriptPath: e.R_SCRIPT_PATH,
    rTimeoutSeconds: e.R_TIMEOUT_SECONDS,
    rMemoryLimitMb: e.R_MEMORY_LIMIT_MB,
    logLevel: e.LOG_LEVEL,
  };
}

/**
 * What an empty environment configures: the default of every setting, for code that runs without a
 * parsed config (composition roots called from tests or embedders). `ENV_SCHEMA` is the one place a
 * default is written; nothing else repeats one.
 */
export const CONFIG_DEFAULTS: Readonly<Config> = Object.freeze(parseConfig({}));
