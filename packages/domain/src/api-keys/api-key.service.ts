import type { Knex } from 'knex';
import { hashSecret, newApiKeySecret } from '../crypto/secrets.js';
import { lock, withTransaction } from '../db/db.js';
import { UnauthenticatedError, ValidationError } from '../errors.js';
import { newId } from '../ids.js';
import { apiKeyFields } from './api-key.fields.js';
import { ApiKeyRepository } from './api-key.repository.js';
import type { AuthFailureLimiter } from './auth-failure-limiter.js';
import type { ApiKey, ApiKeyWithSecret, CreateApiKeyInput, UpdateApiKeyInput } from './api-key.types.js';
import { PERMISSIONS, Principal, type PermissionGrant } from './permissions.js';

/** Every permission, unscoped: what an organization's first (admin) key holds. */
export const ALL_PERMISSIONS: PermissionGrant[] = PERMISSIONS.map((permission) => ({ permission, datasourceIds: null }));

/** `last_used_at` is written at most once a minute per key and process (no write on the hot path). */
const TOUCH_INTERVAL_MS = 60_000;
const lastTouched = new Map<string, number>();

const AUTH_SCHEME = /^Api[ ]+([\x21-\x7e]{1,512})$/;

/**
 * How long this process reuses a key it looked up (ms). Changes made through this process apply at
 * once (they clear the cache); a key disabled or deleted through another process still works here
 * for at most this long. Requests arriving while the same key is being looked up share the lookup.
 */
const KEY_CACHE_TTL_MS = 2_000;
/** Most keys remembered at once (the cache starts over when full). */
const KEY_CACHE_MAX = 10_000;

export interface ApiKeyServiceDeps {
  db: Knex;
  /** Checks that datasource ids exist in the organization; returns the unknown ones. */
  findUnknownDatasourceIds?: (db: Knex, organizationId: string, ids: string[]) => Promise<string[]>;
  /** Counts failed authentications and refuses (429) clients and keys over the limit. */
  failureLimiter?: AuthFailureLimiter;
}

/** Where a request comes from (for the failed-authentication limit). */
export interface AuthenticationSource {
  /** The client's address (the socket's, or the proxy's `X-Forwarded-For` when the proxy is trusted). */
  clientAddress?: string;
}

/** API keys: authentication of requests and management of keys. */
export class ApiKeyService {
  /** Known keys by secret hash: the lookup (in flight or done) and when it stops being reused. */
  private readonly known = new Map<string, { key: Promise<ApiKey | undefined>; expiresAt: number }>();
  /** Bumped by every change to keys, so a lookup that started before it is not kept. */
  private generation = 0;

  constructor(private readonly deps: ApiKeyServiceDeps) {}

  /**
   * Runs a change to keys; cached keys are forgotten before it starts and again when it ended (a
   * lookup in between may have read the old row).
   */
  private async changingKeys<T>(change: () => Promise<T>): Promise<T> {
    this.forgetKeys();
    try {
      return await change();
    } finally {
      this.forgetKeys();
    }
  }

  private forgetKeys(): void {
    this.generation++;
    this.known.clear();
  }

  /** The key with this secret hash, from a lookup of the last `KEY_CACHE_TTL_MS` or a new one. */
  private lookUp(secretHash: string): Promise<ApiKey | undefined> {
    const now = Date.now();
    const hit = this.known.get(secretHash);
    if (hit && hit.expiresAt > now) return hit.key;
    if (this.known.size >= KEY_CACHE_MAX) this.known.clear();
    const generation = this.generation;
    const key = new ApiKeyRepository(this.deps.db).findBySecretHash(secretHash);
    const entry = { key, expiresAt: now + KEY_CACHE_TTL_MS };
    this.known.set(secretHash, entry);
    const drop = () => {
      if (this.known.get(secretHash) === entry) this.known.delete(secretHash);
    };
    // unknown secrets and failed lookups are not remembered; nor a lookup older than a change
    key.then((found) => {
      if (!found || generation !== this.generation) drop();
    }, drop);
    return key;
  }

  /**
   * Resolves an `Authorization` header to the calling key. A failure is counted per client address
   * and key prefix; a valid key is never slowed or refused by the limit.
   * @throws UnauthenticatedError for a missing or malformed header, an unknown secret, or a disabled key;
   *   RateLimitedError (429) instead when the client or the key prefix failed too often in the window
   */
  async authenticate(authorization: string | undefined, source: AuthenticationSource = {}): Promise<Principal> {
    try {
      return await this.resolve(authorization);
    } catch (err) {
      if (err instanceof UnauthenticatedError && this.deps.failureLimiter) {
        const secret = authorization ? AUTH_SCHEME.exec(authorization.trim())?.[1] : undefined;
        await this.deps.failureLimiter.recordFailure({ clientAddress: source.clientAddress, secret });
      }
      throw err;
    }
  }

  private async resolve(authorization: string | undefined): Promise<Principal> {
    if (!authorization)
      throw new UnauthenticatedError('Missing Authorization header; send "Authorization: Api <secret>"', { source: { header: 'Authorization' } });
    const match = AUTH_SCHEME.exec(authorization.trim());
    if (!match) throw new UnauthenticatedError('Malformed Authorization header; expected "Api <secret>"', { source: { header: 'Authorization' } });
    const key = await this.lookUp(hashSecret(match[1]!));
    if (!key) throw new UnauthenticatedError('Unknown API key', { source: { header: 'Authorization' } });
    if (!key.enabled) throw new UnauthenticatedError('The API key is disabled', { source: { header: 'Authorization' } });
    const now = Date.now();
    if ((lastTouched.get(key.id) ?? 0) < now - TOUCH_INTERVAL_MS) {
      lastTouched.set(key.id, now);
      new ApiKeyRepository(this.deps.db).touch(key.id).catch(() => {});
    }
    return new Principal(key.organizationId, key.id, key.permissions);
  }

