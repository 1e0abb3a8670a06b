import { EventEmitter } from 'node:events';
import type { Knex } from 'knex';
import type { Principal } from '../api-keys/permissions.js';
import { hashSecret, randomSecret } from '../crypto/secrets.js';
import { withTransaction } from '../db/db.js';
import { translatePgError } from '../db/pg-errors.js';
import { ForbiddenError, ValidationError } from '../errors.js';
import type { DatasourceTransport } from '../drivers/driver.types.js';
import { AgentRelayTokens } from './agent-relay-token.js';
import { AgentTransport } from './agent-transport.js';
import type { AuthFailureLimiter } from '../api-keys/auth-failure-limiter.js';
import { DatasourceAgentRepository } from './datasource-agent.repository.js';
import { datasourceAgentFields } from './datasource-agent.fields.js';
import type { CreateDatasourceAgentInput, DatasourceAgent, DatasourceAgentPatch, UpdateDatasourceAgentInput } from './datasource-agent.types.js';

/** Permissions that make agents visible (contract rows 10 and 11). */
export const DATASOURCE_AGENT_VIEW_PERMISSIONS = ['View Datasources', 'Manage Datasources'] as const;

export interface DatasourceAgentServiceDeps {
  db: Knex;
  /** The deployment's key: relay tokens are signed with a key derived from it. */
  encryptionKey: Buffer;
  /** Counts failed agent authentications (shared with API keys); without it, nothing is limited. */
  failureLimiter?: AuthFailureLimiter;
}

/** Events of `DatasourceAgentService.events`. */
export interface DatasourceAgentEvents {
  /** An agent was disabled or deleted: a relay of this process holding its connection closes it now. */
  revoked: [agentId: string];
}

/**
 * Datasource agents (contract rows 9–13): CRUD with a secret key shown once (stored hashed), the
 * rules on who may change an agent and when it may be deleted, and the look-ups of the relay
 * (authenticating an agent by its key).
 */
/** What a connecting agent's key is worth: its enabled agent, or why it is refused. */
export type AgentAuthentication = { agent: DatasourceAgent; refused?: undefined } | { agent?: undefined; refused: 'unknown' | 'disabled' };

export class DatasourceAgentService {
  /** Emits `revoked` after an agent is disabled or deleted (other processes notice at their next heartbeat). */
  readonly events = new EventEmitter<DatasourceAgentEvents>();

  /** Tokens with which workers open sessions at a relay (and the relay checks them). */
  readonly relayTokens: AgentRelayTokens;

  constructor(private readonly deps: DatasourceAgentServiceDeps) {
    this.relayTokens = new AgentRelayTokens(deps.encryptionKey);
  }

  /** The transport of a datasource in connection mode `agent` (the drivers open sessions through it). */
  transportFor(datasource: { id: string; organizationId: string }): DatasourceTransport {
    return new AgentTransport({ repository: this.repo(), tokens: this.relayTokens }, datasource);
  }

  repo(db: Knex = this.deps.db): DatasourceAgentRepository {
    return new DatasourceAgentRepository(db);
  }

  /**
   * Creates an agent (Manage Datasources) with a new secret key.
   * @returns the agent and its secret key, which is never shown again (only its hash is stored)
   * @throws ForbiddenError
   */
  async create(principal: Principal, input: CreateDatasourceAgentInput): Promise<{ agent: DatasourceAgent; secretKey: string }> {
    principal.requireAny('Manage Datasources');
    const secretKey = randomSecret(32);
    const agent = await this.repo().insert({
      ...datasourceAgentFields.prepareCreate(input),
      // the contract's agent ids are 43-character base64url strings
      id: randomSecret(32),
      organizationId: principal.organizationId,
      secretKeyHash: hashSecret(secretKey),
    });
    return { agent, secretKey };
  }

  /** Agents of the key's organization (View or Manage Datasources). @throws ForbiddenError */
  async list(principal: Principal): Promise<DatasourceAgent[]> {
    principal.requireAny(...DATASOURCE_AGENT_VIEW_PERMISSIONS);
    return this.repo().list(principal.organizationId);
  }

  /** @throws ForbiddenError, NotFoundError (other organizations' agents too) */
  async get(principal: Principal, id: string): Promise<DatasourceAgent> {
    principal.requireAny(...DATASOURCE_AGENT_VIEW_PERMISSIONS);
    return this.repo().get(principal.organizationId, id);
  }

  /** Agents of the organization among `ids` (included resources). */
  listByIds(organizationId: string, ids: readonly string[]): Promise<DatasourceAgent[]> {
    return this.repo().listByIds(organizationId, ids);
  }

