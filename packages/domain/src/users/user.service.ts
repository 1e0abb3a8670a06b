import type { Knex } from 'knex';
import { systemClock, type Clock } from '../clock.js';
import { hashSecret, randomSecret } from '../crypto/secrets.js';
import { lock, withTransaction } from '../db/db.js';
import { AppError, ConflictError, NotFoundError, UnavailableError, ValidationError } from '../errors.js';
import { isResourceId, newId } from '../ids.js';
import type { MailService } from '../mail/mail.service.js';
import { OrganizationRepository } from '../organizations/organization.repository.js';
import { attachUserGroups, customGroupIdsFor } from '../user-groups/user-group.memberships.js';
import { UserGroupRepository } from '../user-groups/user-group.repository.js';
import { invitationMail } from './invitation.mail.js';
import { hashPassword } from './password.js';
import { InvitationRepository, UserRepository } from './user.repository.js';
import type { UserRecord } from './user.types.js';
import {
  takesAnalystSeat,
  type AcceptInvitationInput,
  type InvitationRow,
  type InviteUserInput,
  type UpdateUserInput,
  type User,
  type UserRole,
} from './user.types.js';

/** Default lifetime of an invitation link: 7 days. */
export const DEFAULT_INVITATION_TTL_HOURS = 7 * 24;

/** 410: an invitation link that was valid once (used, replaced by a resend, or expired). */
export class InvitationGoneError extends AppError {
  constructor(code: 'invitation_used' | 'invitation_replaced' | 'invitation_expired', detail: string) {
    super(410, code, 'Gone', { detail });
  }
}

export interface UserServiceDeps {
  db: Knex;
  mail: MailService;
  /** Public base URL of the API server; invitation links are `<apiBaseUrl>/invitations/<token>/accept`. */
  apiBaseUrl: string;
  invitationTtlHours?: number;
  clock?: Clock;
}

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '23505';
}

/** Users: listing, role and group changes, (de)activation, invitations and their acceptance. */
export class UserService {
  private readonly clock: Clock;

  constructor(private readonly deps: UserServiceDeps) {
    this.clock = deps.clock ?? systemClock;
  }

  /** The accept link of an invitation token. */
  acceptUrl(token: string): string {
    return `${this.deps.apiBaseUrl.replace(/\/+$/, '')}/invitations/${token}/accept`;
  }

  async list(organizationId: string): Promise<User[]> {
    return attachUserGroups(this.deps.db, organizationId, await new UserRepository(this.deps.db).list(organizationId));
  }

  /** The users of `ids` that exist in the organization. */
  async listByIds(organizationId: string, ids: readonly string[]): Promise<User[]> {
    return attachUserGroups(this.deps.db, organizationId, await new UserRepository(this.deps.db).listByIds(organizationId, ids.filter(isResourceId)));
  }

  /** @throws NotFoundError */
  async get(organizationId: string, id: string): Promise<User> {
    return this.load(this.deps.db, organizationId, id);
  }

  private async load(db: Knex, organizationId: string, id: string): Promise<User> {
    if (!isResourceId(id)) throw new NotFoundError(`User ${id} not found`, { code: 'user_not_found' });
    const [user] = await attachUserGroups(db, organizationId, [await new UserRepository(db).get(organizationId, id)]);
    return user!;
  }

  private async lockedUser(trx: Knex.Transaction, organizationId: string, id: string): Promise<UserRecord> {
    if (!isResourceId(id)) throw new NotFoundError(`User ${id} not found`, { code: 'user_not_found' });
    return new UserRepository(trx).getForUpdate(organizationId, id);
  }

  /**
   * Checks that one more user can take an analyst seat (organization setting `analyst_seats`, null =
   * unlimited). Serialises seat changes of the organization until the transaction ends.
   * @throws ValidationError (422, `no_analyst_seat`)
   */
  private async requireFreeSeat(trx: Knex.Transaction, organizationId: string, what: string): Promise<void> {
    await lock(trx, `analyst_seats:${organizationId}`);
    const organization = await new OrganizationRepository(trx).get(organizationId);
    if (organization.analystSeats === null) return;
    const used = await new UserRepository(trx).countSeatHolders(organizationId);
    if (used >= organization.analystSeats) {
      throw new ValidationError(`${what}: all ${organization.analystSeats} analyst seat(s) of the organization are taken`, { code: 'no_analyst_seat' });
    }
  }

  private rejectAdmin(user: UserRecord, action: string): void {
    if (user.role === 'admin') throw new ValidationError(`Admin users cannot be ${action} through the API`, { code: 'admin_user' });
  }

  /**
   * Changes the role (viewer/analyst) and/or replaces the custom group memberships.
   * @throws NotFoundError; ValidationError (422) for admin users or when no analyst seat is free;
   *   NotFoundError (404) for unknown group ids
   */
  async update(organizationId: string, id: string, input: UpdateUserInput): Promise<User> {
    return withTransaction(this.deps.db, (trx) => this.updateIn(trx, organizationId, id, input));
  }

