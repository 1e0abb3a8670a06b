import type { Knex } from 'knex';
import { decryptSecret, encryptSecret } from '../crypto/secrets.js';
import type { DatabaseType } from '../drivers/index.js';
import { NotFoundError } from '../errors.js';
import type { DatasourceScope } from '../api-keys/permissions.js';
import type { ConnectionMode, Datasource, DatasourceInput, DatasourceRow } from './datasource.types.js';

const COLUMN_OF: Record<Exclude<keyof DatasourceInput, 'password' | 'bigqueryServiceKey'>, keyof DatasourceRow> = {
  name: 'name',
  databaseType: 'database_type',
  connectionMode: 'connection_mode',
  host: 'host',
  port: 'port',
  username: 'username',
  database: 'database',
  sshTunnelHost: 'ssh_tunnel_host',
  sshTunnelPort: 'ssh_tunnel_port',
  sshTunnelUser: 'ssh_tunnel_user',
  dataTimeZone: 'data_time_zone',
  requireSsl: 'require_ssl',
  verifySsl: 'verify_ssl',
  enabled: 'enabled',
  maxConcurrentExecutions: 'max_concurrent_executions',
  queryTimeoutSeconds: 'query_timeout_seconds',
  updateSchemaNightly: 'update_schema_nightly',
  updateSchemaRowCounts: 'update_schema_row_counts',
  athenaRegion: 'athena_region',
  athenaWorkgroup: 'athena_workgroup',
  databricksHttpPath: 'databricks_http_path',
  snowflakeIdentifier: 'snowflake_identifier',
  snowflakeRegion: 'snowflake_region',
  snowflakeWarehouse: 'snowflake_warehouse',
};

/** Resources of one kind that use a datasource (a sample of them and how many there are). */
export interface DatasourceUsage {
  kind: 'report' | 'filter' | 'sql_snippet';
  total: number;
  items: Array<{ id: string; label: string | null }>;
}

/** SQL for `datasources`. Credentials are sealed on the way in and opened on the way out. */
export class DatasourceRepository {
  constructor(private readonly db: Knex, private readonly encryptionKey: Buffer) {}

  private open(sealed: string | null): string | null {
    if (sealed === null) return null;
    try {
      return decryptSecret(sealed, this.encryptionKey);
    } catch {
      // Sealed with another key (the key was rotated or lost): treat as absent, never crash a listing.
      return null;
    }
  }

