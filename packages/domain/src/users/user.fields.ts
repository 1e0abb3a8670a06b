import { z } from 'zod';
import { defineFields, f } from '../fields/index.js';
import { USER_ROLES, type UserRole } from './user.types.js';

/** Roles the API may assign (admins exist, but the API cannot promote to or change them). */
const assignableRole = z
  .enum(['analyst', 'viewer'], { error: 'must be "analyst" or "viewer" (admins cannot be assigned through the API)' })
  .transform((role): UserRole => role);

/**
 * The `users` resource (contract §3.11), one line per attribute: the domain type `User`, the row
 * mapping, the API attributes (OTP flags only for "Manage Users") and the Update User request schema
 * derive from it. Users come from invitations (plain-JSON routes); Update User may change only `role`
 * and `user_groups`, naming any other attribute is an unknown attribute (422).
 */
export const userFields = defineFields({
  id: f.id(),
  organizationId: f.tenant(),
  firstname: f.text({ max: 200 }).nullable().outputOnly(),
  lastname: f.text({ max: 200 }).nullable().outputOnly(),
  email: f.text(z.email().max(254)).outputOnly(),
  role: f.value(assignableRole).shows(z.enum(USER_ROLES)),
  otpAppEnabled: f.boolean().dbDefault().visibleTo('Manage Users').outputOnly(),
  otpPhoneEnabled: f.boolean().dbDefault().visibleTo('Manage Users').outputOnly(),
  createdAt: f.createdAt().outputOnly(),
  deactivatedAt: f.timestamp().nullable().outputOnly(),
  invitationCreatedAt: f.timestamp().nullable().outputOnly(),
  invitationAcceptedAt: f.timestamp().nullable().outputOnly(),
  updatedAt: f.updatedAt().internal(),
  /** scrypt hash of the password set when the invitation was accepted (kept out of `User`). */
  passwordHash: f.text({ max: 1000 }).nullable().internal(),
  /** Every group the user belongs to: custom memberships (`user_group_members`) plus the built-in groups that apply. */
  userGroupIds: f.refs('user_groups'),
  /** The inviting user, when known (API keys are not users, so usually none). */
  invitedByUserId: f.ref('users').nullable().outputOnly(),
});
