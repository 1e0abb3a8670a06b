import { describe, expect, it } from '@jest/globals';
import type { DatabaseType } from '../../src/drivers/index.js';
import { datasourceFields, type ConnectionMode, type CreateDatasourceInput, type Datasource } from '../../src/datasources/index.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Flat<T> = { [K in keyof T]: T[K] };
function assertType<_T extends true>(): void {}

const create = (input: Partial<CreateDatasourceInput>) =>
  datasourceFields.prepareCreate({ name: 'd', databaseType: 'postgres', connectionMode: 'direct', ...input });

describe('datasourceFields', () => {
  // Pinned to what was written by hand before the field table; new fields may be added without touching this test.
  it('infers the Datasource domain type (every field it had before the table, with the same types)', () => {
    assertType<Equal<Flat<Pick<Datasource, keyof DatasourceBefore>>, DatasourceBefore>>();
    const only = (names: readonly string[]) => names.filter((n) => ATTRIBUTES.includes(n));
    expect(only(datasourceFields.attributes)).toEqual(ATTRIBUTES);
    expect(datasourceFields.hiddenAttributes()).toEqual(['password', 'bigquery_service_key']);
    expect(datasourceFields.hiddenAttributes((p) => p === 'Manage Datasources')).toEqual([]);
  });

  it('defaults require_ssl by connection mode and forces the SSL rules per type (contract §4.1.5)', () => {
    expect(create({})).toMatchObject({ requireSsl: true, verifySsl: false, dataTimeZone: 'UTC', maxConcurrentExecutions: 20, enabled: true });
    expect(create({ connectionMode: 'ssh_tunnel' })).toMatchObject({ requireSsl: false, verifySsl: false });
    expect(create({ databaseType: 'redshift', requireSsl: false })).toMatchObject({ requireSsl: true, verifySsl: false });
    for (const databaseType of ['athena', 'bigquery', 'databricks', 'snowflake'] as const) {
      expect(create({ databaseType, requireSsl: false, verifySsl: false })).toMatchObject({ requireSsl: true, verifySsl: true });
    }
    expect(create({ databaseType: 'oracle', connectionMode: 'agent', requireSsl: true })).toMatchObject({ requireSsl: true, verifySsl: true });
    expect(create({ databaseType: 'presto', requireSsl: false })).toMatchObject({ requireSsl: false, verifySsl: false });
    const presto = { ...create({ databaseType: 'presto', requireSsl: false }), id: 'x', organizationId: 'o' } as Datasource;
    expect(datasourceFields.prepareUpdate({ requireSsl: true }, presto)).toEqual({ requireSsl: true, verifySsl: true });
    expect(datasourceFields.prepareUpdate({ databaseType: 'athena' }, presto)).toEqual({ databaseType: 'athena', requireSsl: true, verifySsl: true });
    expect(datasourceFields.prepareUpdate({ name: 'x' }, presto)).toEqual({ name: 'x' });
  });
});

type DatasourceBefore = {
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
};

const ATTRIBUTES: readonly string[] = [
  'name',
  'database_type',
  'connection_mode',
  'host',
  'port',
  'username',
  'password',
  'database',
  'ssh_tunnel_host',
  'ssh_tunnel_port',
  'ssh_tunnel_user',
  'data_time_zone',
  'require_ssl',
  'verify_ssl',
  'enabled',
  'max_concurrent_executions',
  'query_timeout_seconds',
  'update_schema_nightly',
  'update_schema_row_counts',
  'athena_region',
  'athena_workgroup',
  'databricks_http_path',
  'snowflake_identifier',
  'snowflake_region',
  'snowflake_warehouse',
  'bigquery_service_key',
  'created_at',
  'updated_at',
  'schema_updated_at',
  'total_row_count',
  'total_row_count_exact',
  'default_schema_name',
  'server_version',
];
