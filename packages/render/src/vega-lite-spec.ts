// THE one place that turns a report's chart configuration and result into a picture description.
// Server-side exports and the browser viewer (vega-embed) both use it, so it imports no Node API and
// nothing but types from vega-lite; `@sightline/render/vega-lite-spec` exports it on its own.

import type { TopLevelSpec } from 'vega-lite';
import { formatNumber, formatValue, isNumericType, isTemporalType, toWallClockMs } from './format.js';
import { FONT_FAMILY, schemePalette, themeColors } from './theme.js';
import type { RenderField, RenderResult, RenderTheme } from './types.js';

/** Chart types drawn as charts (aliases map onto these). */
export const CHART_TYPES = ['bar', 'column', 'line', 'area', 'pie', 'donut', 'scatter', 'number', 'table'] as const;
export type ChartType = (typeof CHART_TYPES)[number];

const ALIASES: Readonly<Record<string, ChartType>> = {
  bar: 'bar',
  horizontal_bar: 'bar',
  bar_horizontal: 'bar',
  column: 'column',
  vertical_bar: 'column',
  bar_vertical: 'column',
  histogram: 'column',
  line: 'line',
  timeseries: 'line',
  time_series: 'line',
  spline: 'line',
  area: 'area',
  stacked_area: 'area',
  pie: 'pie',
  donut: 'donut',
  doughnut: 'donut',
  scatter: 'scatter',
  point: 'scatter',
  bubble: 'scatter',
  number: 'number',
  kpi: 'number',
  big_number: 'number',
  single_value: 'number',
  counter: 'number',
  table: 'table',
  grid: 'table',
  data_table: 'table',
};

/** The chart settings read from a report's opaque `chart_configuration` (see the package README). */
export interface ChartSettings {
  /** The type as written (lower-cased); `table` when none is set. */
  requestedType: string;
  /** The type drawn, or undefined when the requested type has no renderer yet (placeholder). */
  type: ChartType | undefined;
  x?: string;
  y: string[];
  series?: string;
  stacked?: boolean;
  xTitle?: string;
  yTitle?: string;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

function strList(v: unknown): string[] {
  if (typeof v === 'string')
    return v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (Array.isArray(v)) return v.filter((s): s is string => typeof s === 'string' && s.trim() !== '').map((s) => s.trim());
  return [];
}

/**
 * Reads `chart_configuration`. Accepted members (all optional): `type` (or `chart_type`), `x`
 * (or `x_field`), `y` (or `y_fields`; a name, a list, or a comma list), `series` (or `color`),
 * `stacked`, `x_title`, `y_title`. An empty configuration is a table.
 */
export function readChartSettings(configuration: Record<string, unknown> | null | undefined): ChartSettings {
  const c = configuration && typeof configuration === 'object' && !Array.isArray(configuration) ? configuration : {};
  const requested = (str(c.type) ?? str(c.chart_type) ?? 'table').toLowerCase();
  return {
    requestedType: requested,
    type: ALIASES[requested.replaceAll('-', '_').replaceAll(' ', '_')],
    x: str(c.x) ?? str(c.x_field),
    y: strList(c.y ?? c.y_fields),
    series: str(c.series) ?? str(c.color),
    stacked: typeof c.stacked === 'boolean' ? c.stacked : undefined,
    xTitle: str(c.x_title),
    yTitle: str(c.y_title),
  };
}

/** Input of the spec builder: one report's settings and (a bounded sample of) its result. */
export interface VisualInput {
  chartConfiguration?: Record<string, unknown> | null;
  result: RenderResult;
  /** Size of the chart area in px. */
  width: number;
  height: number;
  theme?: RenderTheme;
  colorScheme?: string | null;
  /** Time zone dates are shown in (default: the result's, else UTC). */
  timeZone?: string;
  /** Text when the result has no rows (the report's `no_data_message`). */
  noDataMessage?: string | null;
  /** Rows a table description carries at most (default 200). */
  maxTableRows?: number;
}

/** A table to draw as a table (PDF/PNG draw it with text; the browser as HTML). */
export interface TableVisual {
  kind: 'table';
  chartType: 'table';
  columns: Array<{ title: string; align: 'left' | 'right' }>;
  /** Formatted cells of the first rows. */
  rows: string[][];
  /** Rows of the whole result; `totalRows - rows.length` are "more rows". */
  totalRows: number;
}

/** A chart as a Vega-Lite spec (also used for number tiles, messages and placeholders). */
export interface VegaLiteVisual {
  kind: 'vega-lite';
  /** The type drawn, `message` for no-data/error texts, `placeholder` for types without a renderer. */
  chartType: ChartType | 'message' | 'placeholder';
  spec: TopLevelSpec;
}

/** What a report shows: a Vega-Lite spec, or a table. */
export type ReportVisual = VegaLiteVisual | TableVisual;

/** Vega-Lite `config` for a theme: the bundled font, theme colors, the dashboard's palette. */
export function vegaLiteConfig(theme: RenderTheme = 'light', colorScheme?: string | null): Record<string, unknown> {
  const colors = themeColors(theme);
  return {
    font: FONT_FAMILY,
    background: colors.card,
    view: { stroke: null },
    padding: 6,
    range: { category: [...schemePalette(colorScheme)] },
    axis: {
      labelColor: colors.mutedText,
      titleColor: colors.mutedText,
      gridColor: colors.grid,
      domainColor: colors.grid,
      tickColor: colors.grid,
      labelFont: FONT_FAMILY,
      titleFont: FONT_FAMILY,
      labelFontSize: 10,
      titleFontSize: 11,
      titleFontWeight: 600,
      labelLimit: 140,
    },
    legend: {
      labelColor: colors.mutedText,
      titleColor: colors.mutedText,
      labelFont: FONT_FAMILY,
      titleFont: FONT_FAMILY,
      labelFontSize: 10,
      titleFontSize: 11,
      labelLimit: 160,
    },
    text: { color: colors.text, font: FONT_FAMILY },
    title: { color: colors.text, font: FONT_FAMILY },
    arc: { stroke: colors.card, strokeWidth: 1 },
  };
}

/** Field `i` in data values (safe names: result columns may hold dots or brackets). */
const key = (i: number) => `f${i}`;

function findField(fields: readonly RenderField[], name: string | undefined): number {
  if (!name) return -1;
  const exact = fields.findIndex((f) => f.name === name);
  return exact >= 0 ? exact : fields.findIndex((f) => f.name.toLowerCase() === name.toLowerCase());
}

function titleOf(field: RenderField): string {
  return field.human_name || field.name;
}

function base(input: VisualInput): Pick<TopLevelSpec, '$schema'> & Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: Math.max(10, Math.floor(input.width)),
    height: Math.max(10, Math.floor(input.height)),
    autosize: { type: 'fit', contains: 'padding' },
    config: vegaLiteConfig(input.theme, input.colorScheme),
  };
}