  private async updateIn(trx: Knex.Transaction, organizationId: string, id: string, input: UpdateUserInput): Promise<User> {
    const user = await this.lockedUser(trx, organizationId, id);
    this.rejectAdmin(user, 'updated');
    if (input.role === 'admin')
      throw new ValidationError('must be "analyst" or "viewer" (admins cannot be assigned through the API)', { source: { pointer: '/data/attributes/role' } });
    const role = input.role ?? user.role;
    if (input.userGroupIds) {
      const custom = await customGroupIdsFor(
        trx,
        organizationId,
        input.userGroupIds,
        { role, deactivatedAt: user.deactivatedAt },
        '/data/relationships/user_groups/data',
      );
      await new UserGroupRepository(trx).replaceGroupsOfUser(organizationId, id, custom);
    }
    if (role !== user.role) {
      if (takesAnalystSeat(role) && !user.deactivatedAt) await this.requireFreeSeat(trx, organizationId, 'The user cannot become an analyst');
      await new UserRepository(trx).update(organizationId, id, { role });
    }
    return this.load(trx, organizationId, id);
  }

  /**
   * Deactivates a user (blocks login; frees the analyst seat). Deactivating a deactivated user is a no-op.
   * @throws NotFoundError; ValidationError (422) for admin users
   */
  async deactivate(organizationId: string, id: string): Promise<void> {
    await withTransaction(this.deps.db, async (trx) => {
      const user = await this.lockedUser(trx, organizationId, id);
      this.rejectAdmin(user, 'deactivated');
      if (!user.deactivatedAt) await new UserRepository(trx).update(organizationId, id, { deactivatedAt: this.clock.now() });
    });
  }

  /**
   * Re-activates a user, optionally with a new role. Admins can only be re-activated as viewer or
   * analyst; a user ends up as analyst only if an analyst seat is free. Activating an active user
   * without a role is a no-op.
   * @throws NotFoundError; ValidationError (422) for an admin without `role`, an active admin, or no free seat
   */
  async activate(organizationId: string, id: string, role?: 'viewer' | 'analyst'): Promise<void> {
    await withTransaction(this.deps.db, async (trx) => {
      const user = await this.lockedUser(trx, organizationId, id);
      const repo = new UserRepository(trx);
      if (!user.deactivatedAt) {
        if (role === undefined || role === user.role) return;
        // An active user's role changes through Update User, with the same rules.
        await this.updateIn(trx, organizationId, id, { role });
        return;
      }
      if (user.role === 'admin' && role === undefined) {
        throw new ValidationError('Admin users can only be re-activated through the API as viewer or analyst: pass "role"', {
          code: 'admin_user',
          source: { pointer: '/role' },
        });
      }
      const newRole: UserRole = role ?? user.role;
      if (takesAnalystSeat(newRole))
        await this.requireFreeSeat(trx, organizationId, 'The user cannot be re-activated as analyst; pass "role": "viewer" or free a seat');
      await repo.update(organizationId, id, { deactivatedAt: null, role: newRole });
    });
  }

  private async issueInvitation(trx: Knex.Transaction, organizationId: string, user: UserRecord): Promise<void> {
    if (!this.deps.mail.canSend) throw new UnavailableError('Outgoing mail is not available in this process (no job queue); invitations cannot be sent');
    const now = this.clock.now();
    const token = randomSecret(32);
    const expiresAt = new Date(now.getTime() + (this.deps.invitationTtlHours ?? DEFAULT_INVITATION_TTL_HOURS) * 3_600_000);
    await new InvitationRepository(trx).insert({
      id: newId(),
      organization_id: organizationId,
      user_id: user.id,
      token_hash: hashSecret(token),
      expires_at: expiresAt,
    });
    const organization = await new OrganizationRepository(trx).get(organizationId);
    await this.deps.mail.enqueue(
      trx,
      'invitation',
      invitationMail({ email: user.email, organizationName: organization.name, acceptUrl: this.acceptUrl(token), expiresAt }),
      organizationId,
    );
  }

