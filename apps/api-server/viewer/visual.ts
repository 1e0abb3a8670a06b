// What one report shows, from its chart settings and its result data.

import { buildVegaLiteSpec, type ReportVisual, type TableVisual } from '@sightline/render/vega-lite-spec';
import type { ViewerReport } from './config.js';

/** One column of result data (contract ResultDataField). */
interface ResultField {
  name: string;
  human_name?: string;
  data_type: string;
}

/** Result data as the data server sends it (contract §3.14, possibly cut with `limit`). */
export interface ResultData {
  fields: ResultField[];
  rows: unknown[][];
  sql_rows?: number;
  time_zone?: string;
  data_timestamp?: number;
}

/** What a report shows: a Vega-Lite spec or a table description (from the shared spec builder). */
export type Visual = ReportVisual;
export type { TableVisual };

/**
 * The visual of a report, from the ONE Vega-Lite spec builder of `@sightline/render` (the exports
 * draw the same specs on the server): a chart spec for vega-embed, or a table description.
 */
export function buildVisual(report: ViewerReport, result: ResultData, size: { width: number; height: number }, colorScheme: string): Visual {
  return buildVegaLiteSpec({
    chartConfiguration: report.chartConfiguration,
    result: {
      fields: result.fields,
      rows: result.rows,
      totalRows: Math.max(result.sql_rows ?? 0, result.rows.length),
      dataTimestamp: result.data_timestamp ?? null,
      timeZone: result.time_zone,
    },
    width: size.width,
    height: size.height,
    colorScheme,
    noDataMessage: report.noDataMessage,
  });
}
