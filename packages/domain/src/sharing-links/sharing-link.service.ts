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
import { SHARING_PASSWORD_LENGTH, sharingLinkFields } from './sharing-link.fields.js';
import { SharingLinkRepository } from './sharing-link.repository.js';
import type { CreateSharingLinkInput, SharingLink, SharingSecret, SharingSecretRow, UpdateSharingLinkInput } from './sharing-link.types.js';

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
    if (blocked)
      throw new ForbiddenError(`This API key cannot share dashboard ${dashboardId}: it cannot use datasource ${blocked.datasourceId} of report ${blocked.id}`);
  }

  /** The hash to store for a password change: undefined = unchanged, null = remove. */
  private async passwordHash(password: string | null | undefined): Promise<string | null | undefined> {
    if (password === undefined || password === null) return password;
    if (password.length < SHARING_PASSWORD_LENGTH.min || password.length > SHARING_PASSWORD_LENGTH.max) {
      throw new ValidationError(`password must have ${SHARING_PASSWORD_LENGTH.min} to ${SHARING_PASSWORD_LENGTH.max} characters`, {
        source: { pointer: '/data/attributes/password' },
      });
    }
    return hashPassword(password);
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
  async create(principal: Principal, input: CreateSharingLinkInput): Promise<SharingLink> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    const { password, ...link } = sharingLinkFields.prepareCreate(input);
    const passwordHash = await this.passwordHash(password);
    return withTransaction(this.deps.db, async (trx) => {
      await this.requireDashboardShareable(principal, trx, link.dashboardId);
      return new SharingLinkRepository(trx).insert({
        ...link,
        id: newId(),
        organizationId: principal.organizationId,
        sharingToken: randomUUID(),
        passwordHash,
      });
    });
  }

  /**
   * Updates a link. The dashboard of a link cannot change (make a new link instead).
   * @throws NotFoundError, ForbiddenError, ValidationError
   */
  async update(principal: Principal, id: string, input: UpdateSharingLinkInput): Promise<SharingLink> {
    principal.requireAny(DASHBOARD_MANAGE_PERMISSION);
    const { password, dashboardId, ...patch } = input;
    const passwordHash = await this.passwordHash(password);
    return withTransaction(this.deps.db, async (trx) => {
      const repo = new SharingLinkRepository(trx);
      const current = await repo.get(principal.organizationId, id);
      if (dashboardId !== undefined && dashboardId !== current.dashboardId) {
        throw new ValidationError('The dashboard of a sharing link cannot change; create a new link for the other dashboard', {
          source: { pointer: '/data/relationships/dashboard' },
        });
      }
      await this.requireDashboardShareable(principal, trx, current.dashboardId);
      return repo.update(principal.organizationId, id, { ...patch, passwordHash }, this.deps.clock.now());
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
      return repo.update(principal.organizationId, id, { sharingToken: randomUUID() }, this.deps.clock.now());
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
    const row =
      (await repo.findSecret(principal.organizationId)) ??
      (await repo.insertSecretIfMissing(principal.organizationId, encryptSecret(randomSecret(32), this.deps.encryptionKey)));
    return this.toSecret(row);
  }

  /**
   * Replaces the organization's sharing secret: URLs signed with the old one, and pages opened with
   * them, stop working at once. @throws ForbiddenError for non-admin keys
   */
  async rotateSecret(principal: Principal): Promise<SharingSecret> {
    requireSharingSecretAdmin(principal);
    const row = await new SharingLinkRepository(this.deps.db).rotateSecret(
      principal.organizationId,
      encryptSecret(randomSecret(32), this.deps.encryptionKey),
      this.deps.clock.now(),
    );
    return this.toSecret(row);
  }

  /** Internal (viewer path): the organization's secret in clear, or undefined when it has none. */
  async findSecretValue(organizationId: string): Promise<{ secret: string; version: number } | undefined> {
    const row = await new SharingLinkRepository(this.deps.db).findSecret(organizationId);
    return row ? { secret: decryptSecret(row.secret_sealed, this.deps.encryptionKey), version: row.version } : undefined;
  }
}
