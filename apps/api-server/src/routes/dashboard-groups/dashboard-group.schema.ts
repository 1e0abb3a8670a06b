import { z } from 'zod';
import { storableId } from '../dashboards/ids.js';

/** Sort Dashboard Groups body (contract row 38). */
export const sortDashboardGroupsBody = z
  .object({ dashboard_group_ids: z.array(z.string().min(1).max(200).refine(storableId, 'is not a dashboard group id')).max(10_000) })
  .strict();