  /**
   * Renames, enables or disables an agent. Needs Manage Datasources on every datasource that uses
   * it (contract §4.1.7). Disabling a connected agent disconnects it.
   * @throws ForbiddenError, NotFoundError, ValidationError
   */
  async update(principal: Principal, id: string, input: UpdateDatasourceAgentInput): Promise<DatasourceAgent> {
    principal.requireAny('Manage Datasources');
    const current = await this.repo().get(principal.organizationId, id);
    const denied = current.datasourceIds.filter((ds) => !principal.canUseDatasource(ds, 'Manage Datasources'));
    if (denied.length) {
      throw new ForbiddenError('Updating this agent needs "Manage Datasources" on every datasource that uses it');
    }
    const patch: DatasourceAgentPatch = datasourceAgentFields.prepareUpdate(input, current);
    if (patch.enabled === false) Object.assign(patch, { connected: false, connectionId: null, relayUrl: null, activeQueries: 0 });
    const agent = await this.repo().update(principal.organizationId, id, patch);
    if (patch.enabled === false) this.events.emit('revoked', id);
    return agent;
  }

  /**
   * Deletes an agent no datasource uses (contract §4.1.2); a connected one is disconnected.
   * @throws ForbiddenError, NotFoundError, ValidationError (422 `datasource_agent_in_use`)
   */
  async delete(principal: Principal, id: string): Promise<void> {
    principal.requireAny('Manage Datasources');
    const current = await this.repo().get(principal.organizationId, id);
    const inUse = () =>
      new ValidationError(
        `The datasource agent is used by ${current.datasourceIds.length === 1 ? 'datasource' : 'datasources'} ${current.datasourceIds.join(', ')}; change their connection first`,
        { code: 'datasource_agent_in_use' },
      );
    if (current.datasourceIds.length) throw inUse();
    try {
      await this.repo().delete(principal.organizationId, id);
    } catch (err) {
      const mapped = translatePgError(err);
      if (mapped instanceof ValidationError && mapped.code === 'in_use') {
        throw new ValidationError(`The datasource agent is still in use: ${mapped.detail}`, { code: 'datasource_agent_in_use', cause: err });
      }
      throw mapped;
    }
    this.events.emit('revoked', id);
  }

  /** The agent a secret key belongs to, when it exists (the relay checks `enabled` itself). */
  findBySecretKey(secretKey: string): Promise<DatasourceAgent | undefined> {
    return this.repo().findBySecretHash(hashSecret(secretKey));
  }

  /**
   * Authenticates a connecting agent by its secret key: the enabled agent it belongs to; `disabled`
   * for the valid key of a disabled agent (not counted as a failure: the key is right, and a disabled
   * agent retrying all day must not fill its address's failure budget); `unknown` for a missing,
   * malformed, unknown or deleted key (counted like failed API-key authentications, per client
   * address and key prefix).
   * @throws RateLimitedError when the client or the key prefix failed too often in the window
   */
  async authenticate(secretKey: string | undefined, clientAddress?: string): Promise<AgentAuthentication> {
    const agent = secretKey && /^[A-Za-z0-9_-]{20,200}$/.test(secretKey) ? await this.findBySecretKey(secretKey) : undefined;
    if (agent?.enabled) return { agent };
    if (agent) return { refused: 'disabled' };
    await this.deps.failureLimiter?.recordFailure({ clientAddress, secret: secretKey });
    return { refused: 'unknown' };
  }

  /**
   * Checks and writes the `agents` of a datasource: only for `connection_mode: agent`, only agents
   * of the same organization. Runs inside the caller's transaction.
   * @throws ValidationError (422 pointing at `/data/relationships/agents`)
   */
  async setDatasourceAgents(db: Knex, organizationId: string, datasourceId: string, connectionMode: string, agentIds: readonly string[]): Promise<void> {
    const pointer = { pointer: '/data/relationships/agents' };
    if (agentIds.length && connectionMode !== 'agent') {
      throw new ValidationError('Agents apply only to datasources with connection_mode "agent"', { code: 'agents_need_agent_mode', source: pointer });
    }
    const unknown = await this.repo(db).unknownIds(organizationId, agentIds);
    if (unknown.length) throw new ValidationError(`Unknown datasource agent(s): ${unknown.join(', ')}`, { source: pointer });
    await withTransaction(db, (trx) => this.repo(trx).replaceLinks(datasourceId, agentIds));
  }
}
