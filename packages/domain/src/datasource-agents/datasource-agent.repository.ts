import type { Knex } from 'knex';
import { NotFoundError } from '../errors.js';
import { datasourceAgentFields } from './datasource-agent.fields.js';
import {
  AGENT_STALE_AFTER_SECONDS,
  type DatasourceAgent,
  type DatasourceAgentPatch,
  type DatasourceAgentRow,
  type NewDatasourceAgent,
} from './datasource-agent.types.js';

type Loaded = DatasourceAgentRow & { connected_now: boolean };

/** Where a connected agent can be reached: the relay (API server process) holding its WebSocket. */
export interface AgentRoute {
  agentId: string;
  organizationId: string;
  name: string;
  relayUrl: string;
  connectionId: string;
}

/** SQL for `datasource_agents` and `datasource_agent_links`. */
export class DatasourceAgentRepository {
  constructor(private readonly db: Knex) {}

  /** Rows with `connected` as of now: a connection whose relay stopped its heartbeat counts as gone. */
  private select(): Knex.QueryBuilder {
    return this.db('datasource_agents').select(
      'datasource_agents.*',
      this.db.raw('(connected AND last_seen_at > now() - make_interval(secs => ?)) AS connected_now', [AGENT_STALE_AFTER_SECONDS]),
    );
  }

  private async hydrate(rows: Loaded[]): Promise<DatasourceAgent[]> {
    if (!rows.length) return [];
    const links = await this.db('datasource_agent_links')
      .whereIn(
        'agent_id',
        rows.map((r) => r.id),
      )
      .orderBy('datasource_id')
      .select<{ agent_id: string; datasource_id: string }[]>('agent_id', 'datasource_id');
    const byAgent = new Map<string, string[]>();
    for (const l of links) byAgent.set(l.agent_id, [...(byAgent.get(l.agent_id) ?? []), l.datasource_id]);
    return rows.map((row) => ({
      ...datasourceAgentFields.fromRow(row),
      agentId: row.id,
      connected: row.connected_now,
      activeQueries: row.connected_now ? row.active_queries : 0,
      datasourceIds: byAgent.get(row.id) ?? [],
    }));
  }

  async insert(record: NewDatasourceAgent): Promise<DatasourceAgent> {
    await this.db('datasource_agents').insert(datasourceAgentFields.toColumns(record));
    return this.get(record.organizationId, record.id);
  }

  /** Agents of the organization by name. */
  async list(organizationId: string): Promise<DatasourceAgent[]> {
    return this.hydrate(await this.select().where({ organization_id: organizationId }).orderBy(['name', 'id']));
  }

  async listByIds(organizationId: string, ids: readonly string[]): Promise<DatasourceAgent[]> {
    if (!ids.length) return [];
    return this.hydrate(
      await this.select()
        .where({ organization_id: organizationId })
        .whereIn('id', [...ids])
        .orderBy(['name', 'id']),
    );
  }

  async find(organizationId: string, id: string): Promise<DatasourceAgent | undefined> {
    const row = await this.select().where({ organization_id: organizationId, id }).first();
    return row ? (await this.hydrate([row as Loaded]))[0] : undefined;
  }

  /** @throws NotFoundError (`datasource_agent_not_found`) */
  async get(organizationId: string, id: string): Promise<DatasourceAgent> {
    const agent = await this.find(organizationId, id);
    if (!agent) throw new NotFoundError(`Datasource agent ${id} not found`, { code: 'datasource_agent_not_found' });
    return agent;
  }

  /** The agent whose secret key hashes to `hash` (any organization: the relay authenticates agents with it). */
  async findBySecretHash(hash: string): Promise<DatasourceAgent | undefined> {
    const row = await this.select().where({ secret_key_hash: hash }).first();
    return row ? (await this.hydrate([row as Loaded]))[0] : undefined;
  }

  /** @throws NotFoundError */
  async update(organizationId: string, id: string, patch: DatasourceAgentPatch): Promise<DatasourceAgent> {
    const n = await this.db('datasource_agents')
      .where({ organization_id: organizationId, id })
      .update({ ...datasourceAgentFields.toColumns(patch), updated_at: this.db.fn.now() });
    if (!n) throw new NotFoundError(`Datasource agent ${id} not found`, { code: 'datasource_agent_not_found' });
    return this.get(organizationId, id);
  }

  async delete(organizationId: string, id: string): Promise<boolean> {
    return (await this.db('datasource_agents').where({ organization_id: organizationId, id }).delete()) > 0;
  }

