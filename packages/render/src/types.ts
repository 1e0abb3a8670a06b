// Input and output types of the renderer. They are structural (no import from @sightline/domain),
// so the browser can use the spec builder and the worker thread can receive them as plain data.

/** Column data type of results (the contract's `DataType`). Unknown names are treated as text. */
export type RenderDataType = string;

/** One column of a result (the contract's ResultDataField; only what rendering needs). */
export interface RenderField {
  name: string;
  /** Title shown on axes, legends and table headers; defaults to `name`. */
  human_name?: string;
  data_type: RenderDataType;
}

/** Positional row values as stored (numbers, strings, booleans, null; JSON for the rest). */
export type RenderRow = readonly unknown[];

/** A (possibly cut) result: the rows a picture needs, plus how many the result has in all. */
export interface RenderResult {
  fields: readonly RenderField[];
  /** The first rows of the result (the caller bounds their number). */
  rows: readonly RenderRow[];
  /** Rows of the whole result (≥ rows.length); the rest is reported as "and N more rows". */
  totalRows: number;
  /** When the data was produced (shown as the report's data time). */
  dataTimestamp?: Date | string | number | null;
  /** Time zone the query ran in (`UTC` when absent). */
  timeZone?: string;
}

/** Light (default) or dark variant of the same picture. */
export type RenderTheme = 'light' | 'dark';

/** The report settings rendering uses (contract §3.7 names, camelCase). */
export interface RenderReport {
  id?: string;
  name: string;
  description?: string | null;
  /** The report's `chart_configuration` (see README: `type`, `x`, `y`, `series`, `stacked`). */
  chartConfiguration?: Record<string, unknown> | null;
  displayNameAsTitle?: boolean;
  attribution?: string | null;
  noDataMessage?: string | null;
  /** Grid position on the dashboard (1-based row/column, 12 columns). */
  row?: number;
  column?: number;
  width?: number;
  height?: number;
  /** Size of a single-report export in px (contract dflt 800 × 600). */
  defaultPageWidth?: number;
  defaultPageHeight?: number;
}

/** A report with what to show for it: its data, or why there is none. */
export interface RenderReportItem {
  report: RenderReport;
  /** The data; null/absent when the report has none (shown as the no-data message). */
  result?: RenderResult | null;
  /** A query or render error for a person (shown instead of the chart). */
  error?: string | null;
}

/** The input parameters an export used (contract InputParameters; shown under the title). */
export interface RenderParameters {
  timerange?: string;
  aggregation?: string;
  tz?: string;
  filters?: ReadonlyArray<{ variable_name: string; selected_values: ReadonlyArray<string | number | boolean | null> }>;
}

/** A dashboard to lay out on its 12-column grid. */
export interface RenderDashboard {
  name: string;
  description?: string | null;
  /** `scheme_1` … `scheme_8` (contract §3.4); default `scheme_6`. */
  colorScheme?: string;
  /** The time zone data times and time ranges are shown in. */
  timeZone: string;
  parameters?: RenderParameters | null;
  /** Render width in px (the request's `page_width`, else the dashboard's `default_page_width`). */
  pageWidth?: number;
  reports: readonly RenderReportItem[];
}

/** Output formats of pictures. */
export type PictureFormat = 'svg' | 'png' | 'pdf';

/** Options shared by the picture renderers. */
export interface PictureOptions {
  theme?: RenderTheme;
  /** "Generated at" time printed in the header (default: now). Fixed in tests for golden images. */
  generatedAt?: Date;
  /** Rows drawn per table at most (default 50; the rest is counted). */
  maxTableRows?: number;
}

/** A rendered file. */
export interface RenderedFile {
  contentType: string;
  /** File name extension without the dot. */
  extension: string;
  bytes: Buffer;
  /** Pixel size of the picture (PNG/SVG) or of the first page in px (PDF). */
  width: number;
  height: number;
  /** Where each report landed on the first page, in px (tests and thumbnails use it). */
  boxes: ReportBox[];
}

/** The rectangle of one report in a rendered picture, in px. */
export interface ReportBox {
  index: number;
  name: string;
  /** The whole card. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** The chart/table area inside the card. */
  content: { x: number; y: number; width: number; height: number };
  /** 0-based page of a PDF (0 for PNG/SVG). */
  page: number;
}
