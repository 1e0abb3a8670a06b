import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Principal } from '../api-keys/permissions.js';
import type { Clock } from '../clock.js';
import { decryptSecret, encryptSecret, randomSecret } from '../crypto/secrets.js';
import { withTransaction } from '../db/db.js';
import { DASHBOARD_MANAGE_PERMISSION } from '../dashboards/dashboard.permissions.js';
import { DashboardRepository } from '../dashboards/dashboard.repository.js';
import { ForbiddenError, ValidationError } from '../errors.js';
import { newId } from '../ids.js';
import { ReportRepository } from '../reports/report.repository.js';
import { hashPassword } from './password.js';
import { SharingLinkRepository, type SharingLinkPatch } from './sharing-link.repository.js';
import type { SharingLink, SharingLinkInput, SharingSecret, SharingSecretRow } from './sharing-link.types.js';

/** Shortest and longest accepted sharing-link password. */
export const SHARING_PASSWORD_LENGTH = { min: 8, max: 200 } as const;

const EMBED_ORIGIN = /^https?:\/\/(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$/;

/**
 * Normalises an origin that may frame a shared page: `https://host[:port]` (or `http://`), host
 * optionally `*.`-prefixed, no path. It ends up in a CSP header, so nothing else gets through.
 * @returns the lowercase origin, or undefined when the text is not one
 */
export function parseEmbedOrigin(text: string): string | undefined {
  const origin = text.trim().toLowerCase().replace(/\/$/, '');
  return origin.length <= 300 && EMBED_ORIGIN.test(origin) ? origin : undefined;
}

/** Who may read and rotate the organization's sharing secret: an admin key ("Manage API Keys" and unscoped "Manage Dashboards"). */
export function requireSharingSecretAdmin(principal: Principal): void {
  if (!principal.has('Manage API Keys') || principal.datasourceScope(DASHBOARD_MANAGE_PERMISSION) !== 'all') {
    throw new ForbiddenError('The sharing secret can be read and rotated only by an admin key ("Manage API Keys" and "Manage Dashboards" on every datasource)');
  }
}

export interface SharingLinkServiceDeps {
  db: Knex;
  clock: Clock;
  /** Seals the organization's sharing secret at rest (the deployment's encryption key). */
  encryptionKey: Buffer;
}

/**
 * Sharing links of dashboards (Sightline's `dashboard_sharing_links`, permission "Manage Dashboards")
 * and the organization's sharing secret (admin keys).
 */
export class SharingLinkService {
  constructor(private readonly deps: SharingLinkServiceDeps) {}

  /**
   * A link exposes every report of its dashboard, so making or widening one needs "Manage Dashboards"
   * on each report's datasource.
   * @throws ValidationError (422) for an unknown dashboard, ForbiddenError
   */
  private async requireDashboardShareable(principal: Principal, trx: Knex, dashboardId: string): Promise<void> {
    if (!(await new DashboardRepository(trx).find(principal.organizationId, dashboardId))) {
      throw new ValidationError(`Dashboard ${dashboardId} not found`, { code: 'dashboard_not_found', source: { pointer: '/data/relationships/dashboard' } });
    }
    const reports = await new ReportRepository(trx).listByDashboard(principal.organizationId, dashboardId);
    const blocked = reports.find((r) => !principal.canUseDatasource(r.datasourceId, DASHBOARD_MANAGE_PERMISSION));
    if (blocked) throw new ForbiddenError(`This API key cannot share dashboard ${dashboardId}: it cannot use datasource ${blocked.datasourceId} of report ${blocked.id}`);
  }

  private async columns(input: SharingLinkInput): Promise<SharingLinkPatch> {
    const patch: SharingLinkPatch = {
      name: input.name,
      requires_secret: input.requiresSecret,
      expires_at: input.expiresAt,
      fixed_parameters: input.fixedParameters,
      enabled: input.enabled,
      allowed_embed_origins: input.allowedEmbedOrigins,
    };
    if (input.password !== undefined) {
      if (input.password !== null && (input.password.length < SHARING_PASSWORD_LENGTH.min || input.password.length > SHARING_PASSWORD_LENGTH.max)) {
        throw new ValidationError(`password must have ${SHARING_PASSWORD_LENGTH.min} to ${SHARING_PASSWORD_LENGTH.max} characters`, { source: { pointer: '/data/attributes/password' } });
      }
      patch.password_hash = input.password === null ? null : await hashPassword(input.password);
    }
    return patch;
  }

  /** Lists the organization's links. */
  list(principal: Principal): Promise<SharingLink[]> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    return new SharingLinkRepository(this.deps.db).list(principal.organizationId);
  }

  /** Links of some dashboards (the dashboards' `dashboard_sharing_links` relationship; no permission check). */
  listByDashboards(organizationId: string, dashboardIds: readonly string[]): Promise<SharingLink[]> {
    return new SharingLinkRepository(this.deps.db).listByDashboards(organizationId, dashboardIds);
  }

  /** @throws NotFoundError, ForbiddenError */
  get(principal: Principal, id: string): Promise<SharingLink> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    return new SharingLinkRepository(this.deps.db).get(principal.organizationId, id);
  }

  /**
   * Creates a link with a new random sharing token.
   * @throws ForbiddenError, ValidationError (also for an unknown dashboard)
   */
  async create(principal: Principal, input: SharingLinkInput & { dashboardId: string }): Promise<SharingLink> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    const columns = await this.columns(input);
    return withTransaction(this.deps.db, async (trx) => {
      await this.requireDashboardShareable(principal, trx, input.dashboardId);
      return new SharingLinkRepository(trx).insert({
        id: newId(),
        organization_id: principal.organizationId,
        dashboard_id: input.dashboardId,
        sharing_token: randomUUID(),
        name: columns.name ?? null,
        requires_secret: columns.requires_secret ?? false,
        expires_at: columns.expires_at ?? null,
        fixed_parameters: columns.fixed_parameters ?? null,
        enabled: columns.enabled ?? true,
        password_hash: columns.password_hash ?? null,
        allowed_embed_origins: columns.allowed_embed_origins ?? [],
      });
    });
  }

  /**
   * Updates a link. The dashboard of a link cannot change (make a new link instead).
   * @throws NotFoundError, ForbiddenError, ValidationError
   */
  async update(principal: Principal, id: string, input: SharingLinkInput): Promise<SharingLink> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    const columns = await this.columns(input);
    return withTransaction(this.deps.db, async (trx) => {
      const repo = new SharingLinkRepository(trx);
      const current = await repo.get(principal.organizationId, id);
      if (input.dashboardId !== undefined && input.dashboardId !== current.dashboardId) {
        throw new ValidationError('The dashboard of a sharing link cannot change; create a new link for the other dashboard', { source: { pointer: '/data/relationships/dashboard' } });
      }
      await this.requireDashboardShareable(principal, trx, current.dashboardId);
      return repo.update(principal.organizationId, id, columns, this.deps.clock.now());
    });
  }

  /**
   * Gives a link a new random sharing token: the old URL, and every page opened with it, stops
   * working at once.
   * @throws NotFoundError, ForbiddenError
   */
  async rotateToken(principal: Principal, id: string): Promise<SharingLink> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    return withTransaction(this.deps.db, async (trx) => {
      const repo = new SharingLinkRepository(trx);
      const current = await repo.get(principal.organizationId, id);
      await this.requireDashboardShareable(principal, trx, current.dashboardId);
      return repo.update(principal.organizationId, id, { sharing_token: randomUUID() }, this.deps.clock.now());
    });
  }

  /** @throws NotFoundError, ForbiddenError */
  async delete(principal: Principal, id: string): Promise<void> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    const repo = new SharingLinkRepository(this.deps.db);
    if (!(await repo.delete(principal.organizationId, id))) await repo.get(principal.organizationId, id);
  }

  private toSecret(row: SharingSecretRow): SharingSecret {
    return { secret: decryptSecret(row.secret_sealed, this.deps.encryptionKey), version: row.version, createdAt: row.created_at, updatedAt: row.updated_at };
  }

  /** The organization's sharing secret, created on first read. @throws ForbiddenError for non-admin keys */
  async getSecret(principal: Principal): Promise<SharingSecret> {
    requireSharingSecretAdmin(principal);
    const repo = new SharingLinkRepository(this.deps.db);
    const row = (await repo.findSecret(principal.organizationId))
      ?? (await repo.insertSecretIfMissing(principal.organizationId, encryptSecret(randomSecret(32), this.deps.encryptionKey)));
    return this.toSecret(row);
  }

  /**
   * Replaces the organization's sharing secret: URLs signed with the old one, and pages opened with
   * them, stop working at once. @throws ForbiddenError for non-admin keys
   */
  async rotateSecret(principal: Principal): Promise<SharingSecret> {
    requireSharingSecretAdmin(principal);
    const row = await new SharingLinkRepository(this.deps.db).rotateSecret(principal.organizationId, encryptSecret(randomSecret(32), this.deps.encryptionKey), this.deps.clock.now());
    return this.toSecret(row);
  }

  /** Internal (viewer path): the organization's secret in clear, or undefined when it has none. */
  async findSecretValue(organizationId: string): Promise<{ secret: string; version: number } | undefined> {
    const row = await new SharingLinkRepository(this.deps.db).findSecret(organizationId);
    return row ? { secret: decryptSecret(row.secret_sealed, this.deps.encryptionKey), version: row.version } : undefined;
  }
}
