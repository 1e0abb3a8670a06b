import type { NewRecordOf, PatchOf, RecordOf, RowOf, UpdateInputOf } from '../fields/index.js';
import type { userFields } from './user.fields.js';

/** Roles of a user. Admins exist (invite may create them) but the API cannot promote to or change them. */
export const USER_ROLES = ['viewer', 'analyst', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** A user of an organization. Users come from invitations; there is no create or delete. Fields: `userFields` (without the password hash). */
export interface User extends Omit<RecordOf<typeof userFields>, 'passwordHash'> {
  // restated so that messages and hovers name the type
  id: string;
}

/** A user as stored, before group memberships are attached. */
export type UserRecord = Omit<User, 'userGroupIds'>;

/** Row of `users`. */
export interface UserRow extends RowOf<typeof userFields> {
  id: string;
}

/** What `UserRepository.insert` takes. */
export type NewUser = NewRecordOf<typeof userFields>;

/** What `UserRepository.update` takes. */
export type UserPatch = PatchOf<typeof userFields>;

export interface InvitationRow {
  id: string;
  organization_id: string;
  user_id: string;
  token_hash: string;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface InviteUserInput {
  email: string;
  role?: UserRole;
  /** Custom group memberships (built-in group ids are accepted when they apply anyway). */
  userGroupIds?: string[];
  /** The inviting user, when known (API keys are not users, so usually none). */
  invitedByUserId?: string;
}

/** Update User input: the role (never admin: the service refuses it) and/or the custom group memberships (replaced). */
export type UpdateUserInput = UpdateInputOf<typeof userFields>;

export interface AcceptInvitationInput {
  firstname: string;
  lastname: string;
  password: string;
}

/** True when the role takes an analyst seat (admins do too). */
export function takesAnalystSeat(role: UserRole): boolean {
  return role === 'analyst' || role === 'admin';
}
