import { z } from 'zod';
import { storableId } from './ids.js';

/** Update Dashboard Layout body (contract row 31); ranges are checked by the domain (pointer `/layout/<i>`). */
export const layoutBody = z
  .object({
    layout: z
      .array(
        z
          .object({
            type: z.literal('report'),
            id: z.string().min(1).max(200).refine(storableId, 'is not a report id'),
            row: z.number().int(),
            column: z.number().int(),
            width: z.number().int(),
            height: z.number().int(),
          })
          .strict(),
      )
      .max(10_000),
    floating_enabled: z.boolean().optional(),
  })
  .strict();
