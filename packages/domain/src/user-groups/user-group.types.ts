import type { CreateInputOf, NewRecordOf, PatchOf, RecordOf, RowOf, StoredRecordOf, UpdateInputOf } from '../fields/index.js';
import type { userGroupFields } from './user-group.fields.js';

/** Behaviours of the built-in groups: `all_users` (every user), `all_analysts` (analysts and admins). */
export const BUILT_IN_BEHAVIORS = ['all_users', 'all_analysts'] as const;
export type BuiltInBehavior = (typeof BUILT_IN_BEHAVIORS)[number];

/** A user group. Built-in groups compute their members and cannot be changed or deleted. Fields: `userGroupFields`. */
export interface UserGroup extends RecordOf<typeof userGroupFields> {
  // restated so that messages and hovers name the type (an empty extension would print its base)
  id: string;
}

/** A group as stored, before members and dashboards are attached. */
export type UserGroupRecord = StoredRecordOf<typeof userGroupFields>;

/** Row of `user_groups`. */
export interface UserGroupRow extends RowOf<typeof userGroupFields> {
  id: string;
}

/** Create User Group input (`userIds`, `dashboardIds` set members and shared dashboards). */
export type CreateUserGroupInput = CreateInputOf<typeof userGroupFields>;

/** Update User Group input; `userIds`/`dashboardIds` replace; `undefined` = unchanged. */
export type UpdateUserGroupInput = UpdateInputOf<typeof userGroupFields>;

/** What `UserGroupRepository.insert` takes. */
export type NewUserGroup = NewRecordOf<typeof userGroupFields>;

/** What `UserGroupRepository.update` takes. */
export type UserGroupPatch = PatchOf<typeof userGroupFields>;

/** Names and descriptions of the built-in groups every organization has. */
export const BUILT_IN_GROUPS: ReadonlyArray<{ behavior: BuiltInBehavior; name: string; description: string }> = [
  { behavior: 'all_users', name: 'All Users', description: 'Every user of the organization' },
  { behavior: 'all_analysts', name: 'All Analysts', description: 'Every analyst and admin of the organization' },
];
