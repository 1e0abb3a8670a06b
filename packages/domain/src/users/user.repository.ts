import type { Knex } from 'knex';
import { NotFoundError } from '../errors.js';
import { userFields } from './user.fields.js';
import type { InvitationRow, NewUser, UserPatch, UserRecord, UserRow } from './user.types.js';

function toUserRecord(row: UserRow): UserRecord {
  const { passwordHash, ...user } = userFields.fromRow(row);
  void passwordHash; // the hash never leaves the repository
  return user;
}

/** SQL for `users`. Every method is scoped to one organization. */
export class UserRepository {
  constructor(private readonly db: Knex) {}

  async list(organizationId: string): Promise<UserRecord[]> {
    const rows = await this.db<UserRow>('users').where({ organization_id: organizationId }).orderBy('created_at').orderBy('id');
    return rows.map(toUserRecord);
  }

  /** The users of `ids` that exist in the organization (any order). */
  async listByIds(organizationId: string, ids: readonly string[]): Promise<UserRecord[]> {
    if (!ids.length) return [];
    const rows = await this.db<UserRow>('users')
      .where({ organization_id: organizationId })
      .whereIn('id', [...ids])
      .orderBy('created_at')
      .orderBy('id');
    return rows.map(toUserRecord);
  }

  async find(organizationId: string, id: string): Promise<UserRecord | undefined> {
    const row = await this.db<UserRow>('users').where({ organization_id: organizationId, id }).first();
    return row ? toUserRecord(row) : undefined;
  }

  /** @throws NotFoundError */
  async get(organizationId: string, id: string): Promise<UserRecord> {
    const user = await this.find(organizationId, id);
    if (!user) throw new NotFoundError(`User ${id} not found`, { code: 'user_not_found' });
    return user;
  }

  /** Locks the user's row until the end of the transaction (state transitions). */
  async getForUpdate(organizationId: string, id: string): Promise<UserRecord> {
    const row = await this.db<UserRow>('users').where({ organization_id: organizationId, id }).forUpdate().first();
    if (!row) throw new NotFoundError(`User ${id} not found`, { code: 'user_not_found' });
    return toUserRecord(row);
  }

  async findByEmail(organizationId: string, email: string): Promise<UserRecord | undefined> {
    const row = await this.db<UserRow>('users').where({ organization_id: organizationId }).whereRaw('lower(email) = lower(?)', [email]).first();
    return row ? toUserRecord(row) : undefined;
  }

  async insert(user: NewUser): Promise<UserRecord> {
    const [inserted] = await this.db('users').insert(userFields.toColumns(user)).returning('*');
    return toUserRecord(inserted as UserRow);
  }

  async update(organizationId: string, id: string, patch: UserPatch): Promise<UserRecord> {
    const [row] = await this.db('users')
      .where({ organization_id: organizationId, id })
      .update({ ...userFields.toColumns(patch), updated_at: this.db.fn.now() })
      .returning('*');
    if (!row) throw new NotFoundError(`User ${id} not found`, { code: 'user_not_found' });
    return toUserRecord(row as UserRow);
  }

  async delete(organizationId: string, id: string): Promise<boolean> {
    return (await this.db('users').where({ organization_id: organizationId, id }).delete()) > 0;
  }

  /** Users holding an analyst seat: not deactivated, role analyst or admin. */
  async countSeatHolders(organizationId: string): Promise<number> {
    const [row] = await this.db('users')
      .where({ organization_id: organizationId })
      .whereNull('deactivated_at')
      .whereIn('role', ['analyst', 'admin'])
      .count<{ count: string }[]>('* as count');
    return Number(row?.count ?? 0);
  }
}

/** SQL for `invitations` (only token hashes are stored). */
export class InvitationRepository {
  constructor(private readonly db: Knex) {}

  async insert(row: Pick<InvitationRow, 'id' | 'organization_id' | 'user_id' | 'token_hash' | 'expires_at'>): Promise<InvitationRow> {
    const [inserted] = await this.db<InvitationRow>('invitations').insert(row).returning('*');
    return inserted as InvitationRow;
  }

  /** Any organization: the token names the invitation. `lock` holds the row until the transaction ends. */
  async findByTokenHash(tokenHash: string, lock = false): Promise<InvitationRow | undefined> {
    const q = this.db<InvitationRow>('invitations').where({ token_hash: tokenHash });
    if (lock) q.forUpdate();
    return q.first();
  }

  /** Revokes every open invitation of a user (a resend replaces them). */
  async revokeOpen(organizationId: string, userId: string, at: Date): Promise<number> {
    return this.db('invitations')
      .where({ organization_id: organizationId, user_id: userId })
      .whereNull('used_at')
      .whereNull('revoked_at')
      .update({ revoked_at: at, updated_at: at });
  }

  /**
   * Marks an invitation used if it still is open and unexpired at `at`.
   * @returns false when it was used, revoked or expired meanwhile
   */
  async markUsed(id: string, at: Date): Promise<boolean> {
    const count = await this.db('invitations')
      .where({ id })
      .whereNull('used_at')
      .whereNull('revoked_at')
      .where('expires_at', '>', at)
      .update({ used_at: at, updated_at: at });
    return count > 0;
  }
}