  /**
   * Records a new connection of an enabled agent (replacing any older one: its relay notices at its
   * next heartbeat). @returns false when the agent is disabled or gone
   */
  async markConnected(id: string, connection: { connectionId: string; relayUrl: string; address: string | null; version: string | null }): Promise<boolean> {
    const n = await this.db('datasource_agents').where({ id, enabled: true }).update({
      connected: true,
      connection_id: connection.connectionId,
      relay_url: connection.relayUrl,
      address: connection.address,
      version: connection.version,
      active_queries: 0,
      last_seen_at: this.db.fn.now(),
    });
    return n > 0;
  }

  /**
   * The relay's heartbeat for a connection it holds: refreshes `last_seen_at` and `active_queries`.
   * @returns false when the connection is no longer the agent's (disabled, deleted, replaced): the relay closes it
   */
  async heartbeat(id: string, connectionId: string, activeQueries: number): Promise<boolean> {
    const n = await this.db('datasource_agents')
      .where({ id, connection_id: connectionId, enabled: true })
      .update({ last_seen_at: this.db.fn.now(), active_queries: activeQueries, connected: true });
    return n > 0;
  }

  /** Records the end of a connection (only if it is still the agent's current one). */
  async markDisconnected(id: string, connectionId: string): Promise<void> {
    await this.db('datasource_agents')
      .where({ id, connection_id: connectionId })
      .update({ connected: false, connection_id: null, relay_url: null, active_queries: 0 });
  }

  /** Connected, enabled agents linked to a datasource (with a fresh heartbeat), most recently seen first. */
  async routesForDatasource(organizationId: string, datasourceId: string): Promise<AgentRoute[]> {
    const rows = await this.db('datasource_agents as a')
      .join('datasource_agent_links as l', 'l.agent_id', 'a.id')
      .where({ 'l.datasource_id': datasourceId, 'a.organization_id': organizationId, 'a.enabled': true, 'a.connected': true })
      .whereNotNull('a.relay_url')
      .whereNotNull('a.connection_id')
      .whereRaw('a.last_seen_at > now() - make_interval(secs => ?)', [AGENT_STALE_AFTER_SECONDS])
      .orderBy('a.last_seen_at', 'desc')
      .select<Array<{ id: string; organization_id: string; name: string; relay_url: string; connection_id: string }>>(
        'a.id',
        'a.organization_id',
        'a.name',
        'a.relay_url',
        'a.connection_id',
      );
    return rows.map((r) => ({ agentId: r.id, organizationId: r.organization_id, name: r.name, relayUrl: r.relay_url, connectionId: r.connection_id }));
  }

  /** Names of the agents linked to a datasource (for error messages). */
  async namesForDatasource(datasourceId: string): Promise<Array<{ id: string; name: string; enabled: boolean }>> {
    return this.db('datasource_agents as a')
      .join('datasource_agent_links as l', 'l.agent_id', 'a.id')
      .where({ 'l.datasource_id': datasourceId })
      .orderBy('a.name')
      .select('a.id', 'a.name', 'a.enabled');
  }

  /** Agent ids per datasource among `datasourceIds`. */
  async agentIdsByDatasource(datasourceIds: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (!datasourceIds.length) return out;
    const links = await this.db('datasource_agent_links')
      .whereIn('datasource_id', [...datasourceIds])
      .orderBy('agent_id')
      .select<{ agent_id: string; datasource_id: string }[]>('agent_id', 'datasource_id');
    for (const l of links) out.set(l.datasource_id, [...(out.get(l.datasource_id) ?? []), l.agent_id]);
    return out;
  }

  /** Makes `agentIds` the agents of a datasource. */
  async replaceLinks(datasourceId: string, agentIds: readonly string[]): Promise<void> {
    await this.db('datasource_agent_links').where({ datasource_id: datasourceId }).delete();
    if (agentIds.length)
      await this.db('datasource_agent_links').insert([...new Set(agentIds)].map((agentId) => ({ datasource_id: datasourceId, agent_id: agentId })));
  }

  /** The ids among `ids` that are not agents of the organization. */
  async unknownIds(organizationId: string, ids: readonly string[]): Promise<string[]> {
    if (!ids.length) return [];
    const rows = await this.db('datasource_agents')
      .where({ organization_id: organizationId })
      .whereIn('id', [...ids])
      .select<{ id: string }[]>('id');
    const known = new Set(rows.map((r) => r.id));
    return ids.filter((id) => !known.has(id));
  }
}