  /**
   * Creates a pending user and enqueues the invitation e-mail (same transaction: the mail is sent
   * exactly when the user exists).
   * @throws ConflictError (409) when the e-mail is already a user of the organization; NotFoundError
   *   (404) for unknown group ids; ValidationError (422) when no analyst seat is free; UnavailableError
   *   (503) without a job queue
   */
  async invite(organizationId: string, input: InviteUserInput): Promise<User> {
    const role = input.role ?? 'viewer';
    const email = input.email.trim();
    const conflict = () =>
      new ConflictError(`A user with the e-mail address ${email} already exists in this organization`, { code: 'email_taken', source: { pointer: '/email' } });
    try {
      return await withTransaction(this.deps.db, async (trx) => {
        if (!this.deps.mail.canSend) throw new UnavailableError('Outgoing mail is not available in this process (no job queue); invitations cannot be sent');
        const repo = new UserRepository(trx);
        if (await repo.findByEmail(organizationId, email)) throw conflict();
        const custom = await customGroupIdsFor(trx, organizationId, input.userGroupIds ?? [], { role, deactivatedAt: null }, '/user_group_ids');
        if (input.invitedByUserId !== undefined) await repo.get(organizationId, input.invitedByUserId);
        if (takesAnalystSeat(role)) await this.requireFreeSeat(trx, organizationId, `The user cannot be invited as ${role}`);
        const user = await repo.insert({
          id: newId(),
          organizationId,
          email,
          role,
          invitedByUserId: input.invitedByUserId ?? null,
          invitationCreatedAt: this.clock.now(),
        });
        if (custom.length) await new UserGroupRepository(trx).replaceGroupsOfUser(organizationId, user.id, custom);
        await this.issueInvitation(trx, organizationId, user);
        return this.load(trx, organizationId, user.id);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict();
      throw err;
    }
  }

  private requirePending(user: UserRecord): void {
    if (user.invitationAcceptedAt) throw new ValidationError('The invitation of this user was already accepted', { code: 'invitation_accepted' });
    if (!user.invitationCreatedAt) throw new ValidationError('This user has no pending invitation', { code: 'no_invitation' });
  }

  /**
   * Sends a new invitation link; earlier links of the user stop working.
   * @throws NotFoundError; ValidationError (422) when the invitation was already accepted
   */
  async resendInvite(organizationId: string, id: string): Promise<void> {
    await withTransaction(this.deps.db, async (trx) => {
      const user = await this.lockedUser(trx, organizationId, id);
      this.requirePending(user);
      const now = this.clock.now();
      await new InvitationRepository(trx).revokeOpen(organizationId, id, now);
      const updated = await new UserRepository(trx).update(organizationId, id, { invitationCreatedAt: now });
      await this.issueInvitation(trx, organizationId, updated);
    });
  }

  /**
   * Deletes a pending invitation together with the pending user account it created.
   * @throws NotFoundError; ValidationError (422) when the invitation was already accepted
   */
  async deleteInvite(organizationId: string, id: string): Promise<void> {
    await withTransaction(this.deps.db, async (trx) => {
      const user = await this.lockedUser(trx, organizationId, id);
      this.requirePending(user);
      await new UserRepository(trx).delete(organizationId, id);
    });
  }

  /**
   * Accepts an invitation: sets name and password, and the user becomes active. Works once per token.
   * @throws NotFoundError (404) for an unknown token; InvitationGoneError (410) for a used, replaced or
   *   expired one; ValidationError (422) when the user was deactivated meanwhile
   */
  private async openInvitation(db: Knex, token: string, lock: boolean): Promise<InvitationRow> {
    const unknown = () => new NotFoundError('This invitation link is not valid: check that it was copied completely', { code: 'invitation_not_found' });
    if (!TOKEN_SHAPE.test(token)) throw unknown();
    const invitation = await new InvitationRepository(db).findByTokenHash(hashSecret(token), lock);
    if (!invitation) throw unknown();
    if (invitation.used_at) throw new InvitationGoneError('invitation_used', 'This invitation was already accepted; the link works only once');
    if (invitation.revoked_at)
      throw new InvitationGoneError('invitation_replaced', 'A newer invitation replaced this one; use the link from the latest e-mail');
    if (invitation.expires_at.getTime() <= this.clock.now().getTime())
      throw new InvitationGoneError('invitation_expired', 'This invitation has expired; ask an administrator to resend it');
    return invitation;
  }

  /**
   * What an open invitation is for (shown when someone opens the link with GET).
   * @throws NotFoundError (404) for an unknown token; InvitationGoneError (410) for a used, replaced or expired one
   */
  async describeInvitation(token: string): Promise<{ email: string; organizationName: string; expiresAt: Date }> {
    const invitation = await this.openInvitation(this.deps.db, token, false);
    const user = await new UserRepository(this.deps.db).get(invitation.organization_id, invitation.user_id);
    const organization = await new OrganizationRepository(this.deps.db).get(invitation.organization_id);
    return { email: user.email, organizationName: organization.name, expiresAt: invitation.expires_at };
  }

  async acceptInvitation(token: string, input: AcceptInvitationInput): Promise<User> {
    // Reject bad tokens before spending tens of milliseconds on scrypt; hash outside the transaction.
    await this.openInvitation(this.deps.db, token, false);
    const passwordHash = await hashPassword(input.password);
    return withTransaction(this.deps.db, async (trx) => {
      const invitations = new InvitationRepository(trx);
      const invitation = await this.openInvitation(trx, token, true);
      const now = this.clock.now();
      const user = await new UserRepository(trx).getForUpdate(invitation.organization_id, invitation.user_id);
      if (user.deactivatedAt)
        throw new ValidationError('This user account is deactivated; ask an administrator to activate it first', { code: 'user_deactivated' });
      if (!(await invitations.markUsed(invitation.id, now)))
        throw new InvitationGoneError('invitation_used', 'This invitation was already accepted; the link works only once');
      await new UserRepository(trx).update(invitation.organization_id, user.id, {
        firstname: input.firstname,
        lastname: input.lastname,
        passwordHash,
        invitationAcceptedAt: now,
      });
      return this.load(trx, invitation.organization_id, user.id);
    });
  }
}