/** A centred text (no data, errors, placeholders). */
export function messageSpec(
  input: Pick<VisualInput, 'width' | 'height' | 'theme' | 'colorScheme'>,
  lines: string[],
  tone: 'muted' | 'error' = 'muted',
): TopLevelSpec {
  const colors = themeColors(input.theme);
  return {
    ...base(input as VisualInput),
    // pixel positions: centred lines 18 px apart
    data: { values: lines.map((text, i) => ({ text, y: Math.round(input.height / 2 + (i - (lines.length - 1) / 2) * 18) })) },
    mark: { type: 'text', align: 'center', baseline: 'middle', fontSize: 13, color: tone === 'error' ? colors.error : colors.placeholder },
    encoding: {
      text: { field: 'text', type: 'nominal' },
      x: { value: Math.floor(input.width / 2) },
      y: { field: 'y', type: 'quantitative', scale: null },
    },
  } as TopLevelSpec;
}

/** The message visual for a report with an error (a query error, a render failure). */
export function errorVisual(input: Pick<VisualInput, 'width' | 'height' | 'theme' | 'colorScheme'>, message: string): VegaLiteVisual {
  return {
    kind: 'vega-lite',
    chartType: 'message',
    spec: messageSpec(input, wrapWords(`Error: ${message}`, Math.max(20, Math.floor(input.width / 7))).slice(0, 6), 'error'),
  };
}

function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * Builds what a report shows: its chart type and settings applied to its result. Charts become a
 * Vega-Lite spec with the data inlined (values keyed `f0`, `f1`, … by column), tables a table
 * description. A result without rows gives the no-data message; a chart type without a renderer a
 * placeholder that names it. Never throws for odd configurations: it falls back to sensible fields.
 */