  private toDatasource(row: DatasourceRow): Datasource {
    return {
      id: row.id,
      organizationId: row.organization_id,
      name: row.name,
      databaseType: row.database_type as DatabaseType,
      connectionMode: row.connection_mode as ConnectionMode,
      host: row.host,
      port: row.port,
      username: row.username,
      password: this.open(row.password_enc),
      database: row.database,
      sshTunnelHost: row.ssh_tunnel_host,
      sshTunnelPort: row.ssh_tunnel_port,
      sshTunnelUser: row.ssh_tunnel_user,
      dataTimeZone: row.data_time_zone,
      requireSsl: row.require_ssl,
      verifySsl: row.verify_ssl,
      enabled: row.enabled,
      maxConcurrentExecutions: row.max_concurrent_executions,
      queryTimeoutSeconds: row.query_timeout_seconds,
      updateSchemaNightly: row.update_schema_nightly,
      updateSchemaRowCounts: row.update_schema_row_counts,
      athenaRegion: row.athena_region,
      athenaWorkgroup: row.athena_workgroup,
      databricksHttpPath: row.databricks_http_path,
      snowflakeIdentifier: row.snowflake_identifier,
      snowflakeRegion: row.snowflake_region,
      snowflakeWarehouse: row.snowflake_warehouse,
      bigqueryServiceKey: this.open(row.bigquery_service_key_enc),
      isSample: row.is_sample,
      schemaUpdatedAt: row.schema_updated_at,
      totalRowCount: row.total_row_count,
      totalRowCountExact: row.total_row_count_exact,
      defaultSchemaName: row.default_schema_name,
      serverVersion: row.server_version,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  private toColumns(input: DatasourceInput): Partial<DatasourceRow> {
    const out: Record<string, unknown> = {};
    for (const [key, column] of Object.entries(COLUMN_OF)) {
      const value = input[key as keyof DatasourceInput];
      if (value !== undefined) out[column] = value;
    }
    if (input.password !== undefined) out.password_enc = input.password === null ? null : encryptSecret(input.password, this.encryptionKey);
    if (input.bigqueryServiceKey !== undefined) {
      out.bigquery_service_key_enc = input.bigqueryServiceKey === null ? null : encryptSecret(input.bigqueryServiceKey, this.encryptionKey);
    }
    return out as Partial<DatasourceRow>;
  }

  async insert(id: string, organizationId: string, input: DatasourceInput, extra: { isSample?: boolean } = {}): Promise<Datasource> {
    const [row] = await this.db<DatasourceRow>('datasources')
      .insert({ ...this.toColumns(input), id, organization_id: organizationId, is_sample: extra.isSample ?? false })
      .returning('*');
    return this.toDatasource(row as DatasourceRow);
  }

  /** Datasources of the organization within `scope`, sample data first, then by name. */
  async list(organizationId: string, scope: DatasourceScope): Promise<Datasource[]> {
    const q = this.db<DatasourceRow>('datasources').where({ organization_id: organizationId }).orderBy([{ column: 'is_sample', order: 'desc' }, 'name', 'id']);
    if (scope !== 'all') q.whereIn('id', [...scope]);
    return (await q).map((r) => this.toDatasource(r));
  }

  async find(organizationId: string, id: string): Promise<Datasource | undefined> {
    const row = await this.db<DatasourceRow>('datasources').where({ organization_id: organizationId, id }).first();
    return row ? this.toDatasource(row) : undefined;
  }

  /** @throws NotFoundError */
  async get(organizationId: string, id: string): Promise<Datasource> {
    const ds = await this.find(organizationId, id);
    if (!ds) throw new NotFoundError(`Datasource ${id} not found`, { code: 'datasource_not_found' });
    return ds;
  }

  async findSample(organizationId: string): Promise<Datasource | undefined> {
    const row = await this.db<DatasourceRow>('datasources').where({ organization_id: organizationId, is_sample: true }).first();
    return row ? this.toDatasource(row) : undefined;
  }

  async update(organizationId: string, id: string, input: DatasourceInput): Promise<Datasource> {
    const [row] = await this.db<DatasourceRow>('datasources')
      .where({ organization_id: organizationId, id })
      .update({ ...this.toColumns(input), updated_at: this.db.fn.now() as unknown as Date })
      .returning('*');
    if (!row) throw new NotFoundError(`Datasource ${id} not found`, { code: 'datasource_not_found' });
    return this.toDatasource(row as DatasourceRow);
  }

  async setMetadata(id: string, patch: Partial<Pick<DatasourceRow, 'server_version' | 'default_schema_name' | 'schema_updated_at' | 'total_row_count' | 'total_row_count_exact'>>): Promise<void> {
    await this.db('datasources').where({ id }).update(patch);
  }

  async delete(organizationId: string, id: string): Promise<boolean> {
    return (await this.db('datasources').where({ organization_id: organizationId, id }).delete()) > 0;
  }

  /**
   * What uses a datasource and so blocks its deletion: reports, filters and SQL snippets (at most
   * `limit` of each, with their totals).
   */
  async usages(organizationId: string, id: string, limit = 5): Promise<DatasourceUsage[]> {
    const kinds: Array<{ kind: DatasourceUsage['kind']; table: string; label: string }> = [
      { kind: 'report', table: 'reports', label: 'name' },
      { kind: 'filter', table: 'filters', label: 'variable_name' },
      { kind: 'sql_snippet', table: 'sql_snippets', label: 'name' },
    ];
    const found = await Promise.all(kinds.map(async (k) => {
      const rows = await this.db(k.table).where({ organization_id: organizationId, datasource_id: id })
        .select<Array<{ id: string; label: string | null; total: string }>>('id', `${k.label} as label`, this.db.raw('count(*) over () AS total'))
        .orderBy('id').limit(limit);
      return { kind: k.kind, total: rows.length ? Number(rows[0]!.total) : 0, items: rows.map((r) => ({ id: r.id, label: r.label })) };
    }));
    return found.filter((u) => u.total > 0);
  }

  /** The ids among `ids` that are not datasources of the organization. */
  async unknownIds(organizationId: string, ids: string[]): Promise<string[]> {
    if (!ids.length) return [];
    const rows = await this.db('datasources').where({ organization_id: organizationId }).whereIn('id', ids).select<{ id: string }[]>('id');
    const known = new Set(rows.map((r) => r.id));
    return ids.filter((id) => !known.has(id));
  }
}
