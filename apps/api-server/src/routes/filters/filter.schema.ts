import { AGGREGATION_OPTIONS, FILTER_CONTROL_TYPES, FILTER_VALUE_TYPES, type AggregationOption, type FilterControlType, type FilterValueType } from '@sightline/domain';
import { z } from 'zod';

const noNul = (s: string) => !s.includes('\u0000');
const text = (max: number) => z.string().max(max).refine(noNul, 'must not contain NUL characters');
const scalar = z.union([text(10_000), z.number().finite(), z.boolean(), z.null()]);

const attributes = {
  display_name: text(500).nullable(),
  variable_name: z.string().min(1).max(100).regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, "_" or "-"'),
  control_type: z.enum(FILTER_CONTROL_TYPES as [FilterControlType, ...FilterControlType[]]),
  value_type: z.enum(FILTER_VALUE_TYPES as [FilterValueType, ...FilterValueType[]]),
  values: z.array(text(10_000)).max(10_000).nullable(),
  value_names: z.array(text(10_000)).max(10_000).nullable(),
  sql_query: text(1_000_000).nullable(),
  data_refresh_rate: z.number().int().positive().max(525_600).nullable(),
  default_values: z.array(scalar).max(10_000).nullable(),
  required: z.boolean(),
  dropdown_validate: z.boolean(),
  relative_range_enabled: z.boolean(),
  before_range_enabled: z.boolean(),
  after_range_enabled: z.boolean(),
  from_to_range_enabled: z.boolean(),
  allowed_aggregations: z.array(z.enum(AGGREGATION_OPTIONS as readonly AggregationOption[] as [AggregationOption, ...AggregationOption[]])).max(10).nullable(),
  // read-only: accepted and ignored
  last_query_success: z.unknown(),
  last_query_error_message: z.unknown(),
  created_at: z.unknown(),
  updated_at: z.unknown(),
};

export const updateFilterAttributes = z.object(attributes).partial().strict();
export const createFilterAttributes = updateFilterAttributes.required({ variable_name: true, control_type: true, value_type: true });
export type FilterAttributes = z.infer<typeof updateFilterAttributes>;
