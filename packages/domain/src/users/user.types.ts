/** Roles of a user. Admins exist (invite may create them) but the API cannot promote to or change them. */
export const USER_ROLES = ['viewer', 'analyst', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** A user of an organization. Users come from invitations; there is no create or delete. */
export interface User {
  id: string;
  organizationId: string;
  email: string;
  firstname: string | null;
  lastname: string | null;
  role: UserRole;
  otpAppEnabled: boolean;
  otpPhoneEnabled: boolean;
  deactivatedAt: Date | null;
  invitedByUserId: string | null;
  invitationCreatedAt: Date | null;
  invitationAcceptedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** Every group the user belongs to: custom memberships plus the built-in groups that apply. */
  userGroupIds: string[];
}

export interface UserRow {
  id: string;
  organization_id: string;
  email: string;
  firstname: string | null;
  lastname: string | null;
  role: UserRole;
  password_hash: string | null;
  otp_app_enabled: boolean;
  otp_phone_enabled: boolean;
  deactivated_at: Date | null;
  invited_by_user_id: string | null;
  invitation_created_at: Date | null;
  invitation_accepted_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

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

export interface UpdateUserInput {
  role?: 'viewer' | 'analyst';
  /** Replaces the custom group memberships. */
  userGroupIds?: string[];
}

export interface AcceptInvitationInput {
  firstname: string;
  lastname: string;
  password: string;
}

/** True when the role takes an analyst seat (admins do too). */
export function takesAnalystSeat(role: UserRole): boolean {
  return role === 'analyst' || role === 'admin';
}
