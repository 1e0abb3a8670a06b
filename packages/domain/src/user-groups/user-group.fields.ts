import { z } from 'zod';
import { defineFields, f } from '../fields/index.js';
import { BUILT_IN_BEHAVIORS } from './user-group.types.js';

/**
 * The `user_groups` resource (contract §3.12), one line per attribute: the domain type `UserGroup`,
 * the row mapping, the API attributes and request schemas derive from it. Writes name only `name`,
 * `description` and the relationships (anything else is an unknown attribute).
 */
export const userGroupFields = defineFields({
  id: f.id(),
  organizationId: f.tenant(),
  // the contract does not mark `name` required; we require it (§5 #24)
  name: f.text(z.string().trim().min(1, 'must not be empty').max(200)).required(),
  description: f.text(z.string().max(10_000)).nullable(),
  /** `all_users`/`all_analysts` for the built-in groups (members computed), null for custom groups. */
  builtInBehavior: f.enum(BUILT_IN_BEHAVIORS).nullable().outputOnly(),
  createdAt: f.createdAt().outputOnly(),
  updatedAt: f.updatedAt().outputOnly(),
  /** Dashboards shared with the group (`dashboard_user_groups`). */
  dashboardIds: f.refs('dashboards'),
  /** Members: stored for custom groups (`user_group_members`), computed for built-in groups (deactivated users excluded). */
  userIds: f.refs('users'),
});
