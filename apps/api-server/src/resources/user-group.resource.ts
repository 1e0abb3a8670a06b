import { userGroupFields, type UserGroup } from '@sightline/domain';
import { defineFieldResource, type ResourceRecord } from '@sightline/jsonapi';

/** `user_groups` (contract §3.12): attributes and relationships from `userGroupFields`. */
export const userGroupResource = defineFieldResource({ type: 'user_groups', fields: userGroupFields });

/** Presents a group. */
export function presentUserGroup(group: UserGroup): ResourceRecord {
  return userGroupResource.present(group);
}
