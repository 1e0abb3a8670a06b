import type { User } from '@sightline/domain';
import { defineResource, type ResourceRecord } from '@sightline/jsonapi';

/** `users` (contract §3.11). */
export const userResource = defineResource({
  type: 'users',
  attributes: [
    'firstname', 'lastname', 'email', 'role', 'otp_app_enabled', 'otp_phone_enabled',
    'created_at', 'deactivated_at', 'invitation_created_at', 'invitation_accepted_at',
  ],
  relationships: {
    user_groups: { type: 'user_groups', many: true },
    invited_by_user: { type: 'users', many: false },
  },
});

/** Attributes only keys with "Manage Users" may see (contract §1.3). */
export const MANAGE_USERS_ONLY_ATTRIBUTES = ['otp_app_enabled', 'otp_phone_enabled'] as const;

/** Presents a user. */
export function presentUser(user: User): ResourceRecord {
  return {
    id: user.id,
    attributes: {
      firstname: user.firstname,
      lastname: user.lastname,
      email: user.email,
      role: user.role,
      otp_app_enabled: user.otpAppEnabled,
      otp_phone_enabled: user.otpPhoneEnabled,
      created_at: user.createdAt.toISOString(),
      deactivated_at: user.deactivatedAt?.toISOString() ?? null,
      invitation_created_at: user.invitationCreatedAt?.toISOString() ?? null,
      invitation_accepted_at: user.invitationAcceptedAt?.toISOString() ?? null,
    },
    relationships: { user_groups: user.userGroupIds, invited_by_user: user.invitedByUserId },
  };
}
