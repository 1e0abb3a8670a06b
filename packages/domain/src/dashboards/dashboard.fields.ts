import { z } from 'zod';
import { defineFields, f, nulFreeText, timeOfDaySchema } from '../fields/index.js';
import { AGGREGATION_OPTIONS, type AggregationOption } from '../query/query.types.js';
import { inputParametersSchema } from '../scheduling/field-schemas.js';
import { COLOR_SCHEMES, SHARE_MODES, TIME_ZONE_CONFIG_TYPES, type DashboardFiltersConfiguration, type TimeZoneConfig } from './dashboard.types.js';

/** `time_zone_config` as the API writes and shows it (snake_case members), read into `TimeZoneConfig`. */
const timeZoneConfig = z
  .object({
    type: z.enum(TIME_ZONE_CONFIG_TYPES),
    fixed_time_zone: z.string().max(100).optional(),
    allowed_time_zones: z.array(z.string().max(100)).max(1000).optional(),
  })
  .strict()
  .transform((tz): TimeZoneConfig => timeZoneConfigFromJson(tz));

type TimeZoneConfigJson = { type: TimeZoneConfig['type']; fixed_time_zone?: string; allowed_time_zones?: string[] };

function timeZoneConfigFromJson(tz: TimeZoneConfigJson): TimeZoneConfig {
  return {
    type: tz.type,
    ...(tz.fixed_time_zone !== undefined ? { fixedTimeZone: tz.fixed_time_zone } : {}),
    ...(tz.allowed_time_zones !== undefined ? { allowedTimeZones: tz.allowed_time_zones } : {}),
  };
}

function timeZoneConfigToJson(tz: TimeZoneConfig): TimeZoneConfigJson {
  return {
    type: tz.type,
    ...(tz.fixedTimeZone !== undefined ? { fixed_time_zone: tz.fixedTimeZone } : {}),
    ...(tz.allowedTimeZones !== undefined ? { allowed_time_zones: tz.allowedTimeZones } : {}),
  };
}

type FiltersConfigurationJson = {
  apply_immediately?: boolean;
  aggregation_options?: AggregationOption[];
  filter_sorting?: string[];
  hidden_parameters?: string[];
};

/** `filters_configuration` as the API writes and shows it, read into `DashboardFiltersConfiguration`. */
const filtersConfiguration = z
  .object({
    apply_immediately: z.boolean().optional(),
    aggregation_options: z
      .array(z.enum(AGGREGATION_OPTIONS as readonly AggregationOption[] as [AggregationOption, ...AggregationOption[]]))
      .max(10)
      .optional(),
    filter_sorting: z.array(nulFreeText(200)).max(1000).optional(),
    hidden_parameters: z.array(nulFreeText(200)).max(1000).optional(),
  })
  .strict()
  .transform((fc): DashboardFiltersConfiguration => filtersConfigurationFromJson(fc));

function filtersConfigurationFromJson(fc: FiltersConfigurationJson): DashboardFiltersConfiguration {
  return {
    ...(fc.apply_immediately !== undefined ? { applyImmediately: fc.apply_immediately } : {}),
    ...(fc.aggregation_options !== undefined ? { aggregationOptions: fc.aggregation_options } : {}),
    ...(fc.filter_sorting !== undefined ? { filterSorting: fc.filter_sorting } : {}),
    ...(fc.hidden_parameters !== undefined ? { hiddenParameters: fc.hidden_parameters } : {}),
  };
}

function filtersConfigurationToJson(fc: DashboardFiltersConfiguration): FiltersConfigurationJson {
  return {
    ...(fc.applyImmediately !== undefined ? { apply_immediately: fc.applyImmediately } : {}),
    ...(fc.aggregationOptions !== undefined ? { aggregation_options: fc.aggregationOptions } : {}),
    ...(fc.filterSorting !== undefined ? { filter_sorting: fc.filterSorting } : {}),
    ...(fc.hiddenParameters !== undefined ? { hidden_parameters: fc.hiddenParameters } : {}),
  };
}

