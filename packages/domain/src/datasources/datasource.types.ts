import type { DatabaseType } from '../drivers/index.js';

export type ConnectionMode = 'direct' | 'ssh_tunnel' | 'agent';
export const CONNECTION_MODES: readonly ConnectionMode[] = ['direct', 'ssh_tunnel', 'agent'];

/** A datasource with its credentials decrypted (services only; presenters strip credentials). */
export interface Datasource {
  id: string;
  organizationId: string;
  name: string;
  databaseType: DatabaseType;
  connectionMode: ConnectionMode;
  host: string | null;
  port: number | null;
  username: string | null;
  password: string | null;
  database: string | null;
  sshTunnelHost: string | null;
  sshTunnelPort: number | null;
  sshTunnelUser: string | null;
  dataTimeZone: string;
  requireSsl: boolean;
  verifySsl: boolean;
  enabled: boolean;
  maxConcurrentExecutions: number;
  /** Statement timeout of this datasource's queries; null = the deployment default. */
  queryTimeoutSeconds: number | null;
  updateSchemaNightly: boolean;
  updateSchemaRowCounts: boolean;
  athenaRegion: string | null;
  athenaWorkgroup: string | null;
  databricksHttpPath: string | null;
  snowflakeIdentifier: string | null;
  snowflakeRegion: string | null;
  snowflakeWarehouse: string | null;
  bigqueryServiceKey: string | null;
  isSample: boolean;
  schemaUpdatedAt: Date | null;
  totalRowCount: number | null;
  totalRowCountExact: boolean | null;
  defaultSchemaName: string | null;
  serverVersion: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Writable attributes (create: name, databaseType, connectionMode required). */
export interface DatasourceInput {
  name?: string;
  databaseType?: DatabaseType;
  connectionMode?: ConnectionMode;
  host?: string | null;
  port?: number | null;
  username?: string | null;
  password?: string | null;
  database?: string | null;
  sshTunnelHost?: string | null;
  sshTunnelPort?: number | null;
  sshTunnelUser?: string | null;
  dataTimeZone?: string;
  requireSsl?: boolean;
  verifySsl?: boolean;
  enabled?: boolean;
  maxConcurrentExecutions?: number;
  queryTimeoutSeconds?: number | null;
  updateSchemaNightly?: boolean;
  updateSchemaRowCounts?: boolean;
  athenaRegion?: string | null;
  athenaWorkgroup?: string | null;
  databricksHttpPath?: string | null;
  snowflakeIdentifier?: string | null;
  snowflakeRegion?: string | null;
  snowflakeWarehouse?: string | null;
  bigqueryServiceKey?: string | null;
}

export interface DatasourceRow {
  id: string;
  organization_id: string;
  name: string;
  database_type: string;
  connection_mode: string;
  host: string | null;
  port: number | null;
  username: string | null;
  password_enc: string | null;
  database: string | null;
  ssh_tunnel_host: string | null;
  ssh_tunnel_port: number | null;
  ssh_tunnel_user: string | null;
  data_time_zone: string;
  require_ssl: boolean;
  verify_ssl: boolean;
  enabled: boolean;
  max_concurrent_executions: number;
  query_timeout_seconds: number | null;
  update_schema_nightly: boolean;
  update_schema_row_counts: boolean;
  athena_region: string | null;
  athena_workgroup: string | null;
  databricks_http_path: string | null;
  snowflake_identifier: string | null;
  snowflake_region: string | null;
  snowflake_warehouse: string | null;
  bigquery_service_key_enc: string | null;
  is_sample: boolean;
  schema_updated_at: Date | null;
  total_row_count: number | null;
  total_row_count_exact: boolean | null;
  default_schema_name: string | null;
  server_version: string | null;
  created_at: Date;
  updated_at: Date;
}

/** Result of Test Datasource Connection. */
export interface ConnectionTestResult {
  status: 'ok' | 'error';
  error_message: string | null;
}
