import { AGGREGATION_OPTIONS, type AggregationOption } from '@sightline/domain';
import { z } from 'zod';

/** A selected value: string, number, boolean or null (contract FilterInput). */
const selectedValue = z.union([z.string().max(10_000), z.number().finite(), z.boolean(), z.null()]);

/** Contract InputParameters (§1.10): the shape is checked here, meaning by the query compiler. */
export const inputParametersSchema = z
  .object({
    timerange: z.string().max(200).optional(),
    aggregation: z.enum(AGGREGATION_OPTIONS as readonly AggregationOption[] as [AggregationOption, ...AggregationOption[]]).optional(),
    tz: z.string().max(100).optional(),
    filters: z
      .array(
        z.object({
          variable_name: z.string().min(1).max(200).regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, "_" or "-"'),
          selected_values: z.array(selectedValue).max(10_000),
        }).strict(),
      )
      .max(500)
      .optional(),
  })
  .strict();

export type InputParametersInput = z.infer<typeof inputParametersSchema>;