/** One report's place in `layout` (shown; changed through Update Dashboard Layout). */
const layoutItem = z.object({
  type: z.literal('report'),
  id: z.string(),
  row: z.number().int(),
  column: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
});

/**
 * The `dashboards` resource (contract §3.4), one line per attribute: the domain type `Dashboard`, the
 * row mapping (jsonb members snake_case, as in the API), the API attributes, request schemas, copies
 * (Duplicate) and the backup form derive from it. Defaults are the columns' (`dbDefault`). The
 * relationships are computed per caller (`DashboardService.relations`) and added by the presenter;
 * `published` and `layout` are computed by the presenter too.
 */
export const dashboardFields = defineFields({
  id: f.id(),
  organizationId: f.tenant(),
  /** Owner (relationship `user`); null when created through an API key. */
  userId: f.text({ max: 64 }).nullable().internal(),
  name: f.text(nulFreeText(500).pipe(z.string().min(1, 'must not be empty'))).required(),
  description: f.text({ max: 100_000 }).nullable(),
  timeZoneConfig: f
    .json(timeZoneConfig)
    .dbDefault()
    .shownAs(timeZoneConfigToJson)
    .storedAs((tz) => JSON.stringify(timeZoneConfigToJson(tz)), timeZoneConfigFromJson),
  automaticUpdateEnabled: f.boolean().dbDefault(),
  thumbnailEnabled: f.boolean().dbDefault(),
  thumbnailImageUrl: f.text({ max: 10_000 }).nullable().readOnly().notInBackup(),
  thumbnailCreatedAt: f.timestamp().nullable().readOnly().notInBackup(),
  prewarm: f.boolean().dbDefault(),
  /** Shared with anyone (`shareMode` other than `none`); computed by the presenter. */
  published: f.boolean().column(false).readOnly().notInBackup(),
  /** Max age of cached results in minutes (reports/filters with a lower rate override it); at most one year. */
  dataRefreshRate: f
    .value(z.number().finite().positive().max(525_600))
    .dbDefault()
    .storedAs(
      (minutes) => minutes,
      (column: number | string) => Number(column),
    ),
  /** `HH:MM` in the organization's time zone, or null. */
  dataRefreshAnchorTime: f.value(timeOfDaySchema).nullable(),
  isLocked: f.boolean().dbDefault(),
  /** Default input parameters; null until set with Update Dashboard (refused on create, contract §4.4 rule 30). */
  defaultParameters: f.json(inputParametersSchema).nullable(),
  defaultPageWidth: f.integer(100, 20_000).dbDefault(),
  /** The visible reports' positions; computed by the presenter, changed through Update Dashboard Layout. */
  layout: f.value(z.array(layoutItem)).column(false).readOnly().notInBackup(),
  floatingEnabled: f.boolean().dbDefault().readOnly(),
  colorScheme: f.enum(COLOR_SCHEMES).dbDefault(),
  filtersConfiguration: f
    .json(filtersConfiguration)
    .dbDefault()
    .shownAs(filtersConfigurationToJson)
    .storedAs((fc) => JSON.stringify(filtersConfigurationToJson(fc)), filtersConfigurationFromJson),
  /** Share Dashboard's mode (contract row 29); `published` shows whether it is other than `none`. */
  shareMode: f.enum(SHARE_MODES).dbDefault().internal({ backup: true }),
  createdAt: f.createdAt(),
  updatedAt: f.updatedAt(),
  /** User groups the dashboard is shared with (existing groups only; `dashboard_user_groups`). */
  userGroupIds: f.value(z.array(z.string())).column(false).internal({ backup: true }),
  /** Dashboard groups (non-personal) the dashboard belongs to (`dashboard_group_members`). */
  dashboardGroupIds: f.value(z.array(z.string())).column(false).internal({ backup: true }),
});