export function buildVegaLiteSpec(input: VisualInput): ReportVisual {
  const settings = readChartSettings(input.chartConfiguration);
  const { result } = input;
  const timeZone = input.timeZone ?? result.timeZone ?? 'UTC';
  if (!settings.type) {
    return {
      kind: 'vega-lite',
      chartType: 'placeholder',
      spec: messageSpec(input, [
        `Chart type "${settings.requestedType}" is not rendered yet`,
        `(${result.totalRows} row${result.totalRows === 1 ? '' : 's'} of data)`,
      ]),
    };
  }
  if (settings.type === 'table') return tableVisual(result, timeZone, input.maxTableRows ?? 200);
  if (result.rows.length === 0 || result.fields.length === 0) {
    return { kind: 'vega-lite', chartType: 'message', spec: messageSpec(input, [input.noDataMessage || 'No data']) };
  }
  if (settings.type === 'number') return numberVisual(input, settings);
  return chartVisual(input, settings, settings.type, timeZone);
}

/** The table description of a result: the first `maxRows` rows formatted, and the total. */
export function tableVisual(result: RenderResult, timeZone: string, maxRows: number): TableVisual {
  const fields = result.fields;
  const rows = result.rows.slice(0, Math.max(0, maxRows)).map((row) => fields.map((f, i) => formatValue(row[i], f.data_type, timeZone)));
  return {
    kind: 'table',
    chartType: 'table',
    columns: fields.map((f) => ({ title: titleOf(f), align: isNumericType(f.data_type) ? 'right' : 'left' })),
    rows,
    totalRows: Math.max(result.totalRows, result.rows.length),
  };
}

function numberVisual(input: VisualInput, settings: ChartSettings): VegaLiteVisual {
  const { fields, rows } = input.result;
  let idx = findField(fields, settings.y[0]);
  if (idx < 0) idx = fields.findIndex((f) => isNumericType(f.data_type));
  if (idx < 0) idx = 0;
  const field = fields[idx]!;
  const value = rows[0]?.[idx];
  const text = isNumericType(field.data_type) ? formatNumber(value) : formatValue(value, field.data_type, input.timeZone ?? input.result.timeZone ?? 'UTC');
  const colors = themeColors(input.theme);
  const big = Math.max(14, Math.min(72, Math.floor(input.height * 0.42), Math.floor((input.width * 1.6) / Math.max(1, text.length))));
  return {
    kind: 'vega-lite',
    chartType: 'number',
    spec: {
      ...base(input),
      data: { values: [{ value: text, label: titleOf(field) }] },
      layer: [
        {
          mark: { type: 'text', fontSize: big, fontWeight: 700, color: colors.text, baseline: 'middle' },
          encoding: { text: { field: 'value', type: 'nominal' }, x: { value: Math.floor(input.width / 2) }, y: { value: Math.floor(input.height * 0.45) } },
        },
        {
          mark: { type: 'text', fontSize: 12, color: colors.mutedText, baseline: 'top' },
          encoding: {
            text: { field: 'label', type: 'nominal' },
            x: { value: Math.floor(input.width / 2) },
            y: { value: Math.floor(input.height * 0.45 + big * 0.6) },
          },
        },
      ],
    } as TopLevelSpec,
  };
}

