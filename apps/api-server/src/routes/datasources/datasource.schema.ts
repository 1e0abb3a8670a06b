import { CONNECTION_MODES, DATABASE_TYPES, isKnownTimeZone, type DatasourceInput } from '@sightline/domain';
import { z } from 'zod';

const text = (max = 1000) => z.string().max(max).refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');
const nullableText = (max = 1000) => text(max).nullable();
const port = z.number().int().min(1).max(65535).nullable();

const attributes = {
  name: text(200).trim().min(1),
  database_type: z.enum(DATABASE_TYPES as [string, ...string[]]),
  connection_mode: z.enum(CONNECTION_MODES as [string, ...string[]]),
  host: nullableText(255),
  port,
  username: nullableText(255),
  password: nullableText(4096),
  database: nullableText(255),
  ssh_tunnel_host: nullableText(255),
  ssh_tunnel_port: port,
  ssh_tunnel_user: nullableText(255),
  data_time_zone: z.string().refine(isKnownTimeZone, 'must be an IANA time zone name such as "Europe/Berlin"'),
  require_ssl: z.boolean(),
  verify_ssl: z.boolean(),
  enabled: z.boolean(),
  max_concurrent_executions: z.number().int().min(1).max(1000),
  query_timeout_seconds: z.number().int().min(1).max(86_400).nullable(),
  update_schema_nightly: z.boolean(),
  update_schema_row_counts: z.boolean(),
  athena_region: nullableText(100),
  athena_workgroup: nullableText(255),
  databricks_http_path: nullableText(1000),
  snowflake_identifier: nullableText(255),
  snowflake_region: nullableText(100),
  snowflake_warehouse: nullableText(255),
  bigquery_service_key: nullableText(20_000).refine((v) => {
    if (v === null) return true;
    try { return typeof JSON.parse(v) === 'object'; } catch { return false; }
  }, 'must be the service key as a JSON string'),
};

// Read-only attributes a client may echo back from a GET; they are ignored.
const readOnly = {
  created_at: z.unknown(), updated_at: z.unknown(), schema_updated_at: z.unknown(), total_row_count: z.unknown(),
  total_row_count_exact: z.unknown(), default_schema_name: z.unknown(), server_version: z.unknown(),
};

export const updateDatasourceAttributes = z.object({ ...attributes, ...readOnly }).partial().strict();
export const createDatasourceAttributes = updateDatasourceAttributes.required({ name: true, database_type: true, connection_mode: true });

type Attrs = z.infer<typeof updateDatasourceAttributes>;

/** API attributes (snake_case) → service input (camelCase); read-only ones are dropped. */
export function toDatasourceInput(a: Attrs): DatasourceInput {
  return {
    name: a.name,
    databaseType: a.database_type as DatasourceInput['databaseType'],
    connectionMode: a.connection_mode as DatasourceInput['connectionMode'],
    host: a.host,
    port: a.port,
    username: a.username,
    password: a.password,
    database: a.database,
    sshTunnelHost: a.ssh_tunnel_host,
    sshTunnelPort: a.ssh_tunnel_port,
    sshTunnelUser: a.ssh_tunnel_user,
    dataTimeZone: a.data_time_zone,
    requireSsl: a.require_ssl,
    verifySsl: a.verify_ssl,
    enabled: a.enabled,
    maxConcurrentExecutions: a.max_concurrent_executions,
    queryTimeoutSeconds: a.query_timeout_seconds,
    updateSchemaNightly: a.update_schema_nightly,
    updateSchemaRowCounts: a.update_schema_row_counts,
    athenaRegion: a.athena_region,
    athenaWorkgroup: a.athena_workgroup,
    databricksHttpPath: a.databricks_http_path,
    snowflakeIdentifier: a.snowflake_identifier,
    snowflakeRegion: a.snowflake_region,
    snowflakeWarehouse: a.snowflake_warehouse,
    bigqueryServiceKey: a.bigquery_service_key,
  };
}