  private async checkDatasourceIds(db: Knex, organizationId: string, permissions: PermissionGrant[]): Promise<void> {
    const ids = [...new Set(permissions.flatMap((g) => g.datasourceIds ?? []))];
    if (!ids.length) return;
    const unknown = this.deps.findUnknownDatasourceIds ? await this.deps.findUnknownDatasourceIds(db, organizationId, ids) : ids;
    if (unknown.length) {
      throw new ValidationError(`Unknown datasource ids in permissions: ${unknown.join(', ')}`, { source: { pointer: '/data/attributes/permissions' } });
    }
  }

  /** Creates a key; the secret is in the result and nowhere else, ever. */
  async create(organizationId: string, input: CreateApiKeyInput): Promise<ApiKeyWithSecret> {
    const { secret: given, ...rest } = input;
    const secret = given ?? newApiKeySecret();
    const { permissions, ...fields } = apiKeyFields.prepareCreate(rest);
    return withTransaction(this.deps.db, async (trx) => {
      await this.checkDatasourceIds(trx, organizationId, permissions);
      const key = await new ApiKeyRepository(trx).insert(
        { ...fields, id: newId(), organizationId, secretHash: hashSecret(secret), secretHint: secret.slice(-4) },
        permissions,
      );
      return { ...key, secret };
    });
  }

  list(organizationId: string): Promise<ApiKey[]> {
    return new ApiKeyRepository(this.deps.db).list(organizationId);
  }

  /** @throws NotFoundError */
  get(organizationId: string, id: string): Promise<ApiKey> {
    return new ApiKeyRepository(this.deps.db).get(organizationId, id);
  }

  /**
   * Updates name, enabled flag and permissions.
   * @throws NotFoundError; ValidationError when the change would leave the organization without an
   *   enabled key that can manage keys
   */
  async update(organizationId: string, id: string, input: UpdateApiKeyInput): Promise<ApiKey> {
    return this.changingKeys(() =>
      withTransaction(this.deps.db, async (trx) => {
        const repo = new ApiKeyRepository(trx);
        const current = await repo.get(organizationId, id);
        // Serialise concurrent changes to one organization's keys (lock-out check below).
        await lock(trx, `api_keys:${organizationId}`);
        const losesManage =
          (input.enabled === false || (input.permissions && !input.permissions.some((g) => g.permission === 'Manage API Keys'))) &&
          current.permissions.some((g) => g.permission === 'Manage API Keys') &&
          current.enabled;
        if (losesManage && (await repo.countWithPermission(organizationId, 'Manage API Keys', id)) === 0) {
          throw new ValidationError('This is the last enabled key with "Manage API Keys"; keep it or create another first', { code: 'last_admin_key' });
        }
        if (input.permissions) {
          await this.checkDatasourceIds(trx, organizationId, input.permissions);
          await repo.replacePermissions(id, input.permissions);
        }
        const { permissions: _replaced, ...patch } = apiKeyFields.prepareUpdate(input, current);
        await repo.update(organizationId, id, patch);
        return repo.get(organizationId, id);
      }),
    );
  }

  /**
   * Deletes a key.
   * @throws NotFoundError; ValidationError for the last enabled key that can manage keys
   */
  async delete(organizationId: string, id: string): Promise<void> {
    await this.changingKeys(() =>
      withTransaction(this.deps.db, async (trx) => {
        const repo = new ApiKeyRepository(trx);
        const current = await repo.get(organizationId, id);
        await lock(trx, `api_keys:${organizationId}`);
        if (
          current.enabled &&
          current.permissions.some((g) => g.permission === 'Manage API Keys') &&
          (await repo.countWithPermission(organizationId, 'Manage API Keys', id)) === 0
        ) {
          throw new ValidationError('This is the last enabled key with "Manage API Keys"; create another first', { code: 'last_admin_key' });
        }
        await repo.delete(organizationId, id);
      }),
    );
  }

  /**
   * Makes sure a key with `secret` exists: when none does, the oldest key named "Admin" of the
   * organization takes this secret (or a new admin key is created).
   * @returns true when something changed
   */
  async ensureSecret(organizationId: string, secret: string): Promise<boolean> {
    return this.changingKeys(() => this.replaceSecret(organizationId, secret));
  }

  private async replaceSecret(organizationId: string, secret: string): Promise<boolean> {
    const repo = new ApiKeyRepository(this.deps.db);
    const existing = await repo.findBySecretHash(hashSecret(secret));
    if (existing) {
      if (existing.organizationId !== organizationId) throw new ValidationError("SIGHTLINE_ADMIN_API_KEY is already the secret of another organization's key");
      return false;
    }
    const admin = (await repo.list(organizationId)).find((k) => k.name === 'Admin');
    if (admin) {
      await repo.update(organizationId, admin.id, { secretHash: hashSecret(secret), secretHint: secret.slice(-4), enabled: true });
    } else {
      await this.create(organizationId, { name: 'Admin', permissions: ALL_PERMISSIONS, secret });
    }
    return true;
  }
}