function chartVisual(input: VisualInput, settings: ChartSettings, type: Exclude<ChartType, 'table' | 'number'>, timeZone: string): VegaLiteVisual {
  const { fields, rows } = input.result;
  // x: the configured field, else the first non-numeric column, else the first column
  let xi = findField(fields, settings.x);
  if (xi < 0) xi = fields.findIndex((f) => !isNumericType(f.data_type));
  if (xi < 0) xi = 0;
  const si = findField(fields, settings.series);
  let yi = settings.y.map((n) => findField(fields, n)).filter((i) => i >= 0 && i !== xi);
  if (!yi.length) yi = fields.map((f, i) => (isNumericType(f.data_type) && i !== xi && i !== si ? i : -1)).filter((i) => i >= 0);
  if (!yi.length) {
    return {
      kind: 'vega-lite',
      chartType: 'message',
      spec: messageSpec(input, [`A ${type} chart needs a numeric column`, `(${fields.map((f) => f.name).join(', ')})`]),
    };
  }
  // a series split takes one measure; several measures become series of their own
  if (si >= 0) yi = yi.slice(0, 1);
  const xField = fields[xi]!;
  // bars stand on categories: dates become their text there
  const xTemporal = isTemporalType(xField.data_type) && type !== 'bar' && type !== 'column';
  const xNumeric = isNumericType(xField.data_type);
  const values = rows.map((row) => {
    const o: Record<string, unknown> = {};
    o[key(xi)] = xTemporal ? toWallClockMs(row[xi], timeZone) : xNumeric ? toNumber(row[xi]) : displayCategory(row[xi], xField, timeZone);
    for (const i of yi) o[key(i)] = toNumber(row[i]);
    if (si >= 0) o[key(si)] = displayCategory(row[si], fields[si]!, timeZone);
    return o;
  });
  const folded = yi.length > 1;
  const measure = folded ? '__value' : key(yi[0]!);
  const measureTitle = settings.yTitle ?? (folded ? 'Value' : titleOf(fields[yi[0]!]!));
  const seriesEnc = folded
    ? { field: '__series', type: 'nominal', title: null, sort: yi.map((i) => titleOf(fields[i]!)) }
    : si >= 0
      ? { field: key(si), type: 'nominal', title: titleOf(fields[si]!), sort: null }
      : undefined;
  const transform = folded
    ? [
        { fold: yi.map(key), as: ['__key', '__value'] },
        { calculate: `({${yi.map((i) => `${JSON.stringify(key(i))}: ${JSON.stringify(titleOf(fields[i]!))}`).join(', ')}})[datum.__key]`, as: '__series' },
      ]
    : undefined;
  const xType = xTemporal ? 'temporal' : xNumeric && type !== 'column' && type !== 'bar' ? 'quantitative' : 'ordinal';
  const xEnc: Record<string, unknown> = { field: key(xi), type: xType, title: settings.xTitle ?? titleOf(xField) };
  if (xTemporal) Object.assign(xEnc, { scale: { type: 'utc' }, axis: { labelOverlap: true, tickCount: Math.max(2, Math.floor(input.width / 90)) } });
  if (xType === 'ordinal') Object.assign(xEnc, { sort: null, axis: { labelOverlap: true } });
  const yEnc: Record<string, unknown> = { field: measure, type: 'quantitative', title: measureTitle };
  const spec: Record<string, unknown> = { ...base(input), data: { values } };
  if (transform) spec.transform = transform;
  const stacked = settings.stacked ?? type === 'area';

  switch (type) {
    case 'pie':
    case 'donut': {
      spec.mark = { type: 'arc', innerRadius: type === 'donut' ? Math.floor(Math.min(input.width, input.height) * 0.22) : 0 };
      spec.encoding = {
        theta: { ...yEnc, stack: true },
        color: { ...(folded ? seriesEnc : { field: key(xi), type: 'nominal', sort: null }), title: null, legend: { rowPadding: 2, symbolSize: 60 } },
        order: { field: '__order', type: 'quantitative' },
      };
      // keep the query's order around the circle
      spec.transform = [...(transform ?? []), { window: [{ op: 'row_number', as: '__order' }] }];
      break;
    }
    case 'bar':
    case 'column': {
      const horizontal = type === 'bar';
      const band = { ...xEnc, type: 'ordinal', sort: null, axis: { labelOverlap: true } };
      const measureEnc = { ...yEnc, stack: stacked ? 'zero' : null };
      spec.mark = { type: 'bar', tooltip: false };
      const enc: Record<string, unknown> = horizontal ? { y: band, x: measureEnc } : { x: band, y: measureEnc };
      if (seriesEnc) {
        enc.color = seriesEnc;
        if (!stacked) enc[horizontal ? 'yOffset' : 'xOffset'] = { field: (seriesEnc as { field: string }).field, sort: null };
      }
      spec.encoding = enc;
      break;
    }
    case 'line':
    case 'area': {
      spec.mark = type === 'line' ? { type: 'line', point: rows.length <= 60, strokeWidth: 2 } : { type: 'area', line: true, opacity: 0.75 };
      const enc: Record<string, unknown> = { x: xEnc, y: { ...yEnc, stack: type === 'area' && stacked ? 'zero' : null } };
      if (seriesEnc) enc.color = seriesEnc;
      spec.encoding = enc;
      break;
    }
    case 'scatter': {
      spec.mark = { type: 'point', filled: true, opacity: 0.8, size: 40 };
      // a zero baseline makes no sense for a time axis (vega-lite drops it with a warning)
      const enc: Record<string, unknown> = {
        x: {
          ...xEnc,
          type: xTemporal ? 'temporal' : xNumeric ? 'quantitative' : 'ordinal',
          scale: xTemporal ? { type: 'utc' } : xNumeric ? { zero: false } : {},
        },
        y: { ...yEnc, scale: { zero: false } },
      };
      if (seriesEnc) enc.color = seriesEnc;
      spec.encoding = enc;
      break;
    }
  }
  return { kind: 'vega-lite', chartType: type, spec: spec as unknown as TopLevelSpec };
}

function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

function displayCategory(v: unknown, field: RenderField, timeZone: string): string {
  return v === null || v === undefined ? '(null)' : formatValue(v, field.data_type, timeZone);
}
