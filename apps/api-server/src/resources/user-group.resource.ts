import type { UserGroup } from '@sightline/domain';
import { defineResource, type ResourceRecord } from '@sightline/jsonapi';

/** `user_groups` (contract §3.12). */
export const userGroupResource = defineResource({
  type: 'user_groups',
  attributes: ['name', 'description', 'built_in_behavior', 'created_at', 'updated_at'],
  relationships: {
    dashboards: { type: 'dashboards', many: true },
    users: { type: 'users', many: true },
  },
});

/** Presents a group. `dashboards` is empty until dashboard sharing is stored. */
export function presentUserGroup(group: UserGroup): ResourceRecord {
  return {
    id: group.id,
    attributes: {
      name: group.name,
      description: group.description,
      built_in_behavior: group.builtInBehavior,
      created_at: group.createdAt.toISOString(),
      updated_at: group.updatedAt.toISOString(),
    },
    relationships: { dashboards: group.dashboardIds, users: group.userIds },
  };
}
