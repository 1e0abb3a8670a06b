import type { Knex } from 'knex';
import type { Principal } from '../api-keys/permissions.js';
import { withTransaction } from '../db/db.js';
import { DatasourceSessionPools, createDriver, type ConnectionSettings, type Driver } from '../drivers/index.js';
import { redactSecret } from '../drivers/values.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import { newId } from '../ids.js';
import { translatePgError } from '../db/pg-errors.js';
import type { DatasourceAgentService } from '../datasource-agents/index.js';
import { SshKeyRepository } from '../ssh-tunnels/ssh-key.repository.js';
import type { SshTunnelPool } from '../ssh-tunnels/ssh-tunnel-pool.js';
import { DatasourceRepository, type DatasourceUsage } from './datasource.repository.js';
import { datasourceFields } from './datasource.fields.js';
import type { ConnectionTestResult, CreateDatasourceInput, Datasource, UpdateDatasourceInput } from './datasource.types.js';

/** The attributes that decide how a datasource is reached (a change closes its SSH tunnel). */
const CONNECTION_FIELDS = [
  'connectionMode',
  'host',
  'port',
  'username',
  'password',
  'database',
  'sshTunnelHost',
  'sshTunnelPort',
  'sshTunnelUser',
  'requireSsl',
  'verifySsl',
  'enabled',
] as const;

/** Permissions that make a datasource visible (contract rows 2 and 3). */
export const DATASOURCE_VIEW_PERMISSIONS = ['View Datasources', 'Manage Datasources', 'Manage Dashboards', 'Manage Alerts'] as const;

/** Where the shared "Sample Data" database is, when this deployment has one. */
export interface SampleDataConnection {
  host: string;
  port: number;
  database: string;
  username: string;
  password: string;
}

export interface DatasourceServiceDeps {
  db: Knex;
  encryptionKey: Buffer;
  /** Default statement timeout (seconds) for datasources without their own. */
  defaultQueryTimeoutSeconds: number;
  /** Agents: the `agents` relationship of datasources in connection mode `agent`. */
  agents: DatasourceAgentService;
  /** Builds a driver (injectable so tests can count connections). */
  driverFactory?: (settings: ConnectionSettings) => Driver;
  sampleData?: SampleDataConnection;
  /** Idle pooled datasource sessions end after this long (ms, default 60 s). */
  sessionIdleTimeoutMs?: number;
  /** The SSH tunnels of this process; without it, datasources in `ssh_tunnel` mode cannot connect. */
  sshTunnels?: SshTunnelPool;
}

/** Datasources: CRUD, visibility by key scope, connection settings for drivers, connection tests. */
export class DatasourceService {
  /** Query sessions of this process, pooled per datasource (bounded by its max_concurrent_executions). */
  readonly sessionPools: DatasourceSessionPools;

  /**
   * Lookups of a datasource in flight (by organization and id), shared by the requests that arrive
   * meanwhile: a burst of submits to one datasource reads it a few times, not once per submit.
   * Nothing is kept once a lookup is answered; a change through this process is not joined by
   * lookups that started before it.
   */
  private readonly lookups = new Map<string, Promise<Datasource | undefined>>();

  constructor(private readonly deps: DatasourceServiceDeps) {
    this.sessionPools = new DatasourceSessionPools({ idleTimeoutMs: deps.sessionIdleTimeoutMs });
  }

  /**
   * `getVisible` sharing the lookup with concurrent callers (the submit path: it reads the
   * datasource on every request).
   * @throws NotFoundError when it does not exist or is outside the key's scope
   */
  async getVisibleShared(
    principal: Principal,
    id: string,
    permissions: readonly Parameters<Principal['has']>[0][] = DATASOURCE_VIEW_PERMISSIONS,
  ): Promise<Datasource> {
    if (!principal.canUseDatasource(id, ...permissions)) throw new NotFoundError(`Datasource ${id} not found`, { code: 'datasource_not_found' });
    // the organization is part of the key: a lookup is only ever shared within one tenant
    const key = `${principal.organizationId}\u0000${id}`;
    let lookup = this.lookups.get(key);
    if (!lookup) {
      const started = this.repo().find(principal.organizationId, id);
      lookup = started;
      this.lookups.set(key, started);
      const forget = () => {
        if (this.lookups.get(key) === started) this.lookups.delete(key);
      };
      started.then(forget, forget);
    }
    const ds = await lookup;
    if (!ds) throw new NotFoundError(`Datasource ${id} not found`, { code: 'datasource_not_found' });
    return { ...ds, agentIds: [...ds.agentIds] };
  }

  /** Runs a change to datasources; lookups in flight are not joined by later callers (before and after it). */
  private async changing<T>(change: () => Promise<T>): Promise<T> {
    this.lookups.clear();
    try {
      return await change();
    } finally {
      this.lookups.clear();
    }
  }

