import { z } from 'zod';
import { timeOfDay } from '../dashboards/dashboard.schema.js';

const noNul = (s: string) => !s.includes('\u0000');
const text = (max: number) => z.string().max(max).refine(noNul, 'must not contain NUL characters');

const attributes = {
  name: text(500).pipe(z.string().min(1, 'must not be empty')),
  description: text(100_000).nullable(),
  sql_query: text(1_000_000).nullable(),
  r_query: text(1_000_000).nullable(),
  r_query_enabled: z.boolean(),
  data_refresh_rate: z.number().int().positive().max(525_600).nullable(),
  data_refresh_anchor_time: timeOfDay.nullable(),
  download_actions_enabled: z.boolean(),
  data_download_enabled: z.boolean(),
  maximize_action_enabled: z.boolean(),
  refresh_enabled: z.boolean(),
  // typed `any` in the doc (⚠ §5.13): treated as boolean
  unused_filters_warning_enabled: z.boolean(),
  unlimited_csv_export_enabled: z.boolean(),
  default_page_width: z.number().int().min(100).max(20_000),
  default_page_height: z.number().int().min(100).max(20_000),
  display_name_as_title: z.boolean(),
  attribution: text(10_000).nullable(),
  no_data_message: text(10_000).nullable(),
  // read-only: accepted and ignored
  chart_configuration: z.unknown(),
  query_error: z.unknown(),
  created_at: z.unknown(),
  updated_at: z.unknown(),
};

/** Create: `width`/`height` set the initial size; `row`/`column` are chosen by the server (ignored). */
export const createReportAttributes = z.object({
  ...attributes,
  width: z.number().int().min(1).max(12),
  height: z.number().int().min(1).max(1000),
  row: z.unknown(),
  column: z.unknown(),
}).partial().strict().required({ name: true });

/** Update: position and size change only through Update Dashboard Layout (checked by the router). */
export const updateReportAttributes = z.object({
  ...attributes,
  width: z.unknown(),
  height: z.unknown(),
  row: z.unknown(),
  column: z.unknown(),
}).partial().strict();
