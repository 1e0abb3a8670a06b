/** Behaviours of the built-in groups: `all_users` (every user), `all_analysts` (analysts and admins). */
export const BUILT_IN_BEHAVIORS = ['all_users', 'all_analysts'] as const;
export type BuiltInBehavior = (typeof BUILT_IN_BEHAVIORS)[number];

/** A user group. Built-in groups compute their members and cannot be changed or deleted. */
export interface UserGroup {
  id: string;
  organizationId: string;
  name: string;
  description: string | null;
  builtInBehavior: BuiltInBehavior | null;
  createdAt: Date;
  updatedAt: Date;
  /** Members: stored for custom groups, computed for built-in groups (deactivated users excluded). */
  userIds: string[];
  /** Dashboards shared with the group (not stored yet: always empty until dashboard sharing lands). */
  dashboardIds: string[];
}

export interface UserGroupRow {
  id: string;
  organization_id: string;
  name: string;
  description: string | null;
  built_in_behavior: BuiltInBehavior | null;
  created_at: Date;
  updated_at: Date;
}

export interface CreateUserGroupInput {
  name: string;
  description?: string | null;
  userIds?: string[];
  dashboardIds?: string[];
}

export interface UpdateUserGroupInput {
  name?: string;
  description?: string | null;
  userIds?: string[];
  dashboardIds?: string[];
}

/** Names and descriptions of the built-in groups every organization has. */
export const BUILT_IN_GROUPS: ReadonlyArray<{ behavior: BuiltInBehavior; name: string; description: string }> = [
  { behavior: 'all_users', name: 'All Users', description: 'Every user of the organization' },
  { behavior: 'all_analysts', name: 'All Analysts', description: 'Every analyst and admin of the organization' },
];