  private repo(db: Knex = this.deps.db): DatasourceRepository {
    return new DatasourceRepository(db, this.deps.encryptionKey);
  }

  /** Datasources the key may see. */
  list(principal: Principal): Promise<Datasource[]> {
    principal.requireAny(...DATASOURCE_VIEW_PERMISSIONS);
    return this.repo().list(principal.organizationId, principal.datasourceScope(...DATASOURCE_VIEW_PERMISSIONS));
  }

  /**
   * One datasource the key may see through any of `permissions` (default: the viewing ones).
   * @throws NotFoundError when it does not exist or is outside the key's scope
   */
  async getVisible(
    principal: Principal,
    id: string,
    permissions: readonly Parameters<Principal['has']>[0][] = DATASOURCE_VIEW_PERMISSIONS,
  ): Promise<Datasource> {
    if (!principal.canUseDatasource(id, ...permissions)) throw new NotFoundError(`Datasource ${id} not found`, { code: 'datasource_not_found' });
    return this.repo().get(principal.organizationId, id);
  }

  /** Internal lookup without a principal (worker). @throws NotFoundError */
  getByIdUnchecked(organizationId: string, id: string): Promise<Datasource> {
    return this.repo().get(organizationId, id);
  }

  /**
   * Creates a datasource (Manage Datasources, unlimited to specific datasources).
   * @throws ForbiddenError, ValidationError
   */
  async create(principal: Principal, input: CreateDatasourceInput): Promise<Datasource> {
    principal.requireAny('Manage Datasources');
    if (principal.datasourceScope('Manage Datasources') !== 'all') {
      throw new ForbiddenError('Creating datasources needs "Manage Datasources" for all datasources, not limited to some');
    }
    const prepared = datasourceFields.prepareCreate(input);
    return withTransaction(this.deps.db, async (trx) => {
      const ds = await this.repo(trx).insert({ ...prepared, id: newId(), organizationId: principal.organizationId });
      if (!prepared.agentIds?.length) return ds;
      await this.deps.agents.setDatasourceAgents(trx, principal.organizationId, ds.id, ds.connectionMode, prepared.agentIds);
      return this.repo(trx).get(principal.organizationId, ds.id);
    }).catch((err: unknown) => {
      throw translatePgError(err);
    });
  }

  /** Datasources of the organization among `ids` that the key may see (included resources). */
  async listVisibleByIds(principal: Principal, ids: readonly string[]): Promise<Datasource[]> {
    const visible = ids.filter((id) => principal.canUseDatasource(id, ...DATASOURCE_VIEW_PERMISSIONS));
    return this.repo().listByIds(principal.organizationId, visible);
  }

  /** @throws NotFoundError, ForbiddenError, ValidationError */
  update(principal: Principal, id: string, input: UpdateDatasourceInput): Promise<Datasource> {
    return this.changing(() => this.applyUpdate(principal, id, input));
  }

  private async applyUpdate(principal: Principal, id: string, input: UpdateDatasourceInput): Promise<Datasource> {
    principal.requireAny('Manage Datasources');
    const current = await this.getVisible(principal, id);
    if (!principal.canUseDatasource(id, 'Manage Datasources')) throw new ForbiddenError('This API key cannot manage this datasource');
    if (current.isSample) {
      const allowed = new Set<keyof UpdateDatasourceInput>([
        'name',
        'enabled',
        'maxConcurrentExecutions',
        'queryTimeoutSeconds',
        'updateSchemaNightly',
        'updateSchemaRowCounts',
        'dataTimeZone',
      ]);
      const locked = (Object.keys(input) as Array<keyof UpdateDatasourceInput>).filter((k) => !allowed.has(k) && input[k] !== undefined);
      if (locked.length)
        throw new ValidationError(`The connection of the Sample Data datasource cannot be changed (${locked.join(', ')})`, {
          code: 'sample_datasource_locked',
        });
    }
    const patch = datasourceFields.prepareUpdate(input, current);
    const mode = patch.connectionMode ?? current.connectionMode;
    // Agents belong to agent mode only: leaving it lets go of them (so they can be deleted).
    const agentIds = input.agentIds ?? (mode === 'agent' ? undefined : current.agentIds.length ? [] : undefined);
    const updated =
      agentIds === undefined
        ? await this.repo().update(principal.organizationId, id, patch)
        : await withTransaction(this.deps.db, async (trx) => {
            await this.repo(trx).update(principal.organizationId, id, patch);
            await this.deps.agents.setDatasourceAgents(trx, principal.organizationId, id, mode, agentIds);
            return this.repo(trx).get(principal.organizationId, id);
          }).catch((err: unknown) => {
            throw translatePgError(err);
          });
    // sessions of the old settings end (other processes notice the changed settings on next use)
    await this.sessionPools.evict(id);
    if (input.sshTunnelHost !== undefined || input.sshTunnelPort !== undefined || input.sshTunnelUser !== undefined) {
      // Saving the tunnel settings (even unchanged) trusts the bastion's host key anew on the next connect.
      await new SshKeyRepository(this.deps.db).forgetHostKeys(principal.organizationId, id);
    }
    // A change of how the database is reached ends the tunnel and its sessions; the next session
    // opens one with the new settings. (A rename or a new refresh rate leaves running queries alone.)
    if (CONNECTION_FIELDS.some((field) => current[field] !== updated[field]))
      this.deps.sshTunnels?.closeDatasource(id, 'The datasource connection settings were changed');
    return updated;
  }

