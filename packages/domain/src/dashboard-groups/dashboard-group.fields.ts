import { z } from 'zod';
import { defineFields, f } from '../fields/index.js';

const noNul = (s: string) => !s.includes('\u0000');

/**
 * The `dashboard_groups` resource (contract §3.5), one line per attribute: the domain type
 * `DashboardGroup`, the row mapping, the API attributes and request schemas derive from it.
 * Personal groups (`owner_user_id`) are never read through it (the repository filters them out).
 */
export const dashboardGroupFields = defineFields({
  id: f.id(),
  organizationId: f.tenant(),
  name: f.text(z.string().min(1).max(500).refine(noNul, 'must not contain NUL characters')).required(),
  description: f.text(z.string().max(100_000).refine(noNul, 'must not contain NUL characters')).nullable(),
  /** Explicit position from Sort Dashboard Groups (0-based), or null (sorted by name after the ordered ones). */
  sortPosition: f
    .integer(0, 2 ** 31 - 1)
    .nullable()
    .internal(),
  /** Member dashboards by name (`dashboard_group_members`). */
  dashboardIds: f.refs('dashboards'),
  createdAt: f.createdAt(),
  updatedAt: f.updatedAt(),
});
