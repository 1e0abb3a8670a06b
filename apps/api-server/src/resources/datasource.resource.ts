import type { Datasource, Principal } from '@sightline/domain';
import { defineResource, type ResourceRecord } from '@sightline/jsonapi';

export const datasourceResource = defineResource({
  type: 'datasources',
  attributes: [
    'name', 'database_type', 'connection_mode', 'host', 'port', 'username', 'password', 'database',
    'ssh_tunnel_host', 'ssh_tunnel_port', 'ssh_tunnel_user', 'data_time_zone', 'require_ssl', 'verify_ssl', 'enabled',
    'max_concurrent_executions', 'query_timeout_seconds', 'update_schema_nightly', 'update_schema_row_counts',
    'athena_region', 'athena_workgroup', 'databricks_http_path', 'snowflake_identifier', 'snowflake_region',
    'snowflake_warehouse', 'bigquery_service_key', 'created_at', 'updated_at', 'schema_updated_at',
    'total_row_count', 'total_row_count_exact', 'default_schema_name', 'server_version',
  ],
  relationships: { agents: { type: 'datasource_agents', many: true } },
});

/** Credentials appear only for keys with Manage Datasources on the datasource (contract §1.3). */
export function datasourceOmissions(principal: Principal, datasourceId?: string): string[] {
  const allowed = datasourceId === undefined ? principal.has('Manage Datasources') : principal.canUseDatasource(datasourceId, 'Manage Datasources');
  return allowed ? [] : ['password', 'bigquery_service_key'];
}

export function presentDatasource(ds: Datasource, principal: Principal): ResourceRecord {
  const hideCredentials = !principal.canUseDatasource(ds.id, 'Manage Datasources');
  return {
    id: ds.id,
    attributes: {
      name: ds.name,
      database_type: ds.databaseType,
      connection_mode: ds.connectionMode,
      host: ds.host,
      port: ds.port,
      username: ds.username,
      password: hideCredentials ? undefined : ds.password,
      database: ds.database,
      ssh_tunnel_host: ds.sshTunnelHost,
      ssh_tunnel_port: ds.sshTunnelPort,
      ssh_tunnel_user: ds.sshTunnelUser,
      data_time_zone: ds.dataTimeZone,
      require_ssl: ds.requireSsl,
      verify_ssl: ds.verifySsl,
      enabled: ds.enabled,
      max_concurrent_executions: ds.maxConcurrentExecutions,
      query_timeout_seconds: ds.queryTimeoutSeconds,
      update_schema_nightly: ds.updateSchemaNightly,
      update_schema_row_counts: ds.updateSchemaRowCounts,
      athena_region: ds.athenaRegion,
      athena_workgroup: ds.athenaWorkgroup,
      databricks_http_path: ds.databricksHttpPath,
      snowflake_identifier: ds.snowflakeIdentifier,
      snowflake_region: ds.snowflakeRegion,
      snowflake_warehouse: ds.snowflakeWarehouse,
      bigquery_service_key: hideCredentials ? undefined : ds.bigqueryServiceKey,
      created_at: ds.createdAt.toISOString(),
      updated_at: ds.updatedAt.toISOString(),
      schema_updated_at: ds.schemaUpdatedAt?.toISOString() ?? null,
      total_row_count: ds.totalRowCount,
      total_row_count_exact: ds.totalRowCountExact,
      default_schema_name: ds.defaultSchemaName,
      server_version: ds.serverVersion,
    },
    relationships: { agents: [] },
  };
}