  /**
   * Deletes a datasource. One still used by reports, filters or SQL snippets is refused with 422
   * naming them (contract §4.1.1); the foreign keys (RESTRICT) guard against a race with a new use.
   * @throws NotFoundError, ForbiddenError, ValidationError (`datasource_in_use`)
   */
  delete(principal: Principal, id: string): Promise<void> {
    return this.changing(() => this.applyDelete(principal, id));
  }

  private async applyDelete(principal: Principal, id: string): Promise<void> {
    principal.requireAny('Manage Datasources');
    await this.getVisible(principal, id);
    if (!principal.canUseDatasource(id, 'Manage Datasources')) throw new ForbiddenError('This API key cannot manage this datasource');
    const usages = await this.repo().usages(principal.organizationId, id);
    if (usages.length)
      throw new ValidationError(`The datasource is used by ${describeUsages(usages)}; delete them or move them to another datasource first`, {
        code: 'datasource_in_use',
      });
    try {
      await this.repo().delete(principal.organizationId, id);
      await this.sessionPools.evict(id);
      this.deps.sshTunnels?.closeDatasource(id, 'The datasource was deleted');
    } catch (err) {
      const mapped = translatePgError(err);
      if (mapped instanceof ValidationError && mapped.code === 'in_use') {
        throw new ValidationError(`The datasource is still in use: ${mapped.detail}`, { code: 'datasource_in_use', cause: err });
      }
      throw mapped;
    }
  }

  /**
   * The driver settings of a datasource, checking that this build can connect to it.
   * @throws ValidationError for a disabled datasource, an unsupported connection mode or type
   */
  connectionSettings(ds: Datasource): ConnectionSettings {
    if (!ds.enabled) throw new ValidationError(`Datasource ${ds.id} is disabled`, { code: 'datasource_disabled' });
    // ssh_tunnel: through the datasource's SSH tunnel; agent: through a connected agent of the datasource (via its relay)
    const transport =
      ds.connectionMode === 'ssh_tunnel' ? this.sshTransport(ds) : ds.connectionMode === 'agent' ? this.deps.agents.transportFor(ds) : undefined;
    if (ds.connectionMode !== 'direct' && ds.connectionMode !== 'ssh_tunnel' && ds.connectionMode !== 'agent') {
      throw new ValidationError(`Connection mode "${ds.connectionMode}" is not supported by this build yet; use "direct"`, {
        code: 'connection_mode_not_supported',
      });
    }
    return {
      ...(transport ? { transport } : {}),
      databaseType: ds.databaseType,
      host: ds.host,
      port: ds.port,
      username: ds.username,
      password: ds.password,
      database: ds.database,
      requireSsl: ds.requireSsl,
      verifySsl: ds.verifySsl,
      dataTimeZone: ds.dataTimeZone,
    };
  }

  /**
   * The SSH tunnel of a datasource in `ssh_tunnel` mode (opened on first use, shared by its sessions).
   * @throws ValidationError when the tunnel settings are incomplete or this process has no tunnel pool
   */
  private sshTransport(ds: Datasource): ConnectionSettings['transport'] {
    const pool = this.deps.sshTunnels;
    if (!pool) throw new ValidationError('Connection mode "ssh_tunnel" is not available in this process', { code: 'connection_mode_not_supported' });
    if (!ds.sshTunnelHost)
      throw new ValidationError('A datasource in connection_mode ssh_tunnel needs ssh_tunnel_host (the bastion host)', {
        code: 'ssh_tunnel_incomplete',
        source: { pointer: '/data/attributes/ssh_tunnel_host' },
      });
    if (!ds.sshTunnelUser)
      throw new ValidationError('A datasource in connection_mode ssh_tunnel needs ssh_tunnel_user (the login on the bastion)', {
        code: 'ssh_tunnel_incomplete',
        source: { pointer: '/data/attributes/ssh_tunnel_user' },
      });
    return pool.transportFor({
      organizationId: ds.organizationId,
      datasourceId: ds.id,
      host: ds.sshTunnelHost,
      port: ds.sshTunnelPort ?? 22,
      username: ds.sshTunnelUser,
    });
  }

