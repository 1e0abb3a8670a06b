// What one report shows, from its chart settings and its result data.

import type { ViewerReport } from './config.js';

/** One column of result data (contract ResultDataField). */
export interface ResultField {
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

/** A table: formatted cells of the first rows and the total. */
export interface TableVisual {
  kind: 'table';
  columns: Array<{ title: string; align: 'left' | 'right' }>;
  rows: string[][];
  totalRows: number;
}

/** A Vega-Lite chart. */
export interface ChartVisual {
  kind: 'vega-lite';
  spec: unknown;
}

export type Visual = TableVisual | ChartVisual;

const NUMERIC = new Set(['Integer', 'BigInt', 'Float']);
const TABLE_ROWS = 200;

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Math.round(value * 1e6) / 1e6);
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/**
 * The visual of a report. Charts come from the one Vega-Lite spec builder of `@sightline/render`
 * (shared with the exports) once it is part of this build; until then every report is a table.
 */
export function buildVisual(_report: ViewerReport, result: ResultData, _size: { width: number; height: number }): Visual {
  return {
    kind: 'table',
    columns: result.fields.map((f) => ({ title: f.human_name || f.name, align: NUMERIC.has(f.data_type) ? 'right' : 'left' })),
    rows: result.rows.slice(0, TABLE_ROWS).map((row) => result.fields.map((_f, i) => cellText(row[i]))),
    totalRows: Math.max(result.sql_rows ?? 0, result.rows.length),
  };
}
