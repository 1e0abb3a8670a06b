import type { Knex } from 'knex';
import { NotFoundError } from '../errors.js';
import { sharingLinkFields } from './sharing-link.fields.js';
import type { NewSharingLink, SharingLink, SharingLinkPatch, SharingLinkRow, SharingSecretRow } from './sharing-link.types.js';

function toLink(row: SharingLinkRow): SharingLink {
  const { passwordHash, ...link } = sharingLinkFields.fromRow(row);
  return { ...link, passwordProtected: passwordHash !== null, allowedEmbedOrigins: link.allowedEmbedOrigins ?? [] };
}

/** A link with what only the viewer path needs: the password hash and the organization's secret version. */
export interface LinkForViewer {
  link: SharingLink;
  passwordHash: string | null;
  /** Current version of the organization's sharing secret; null when it has none. */
  secretVersion: number | null;
}

/** SQL for `dashboard_sharing_links` and `organization_sharing_secrets`. */
export class SharingLinkRepository {
  constructor(private readonly db: Knex) {}

  async insert(link: NewSharingLink): Promise<SharingLink> {
    const [row] = await this.db('dashboard_sharing_links').insert(sharingLinkFields.toColumns(link)).returning('*');
    return toLink(row as SharingLinkRow);
  }

  async list(organizationId: string): Promise<SharingLink[]> {
    const rows = await this.db<SharingLinkRow>('dashboard_sharing_links').where({ organization_id: organizationId }).orderBy('created_at').orderBy('id');
    return rows.map(toLink);
  }

  /** Links of several dashboards (relationship linkage and includes). */
  async listByDashboards(organizationId: string, dashboardIds: readonly string[]): Promise<SharingLink[]> {
    if (!dashboardIds.length) return [];
    const rows = await this.db<SharingLinkRow>('dashboard_sharing_links')
      .where({ organization_id: organizationId })
      .whereIn('dashboard_id', [...dashboardIds])
      .orderBy('created_at')
      .orderBy('id');
    return rows.map(toLink);
  }

  async find(organizationId: string, id: string): Promise<SharingLink | undefined> {
    const row = await this.db<SharingLinkRow>('dashboard_sharing_links').where({ organization_id: organizationId, id }).first();
    return row ? toLink(row) : undefined;
  }

  /** @throws NotFoundError (`dashboard_sharing_link_not_found`) */
  async get(organizationId: string, id: string): Promise<SharingLink> {
    const link = await this.find(organizationId, id);
    if (!link) throw new NotFoundError(`Dashboard sharing link ${id} not found`, { code: 'dashboard_sharing_link_not_found' });
    return link;
  }

  /** @throws NotFoundError */
  async update(organizationId: string, id: string, patch: SharingLinkPatch, now: Date): Promise<SharingLink> {
    const [row] = await this.db('dashboard_sharing_links')
      .where({ organization_id: organizationId, id })
      .update({ ...sharingLinkFields.toColumns(patch), updated_at: now })
      .returning('*');
    if (!row) throw new NotFoundError(`Dashboard sharing link ${id} not found`, { code: 'dashboard_sharing_link_not_found' });
    return toLink(row as SharingLinkRow);
  }

  /** @returns whether a link was deleted */
  async delete(organizationId: string, id: string): Promise<boolean> {
    return (await this.db('dashboard_sharing_links').where({ organization_id: organizationId, id }).delete()) > 0;
  }

  private viewerQuery() {
    return this.db('dashboard_sharing_links as l')
      .leftJoin('organization_sharing_secrets as s', 's.organization_id', 'l.organization_id')
      .select('l.*', 's.version as secret_version');
  }

  private toViewer(row: (SharingLinkRow & { secret_version: number | null }) | undefined): LinkForViewer | undefined {
    if (!row) return undefined;
    return { link: toLink(row), passwordHash: row.password_hash, secretVersion: row.secret_version };
  }

  /** The link a sharing token opens, in any organization (the token is the lookup key). */
  async findByToken(sharingToken: string): Promise<LinkForViewer | undefined> {
    return this.toViewer(await this.viewerQuery().where('l.sharing_token', sharingToken).first());
  }

  /** One link by id for a viewer session's re-check at every poll. */
  async findForViewer(organizationId: string, id: string): Promise<LinkForViewer | undefined> {
    return this.toViewer(await this.viewerQuery().where({ 'l.organization_id': organizationId, 'l.id': id }).first());
  }

  /** Sets `last_viewed_at`, at most once a minute per link (no write per page view under load). */
  async touchViewed(id: string, now: Date): Promise<void> {
    await this.db('dashboard_sharing_links')
      .where({ id })
      .andWhere((q) => q.whereNull('last_viewed_at').orWhere('last_viewed_at', '<', new Date(now.getTime() - 60_000)))
      .update({ last_viewed_at: now });
  }

  async findSecret(organizationId: string): Promise<SharingSecretRow | undefined> {
    return this.db<SharingSecretRow>('organization_sharing_secrets').where({ organization_id: organizationId }).first();
  }

  /** Creates the organization's secret unless one exists (concurrent first reads agree on one). */
  async insertSecretIfMissing(organizationId: string, sealed: string): Promise<SharingSecretRow> {
    await this.db('organization_sharing_secrets').insert({ organization_id: organizationId, secret_sealed: sealed }).onConflict('organization_id').ignore();
    return (await this.findSecret(organizationId))!;
  }

  /** Replaces the secret (creating it if missing) and bumps its version. */
  async rotateSecret(organizationId: string, sealed: string, now: Date): Promise<SharingSecretRow> {
    const [row] = await this.db('organization_sharing_secrets')
      .insert({ organization_id: organizationId, secret_sealed: sealed })
      .onConflict('organization_id')
      .merge({ secret_sealed: sealed, version: this.db.raw('organization_sharing_secrets.version + 1'), updated_at: now })
      .returning('*');
    return row as SharingSecretRow;
  }
}
