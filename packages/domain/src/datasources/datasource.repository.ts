import type { Knex } from 'knex';
import { NotFoundError } from '../errors.js';
import type { DatasourceScope } from '../api-keys/permissions.js';
import { sealerFor, type Sealer } from '../fields/index.js';
import { datasourceFields } from './datasource.fields.js';
import type { Datasource, DatasourcePatch, DatasourceRow, NewDatasource } from './datasource.types.js';

/** Resources of one kind that use a datasource (a sample of them and how many there are). */
export interface DatasourceUsage {
  kind: 'report' | 'filter' | 'sql_snippet';
  total: number;
  items: Array<{ id: string; label: string | null }>;
}

/** SQL for `datasources`. Credentials are sealed on the way in and opened on the way out. */
export class DatasourceRepository {
  private readonly sealer: Sealer;

  constructor(
    private readonly db: Knex,
    encryptionKey: Buffer,
  ) {
    this.sealer = sealerFor(encryptionKey);
  }

  private toDatasource(row: DatasourceRow, agentIds: string[] = []): Datasource {
    return { ...datasourceFields.fromRow(row, this.sealer), agentIds };
  }

  /** Rows to datasources with their agents (`datasource_agent_links`). */
  private async hydrate(rows: DatasourceRow[]): Promise<Datasource[]> {
    if (!rows.length) return [];
    const links = await this.db('datasource_agent_links')
      .whereIn(
        'datasource_id',
        rows.map((r) => r.id),
      )
      .orderBy('agent_id')
      .select<{ datasource_id: string; agent_id: string }[]>('datasource_id', 'agent_id');
    const byDatasource = new Map<string, string[]>();
    for (const l of links) byDatasource.set(l.datasource_id, [...(byDatasource.get(l.datasource_id) ?? []), l.agent_id]);
    return rows.map((r) => this.toDatasource(r, byDatasource.get(r.id) ?? []));
  }

  async insert(datasource: NewDatasource): Promise<Datasource> {
    const [row] = await this.db<DatasourceRow>('datasources').insert(datasourceFields.toColumns(datasource, this.sealer)).returning('*');
    return this.toDatasource(row as DatasourceRow);
  }

  /** Datasources of the organization within `scope`, sample data first, then by name. */
  async list(organizationId: string, scope: DatasourceScope): Promise<Datasource[]> {
    const q = this.db<DatasourceRow>('datasources')
      .where({ organization_id: organizationId })
      .orderBy([{ column: 'is_sample', order: 'desc' }, 'name', 'id']);
    if (scope !== 'all') q.whereIn('id', [...scope]);
    return this.hydrate(await q);
  }

  /** Datasources of the organization among `ids` (included resources). */
  async listByIds(organizationId: string, ids: readonly string[]): Promise<Datasource[]> {
    if (!ids.length) return [];
    return this.hydrate(
      await this.db<DatasourceRow>('datasources')
        .where({ organization_id: organizationId })
        .whereIn('id', [...ids])
        .orderBy(['name', 'id']),
    );
  }

  /** One datasource with its agents, in one statement (every submit reads it). */
  async find(organizationId: string, id: string): Promise<Datasource | undefined> {
    const row = (await this.db<DatasourceRow>('datasources')
      .where({ organization_id: organizationId, id })
      .select(
        'datasources.*',
        this.db.raw('ARRAY(SELECT l.agent_id FROM datasource_agent_links l WHERE l.datasource_id = datasources.id ORDER BY l.agent_id) AS agent_link_ids'),
      )
      .first()) as (DatasourceRow & { agent_link_ids: string[] }) | undefined;
    if (!row) return undefined;
    const { agent_link_ids: agentIds, ...rest } = row;
    return this.toDatasource(rest as DatasourceRow, agentIds);
  }

  /** @throws NotFoundError */
  async get(organizationId: string, id: string): Promise<Datasource> {
    const ds = await this.find(organizationId, id);
    if (!ds) throw new NotFoundError(`Datasource ${id} not found`, { code: 'datasource_not_found' });
    return ds;
  }

  async findSample(organizationId: string): Promise<Datasource | undefined> {
    const row = await this.db<DatasourceRow>('datasources').where({ organization_id: organizationId, is_sample: true }).first();
    return row ? (await this.hydrate([row]))[0] : undefined;
  }

  async update(organizationId: string, id: string, patch: DatasourcePatch): Promise<Datasource> {
    const [row] = await this.db<DatasourceRow>('datasources')
      .where({ organization_id: organizationId, id })
      .update({ ...datasourceFields.toColumns(patch, this.sealer), updated_at: this.db.fn.now() as unknown as Date })
      .returning('*');
    if (!row) throw new NotFoundError(`Datasource ${id} not found`, { code: 'datasource_not_found' });
    return (await this.hydrate([row as DatasourceRow]))[0]!;
  }

  /** Records what a connection learned about the database (server version, schema statistics). */
  async setMetadata(
    id: string,
    metadata: Pick<DatasourcePatch, 'serverVersion' | 'defaultSchemaName' | 'schemaUpdatedAt' | 'totalRowCount' | 'totalRowCountExact'>,
  ): Promise<void> {
    await this.db('datasources').where({ id }).update(datasourceFields.toColumns(metadata, this.sealer));
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
    const found = await Promise.all(
      kinds.map(async (k) => {
        const rows = await this.db(k.table)
          .where({ organization_id: organizationId, datasource_id: id })
          .select<Array<{ id: string; label: string | null; total: string }>>('id', `${k.label} as label`, this.db.raw('count(*) over () AS total'))
          .orderBy('id')
          .limit(limit);
        return { kind: k.kind, total: rows.length ? Number(rows[0]!.total) : 0, items: rows.map((r) => ({ id: r.id, label: r.label })) };
      }),
    );
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