  /** Effective statement timeout of a datasource in milliseconds. */
  queryTimeoutMs(ds: Datasource): number {
    return (ds.queryTimeoutSeconds ?? this.deps.defaultQueryTimeoutSeconds) * 1000;
  }

  /**
   * A driver for the datasource (the caller closes it); its query sessions come from the
   * datasource's pool in this process. @throws ValidationError
   */
  openDriver(ds: Datasource): Driver {
    const settings = this.connectionSettings(ds);
    if (this.deps.driverFactory) return this.deps.driverFactory(settings);
    return createDriver(settings, { pools: this.sessionPools, key: ds.id, max: ds.maxConcurrentExecutions });
  }

  /**
   * Test Datasource Connection (row 6): connects with a bounded timeout and reports the driver's
   * error text (without credentials). Anything that keeps this build from reaching the datasource
   * (a connection mode or database type it cannot connect to) is such an error too: always 200
   * `{status, error_message}`. Updates `server_version` on success.
   * @throws NotFoundError, ForbiddenError
   */
  async testConnection(principal: Principal, id: string): Promise<ConnectionTestResult> {
    principal.requireAny('Manage Datasources');
    const ds = await this.getVisible(principal, id);
    if (!principal.canUseDatasource(id, 'Manage Datasources')) throw new ForbiddenError('This API key cannot manage this datasource');
    let driver: Driver | undefined;
    let serverVersion: string;
    try {
      driver = (this.deps.driverFactory ?? createDriver)({ ...this.connectionSettings({ ...ds, enabled: true }), connectTimeoutMs: 10_000 });
      ({ serverVersion } = await driver.testConnection());
    } catch (err) {
      const message = err instanceof ValidationError ? (err.detail ?? err.title) : (err as Error).message || String(err);
      return { status: 'error', error_message: scrub(message, ds) };
    } finally {
      await driver?.close().catch(() => {});
    }
    await this.repo().setMetadata(ds.id, { serverVersion });
    return { status: 'ok', error_message: null };
  }

  /** Records what a schema refresh learned about the database (worker side; no access check). */
  async recordSchemaRefresh(id: string, info: { serverVersion: string | null; defaultSchemaName: string | null; totalRowCount: number }): Promise<void> {
    await this.repo().setMetadata(id, { ...info, schemaUpdatedAt: new Date(), totalRowCountExact: false });
  }

  /** Gives the organization its "Sample Data" datasource when the deployment has sample data. */
  async ensureSampleDatasource(db: Knex, organizationId: string): Promise<Datasource | undefined> {
    const sample = this.deps.sampleData;
    if (!sample) return undefined;
    return this.changing(() =>
      withTransaction(db, async (trx) => {
        const repo = this.repo(trx);
        const existing = await repo.findSample(organizationId);
        if (existing) {
          return repo.update(organizationId, existing.id, {
            host: sample.host,
            port: sample.port,
            database: sample.database,
            username: sample.username,
            password: sample.password,
          });
        }
        const settings = datasourceFields.prepareCreate({
          name: 'Sample Data',
          databaseType: 'postgres',
          connectionMode: 'direct',
          host: sample.host,
          port: sample.port,
          database: sample.database,
          username: sample.username,
          password: sample.password,
          requireSsl: false,
          verifySsl: false,
          dataTimeZone: 'UTC',
          maxConcurrentExecutions: 10,
        });
        return repo.insert({ ...settings, id: newId(), organizationId, isSample: true });
      }),
    );
  }

  /** Ids among `ids` that are not datasources of the organization (API key permission checks). */
  unknownIds(db: Knex, organizationId: string, ids: string[]): Promise<string[]> {
    return this.repo(db).unknownIds(organizationId, ids);
  }
}

/** Removes the datasource's secrets from a driver message, should a driver ever echo them (whole occurrences only). */
function scrub(message: string, ds: Datasource): string {
  return redactSecret(redactSecret(message, ds.password), ds.bigqueryServiceKey);
}

const USAGE_WORDS: Record<DatasourceUsage['kind'], [string, string]> = {
  report: ['report', 'reports'],
  filter: ['filter', 'filters'],
  sql_snippet: ['SQL snippet', 'SQL snippets'],
};

/** `2 reports ("Revenue" abcd-…, "Costs" efgh-…) and 1 filter ("region" ijkl-…)`. */
function describeUsages(usages: DatasourceUsage[]): string {
  const parts = usages.map((u) => {
    const [one, many] = USAGE_WORDS[u.kind];
    const named = u.items.map((i) => (i.label ? `"${i.label}" ${i.id}` : i.id));
    if (u.total > u.items.length) named.push(`${u.total - u.items.length} more`);
    return `${u.total} ${u.total === 1 ? one : many} (${named.join(', ')})`;
  });
  return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}` : parts[0]!;
}
