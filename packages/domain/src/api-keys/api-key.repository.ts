import type { Knex } from 'knex';
import { NotFoundError } from '../errors.js';
import { apiKeyFields } from './api-key.fields.js';
import type { ApiKey, ApiKeyPatch, ApiKeyRow, NewApiKey } from './api-key.types.js';
import type { Permission, PermissionGrant } from './permissions.js';

interface PermissionRow {
  api_key_id: string;
  permission: Permission;
  datasource_id: string | null;
}

function groupGrants(rows: PermissionRow[]): Map<string, PermissionGrant[]> {
  const byKey = new Map<string, Map<Permission, PermissionGrant>>();
  for (const r of rows) {
    let perms = byKey.get(r.api_key_id);
    if (!perms) byKey.set(r.api_key_id, (perms = new Map()));
    let grant = perms.get(r.permission);
    if (!grant) perms.set(r.permission, (grant = { permission: r.permission, datasourceIds: [] }));
    if (r.datasource_id === null) grant.datasourceIds = null;
    else if (grant.datasourceIds !== null) grant.datasourceIds.push(r.datasource_id);
  }
  const out = new Map<string, PermissionGrant[]>();
  for (const [id, perms] of byKey)
    out.set(
      id,
      [...perms.values()].map((g) => ({ ...g, datasourceIds: g.datasourceIds?.sort() ?? null })),
    );
  return out;
}

function toApiKey(row: ApiKeyRow, permissions: PermissionGrant[]): ApiKey {
  return { ...apiKeyFields.fromRow(row), permissions };
}

/** SQL for `api_keys` and `api_key_permissions`. Every method is scoped to one organization. */
export class ApiKeyRepository {
  constructor(private readonly db: Knex) {}

  private async withPermissions(rows: ApiKeyRow[]): Promise<ApiKey[]> {
    if (!rows.length) return [];
    const perms = await this.db<PermissionRow>('api_key_permissions')
      .whereIn(
        'api_key_id',
        rows.map((r) => r.id),
      )
      .orderBy(['permission', 'datasource_id']);
    const grouped = groupGrants(perms);
    return rows.map((r) => toApiKey(r, grouped.get(r.id) ?? []));
  }

  /** Inserts the key and its permissions. */
  async insert(record: NewApiKey, permissions: PermissionGrant[]): Promise<ApiKey> {
    const [inserted] = await this.db('api_keys').insert(apiKeyFields.toColumns(record)).returning('*');
    await this.replacePermissions(record.id, permissions);
    const [key] = await this.withPermissions([inserted as ApiKeyRow]);
    return key!;
  }

  async replacePermissions(apiKeyId: string, permissions: PermissionGrant[]): Promise<void> {
    await this.db('api_key_permissions').where({ api_key_id: apiKeyId }).delete();
    const rows: PermissionRow[] = permissions.flatMap((g): PermissionRow[] =>
      g.datasourceIds === null
        ? [{ api_key_id: apiKeyId, permission: g.permission, datasource_id: null }]
        : [...new Set(g.datasourceIds)].map((d) => ({ api_key_id: apiKeyId, permission: g.permission, datasource_id: d })),
    );
    if (rows.length) await this.db('api_key_permissions').insert(rows);
  }

  async list(organizationId: string): Promise<ApiKey[]> {
    const rows = await this.db<ApiKeyRow>('api_keys').where({ organization_id: organizationId }).orderBy('created_at').orderBy('id');
    return this.withPermissions(rows);
  }

  async find(organizationId: string, id: string): Promise<ApiKey | undefined> {
    const row = await this.db<ApiKeyRow>('api_keys').where({ organization_id: organizationId, id }).first();
    if (!row) return undefined;
    return (await this.withPermissions([row]))[0];
  }

  /** @throws NotFoundError */
  async get(organizationId: string, id: string): Promise<ApiKey> {
    const key = await this.find(organizationId, id);
    if (!key) throw new NotFoundError(`API key ${id} not found`);
    return key;
  }

  /**
   * Looks a key up by the hash of its secret (any organization: the secret names it), with its
   * permissions, in one query: this runs on every API request.
   */
  async findBySecretHash(secretHash: string): Promise<ApiKey | undefined> {
    const { rows } = await this.db.raw(
      `SELECT k.*, coalesce(json_agg(json_build_object('api_key_id', p.api_key_id, 'permission', p.permission, 'datasource_id', p.datasource_id))
                FILTER (WHERE p.id IS NOT NULL), '[]') AS permission_rows
         FROM api_keys k LEFT JOIN api_key_permissions p ON p.api_key_id = k.id
        WHERE k.secret_hash = ? GROUP BY k.id`,
      [secretHash],
    );
    const row = rows[0] as (ApiKeyRow & { permission_rows: PermissionRow[] }) | undefined;
    if (!row) return undefined;
    return toApiKey(row, groupGrants(row.permission_rows).get(row.id) ?? []);
  }

  /** Updates the row (permissions are written by `replacePermissions`). */
  async update(organizationId: string, id: string, patch: ApiKeyPatch): Promise<boolean> {
    const count = await this.db('api_keys')
      .where({ organization_id: organizationId, id })
      .update({ ...apiKeyFields.toColumns(patch), updated_at: this.db.fn.now() });
    return count > 0;
  }

  async delete(organizationId: string, id: string): Promise<boolean> {
    return (await this.db('api_keys').where({ organization_id: organizationId, id }).delete()) > 0;
  }

  /** Records use at most once a minute per key (keeps the hot path free of writes). */
  async touch(id: string): Promise<void> {
    await this.db('api_keys')
      .where({ id })
      .andWhere((q) => q.whereNull('last_used_at').orWhere('last_used_at', '<', this.db.raw("now() - interval '1 minute'")))
      .update({ last_used_at: this.db.fn.now() });
  }

  /** Keys of the organization holding the given permission unscoped (to keep one admin key). */
  async countWithPermission(organizationId: string, permission: Permission, exceptKeyId?: string): Promise<number> {
    const q = this.db('api_keys as k')
      .join('api_key_permissions as p', 'p.api_key_id', 'k.id')
      .where({ 'k.organization_id': organizationId, 'k.enabled': true, 'p.permission': permission })
      .countDistinct<{ count: string }[]>('k.id as count');
    if (exceptKeyId) q.whereNot('k.id', exceptKeyId);
    const [row] = await q;
    return Number(row?.count ?? 0);
  }
}
