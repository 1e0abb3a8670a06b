import { userFields, type Principal, type User } from '@sightline/domain';
import { defineFieldResource, type ResourceRecord } from '@sightline/jsonapi';

/** `users` (contract §3.11): attributes and relationships from `userFields`. */
export const userResource = defineFieldResource({ type: 'users', fields: userFields });

/**
 * Presents a user. The OTP flags are only for keys with "Manage Users" (contract §1.3): without a
 * principal (the invitation page) they are left out.
 */
export function presentUser(user: User, principal?: Principal): ResourceRecord {
  return userResource.present({ ...user, passwordHash: null }, (permission) => principal?.has(permission) ?? false);
}
