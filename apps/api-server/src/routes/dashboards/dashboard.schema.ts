import { AGGREGATION_OPTIONS, COLOR_SCHEMES, TIME_ZONE_CONFIG_TYPES, timeOfDaySchema, type AggregationOption } from '@sightline/domain';
import { z } from 'zod';
import { inputParametersSchema } from '../../schemas/input-parameters.schema.js';
import { storableId } from './ids.js';

const noNul = (s: string) => !s.includes('\u0000');
const text = (max: number) => z.string().max(max).refine(noNul, 'must not contain NUL characters');
const aggregation = z.enum(AGGREGATION_OPTIONS as readonly AggregationOption[] as [AggregationOption, ...AggregationOption[]]);

const timeZoneConfig = z.object({
  type: z.enum(TIME_ZONE_CONFIG_TYPES),
  fixed_time_zone: z.string().max(100).optional(),
  allowed_time_zones: z.array(z.string().max(100)).max(1000).optional(),
}).strict();

const filtersConfiguration = z.object({
  apply_immediately: z.boolean().optional(),
  aggregation_options: z.array(aggregation).max(10).optional(),
  filter_sorting: z.array(text(200)).max(1000).optional(),
  hidden_parameters: z.array(text(200)).max(1000).optional(),
}).strict();

const attributes = {
  name: text(500).pipe(z.string().min(1, 'must not be empty')),
  description: text(100_000).nullable(),
  time_zone_config: timeZoneConfig,
  automatic_update_enabled: z.boolean(),
  thumbnail_enabled: z.boolean(),
  prewarm: z.boolean(),
  // minutes, at most one year
  data_refresh_rate: z.number().finite().positive().max(525_600),
  data_refresh_anchor_time: timeOfDaySchema.nullable(),
  is_locked: z.boolean(),
  default_parameters: inputParametersSchema.nullable(),
  default_page_width: z.number().int().min(100).max(20_000),
  color_scheme: z.enum(COLOR_SCHEMES),
  filters_configuration: filtersConfiguration,
  // read-only: accepted (the contract's samples send them) and ignored
  thumbnail_image_url: z.unknown(),
  thumbnail_created_at: z.unknown(),
  published: z.unknown(),
  layout: z.unknown(),
  floating_enabled: z.unknown(),
  created_at: z.unknown(),
  updated_at: z.unknown(),
};

export const updateDashboardAttributes = z.object(attributes).partial().strict();
export const createDashboardAttributes = updateDashboardAttributes.required({ name: true });
export type DashboardAttributes = z.infer<typeof updateDashboardAttributes>;

/** Update Dashboard Layout body (contract row 31); ranges are checked by the domain (pointer `/layout/<i>`). */
export const layoutBody = z.object({
  layout: z.array(z.object({
    type: z.literal('report'),
    id: z.string().min(1).max(200).refine(storableId, 'is not a report id'),
    row: z.number().int(),
    column: z.number().int(),
    width: z.number().int(),
    height: z.number().int(),
  }).strict()).max(10_000),
  floating_enabled: z.boolean().optional(),
}).strict();
