import { z } from 'zod';
import { storableId } from '../dashboards/ids.js';

const noNul = (s: string) => !s.includes('\u0000');

const attributes = {
  name: z.string().min(1).max(500).refine(noNul, 'must not contain NUL characters'),
  description: z.string().max(100_000).refine(noNul, 'must not contain NUL characters').nullable(),
  created_at: z.unknown(),
  updated_at: z.unknown(),
};

export const updateDashboardGroupAttributes = z.object(attributes).partial().strict();
export const createDashboardGroupAttributes = updateDashboardGroupAttributes.required({ name: true });

/** Sort Dashboard Groups body (contract row 38). */
export const sortDashboardGroupsBody = z.object({ dashboard_group_ids: z.array(z.string().min(1).max(200).refine(storableId, 'is not a dashboard group id')).max(10_000) }).strict();
