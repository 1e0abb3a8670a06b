import type { Knex } from 'knex';
import { NotFoundError } from '../errors.js';
import type { InvitationRow, User, UserRow } from './user.types.js';

/** A user as stored, before group memberships are attached. */
export type UserRecord = Omit<User, 'userGroupIds'>;

function toUserRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    organizationId: row.organization_id,
    email: row.email,
    firstname: row.firstname,
    lastname: row.lastname,
    role: row.role,
    otpAppEnabled: row.otp_app_enabled,
    otpPhoneEnabled: row.otp_phone_enabled,
    deactivatedAt: row.deactivated_at,
    invitedByUserId: row.invited_by_user_id,
    invitationCreatedAt: row.invitation_created_at,
    invitationAcceptedAt: row.invitation_accepted_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export type UserPatch = Partial<Pick<UserRow, 'role' | 'firstname' | 'lastname' | 'password_hash' | 'deactivated_at' | 'invitation_created_at' | 'invitation_accepted_at'>>;

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
    const rows = await this.db<UserRow>('users').where({ organization_id: organizationId }).whereIn('id', [...ids]).orderBy('created_at').orderBy('id');
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

  async insert(row: Pick<UserRow, 'id' | 'organization_id' | 'email' | 'role' | 'invited_by_user_id' | 'invitation_created_at'>): Promise<UserRecord> {
    const [inserted] = await this.db<UserRow>('users').insert(row).returning('*');
    return toUserRecord(inserted as UserRow);
  }

  async update(organizationId: string, id: string, patch: UserPatch): Promise<UserRecord> {
    const [row] = await this.db('users')
      .where({ organization_id: organizationId, id })
      .update({ ...patch, updated_at: this.db.fn.now() })
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
