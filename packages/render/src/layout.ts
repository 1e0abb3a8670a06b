// Lays out dashboards (on their 12-column grid) and single reports as a Scene.

import { vegaLiteToSvg } from './chart-svg.js';
import { fitText, measureText } from './fonts.js';
import { formatInstant, formatNumber, formatParameters } from './format.js';
import type { Scene, SceneItem, ScenePage } from './scene.js';
import { themeColors, type ThemeColors } from './theme.js';
import type { RenderDashboard, RenderReportItem, RenderTheme, ReportBox } from './types.js';
import { buildVegaLiteSpec, errorVisual, messageSpec, type TableVisual } from './vega-lite-spec.js';

/** Columns of the dashboard grid. */
export const GRID_COLUMNS = 12;
/** Height of one grid row in px (a default 6-row report is 300 px tall). */
export const GRID_ROW_HEIGHT = 50;
/** Default dashboard render width (contract `default_page_width` dflt 1600). */
export const DEFAULT_PAGE_WIDTH = 1600;
/** Smallest and largest accepted render widths in px. */
export const MIN_PAGE_WIDTH = 320;
export const MAX_PAGE_WIDTH = 8000;

const MARGIN = 24;
const GAP = 12;
const CARD_PADDING = 10;
const TITLE_SIZE = 14;
const FOOTER_SIZE = 10;
const TABLE_FONT = 11;
const TABLE_ROW = 20;

interface LayoutContext {
  theme: RenderTheme;
  colors: ThemeColors;
  colorScheme?: string;
  timeZone: string;
  maxTableRows: number;
}

/** Options of the layout functions. */
export interface LayoutOptions {
  theme?: RenderTheme;
  generatedAt?: Date;
  maxTableRows?: number;
  /** Split a tall dashboard into pages at grid rows no report crosses (PDF). */
  paginate?: boolean;
}

/** A render width in range (defaults to `fallback`). */
function clampWidth(width: number | undefined, fallback: number): number {
  const w = Number.isFinite(width) && width! > 0 ? Math.round(width!) : fallback;
  return Math.min(MAX_PAGE_WIDTH, Math.max(MIN_PAGE_WIDTH, w));
}

/** A report's data time line: `Data as of 2026-12-03 04:00 (Europe/Berlin)`. */
function dataTimeText(item: RenderReportItem, timeZone: string): string {
  const ts = item.result?.dataTimestamp;
  if (ts === null || ts === undefined) return item.error ? 'No data (error)' : 'No data yet';
  return `Data as of ${formatInstant(ts instanceof Date ? ts : typeof ts === 'number' ? ts : String(ts), timeZone)} (${timeZone})`;
}

/** Draws one report card into `box`; returns the items and the content area. */
async function drawCard(
  item: RenderReportItem,
  box: { x: number; y: number; width: number; height: number },
  ctx: LayoutContext,
): Promise<{ items: SceneItem[]; content: ReportBox['content'] }> {
  const { colors } = ctx;
  const items: SceneItem[] = [
    { type: 'rect', x: box.x, y: box.y, width: box.width, height: box.height, fill: colors.card, stroke: colors.cardBorder, radius: 6 },
  ];
  const inner = { x: box.x + CARD_PADDING, width: Math.max(1, box.width - 2 * CARD_PADDING) };
  let top = box.y + CARD_PADDING;
  if (item.report.displayNameAsTitle !== false) {
    items.push({
      type: 'text',
      x: inner.x,
      y: top + TITLE_SIZE,
      text: fitText(item.report.name, TITLE_SIZE, inner.width, true),
      size: TITLE_SIZE,
      bold: true,
      color: colors.text,
    });
    top += TITLE_SIZE + 10;
  }
  const footerY = box.y + box.height - CARD_PADDING;
  const attribution = item.report.attribution ? fitText(item.report.attribution, FOOTER_SIZE, inner.width / 2) : '';
  const dataTime = fitText(dataTimeText(item, ctx.timeZone), FOOTER_SIZE, inner.width - (attribution ? measureText(attribution, FOOTER_SIZE) + 12 : 0));
  items.push({ type: 'text', x: inner.x, y: footerY, text: dataTime, size: FOOTER_SIZE, color: colors.mutedText });
  if (attribution)
    items.push({ type: 'text', x: inner.x + inner.width, y: footerY, text: attribution, size: FOOTER_SIZE, color: colors.mutedText, anchor: 'end' });
  const content = { x: inner.x, y: top, width: inner.width, height: Math.max(1, footerY - FOOTER_SIZE - 6 - top) };
  items.push(...(await drawVisual(item, content, ctx)));
  return { items, content };
}

async function drawVisual(item: RenderReportItem, content: ReportBox['content'], ctx: LayoutContext): Promise<SceneItem[]> {
  const size = { width: content.width, height: content.height, theme: ctx.theme, colorScheme: ctx.colorScheme };
  let visual;
  if (item.error) visual = errorVisual(size, item.error);
  else if (!item.result)
    visual = { kind: 'vega-lite' as const, chartType: 'message' as const, spec: messageSpec(size, [item.report.noDataMessage || 'No data']) };
  else {
    visual = buildVegaLiteSpec({
      ...size,
      chartConfiguration: item.report.chartConfiguration,
      result: item.result,
      timeZone: ctx.timeZone,
      noDataMessage: item.report.noDataMessage,
      maxTableRows: ctx.maxTableRows,
    });
  }
  if (visual.kind === 'table') return drawTable(visual, content, ctx, item.report.noDataMessage);
  const svg = await vegaLiteToSvg(visual.spec);
  return [{ type: 'svg', x: content.x, y: content.y, width: content.width, height: content.height, svg }];
}

/**
 * A table as rectangles and texts: a bold header, the rows that fit (at most `maxTableRows`),
 * columns sized to their content and cut with an ellipsis, and "… and N more rows" below.
 */
function drawTable(table: TableVisual, box: ReportBox['content'], ctx: Pick<LayoutContext, 'colors'>, noDataMessage?: string | null): SceneItem[] {
  const { colors } = ctx;
  const items: SceneItem[] = [];
  const cols = table.columns.length;
  if (!cols)
    return [
      {
        type: 'text',
        x: box.x + box.width / 2,
        y: box.y + box.height / 2,
        text: noDataMessage || 'No data',
        size: 13,
        color: colors.placeholder,
        anchor: 'middle',
      },
    ];
  const footerHeight = 18;
  const fit = Math.max(0, Math.floor((box.height - TABLE_ROW - footerHeight) / TABLE_ROW));
  const shown = table.rows.slice(0, fit);
  const rest = table.totalRows - shown.length;
  // natural widths from the header and the shown cells, then shrunk to the box when too wide
  const natural = table.columns.map((c, i) => Math.max(measureText(c.title, TABLE_FONT, true), ...shown.map((r) => measureText(r[i] ?? '', TABLE_FONT))) + 12);
  const total = natural.reduce((a, b) => a + b, 0);
  const widths = total <= box.width ? natural.map((w) => w + (box.width - total) / cols) : shrink(natural, box.width);
  items.push({ type: 'rect', x: box.x, y: box.y, width: box.width, height: TABLE_ROW, fill: colors.tableHeader });
  let x = box.x;
  const cellText = (text: string, i: number, y: number, bold: boolean) => {
    const w = widths[i]!;
    const fitted = fitText(text, TABLE_FONT, w - 12, bold);
    const right = table.columns[i]!.align === 'right';
    items.push({
      type: 'text',
      x: right ? x + w - 6 : x + 6,
      y,
      text: fitted,
      size: TABLE_FONT,
      bold,
      color: bold ? colors.text : colors.text,
      anchor: right ? 'end' : 'start',
    });
  };
  for (let i = 0; i < cols; i++) {
    cellText(table.columns[i]!.title, i, box.y + 14, true);
    x += widths[i]!;
  }
  shown.forEach((row, r) => {
    const y = box.y + TABLE_ROW * (r + 1);
    if (r % 2 === 1) items.push({ type: 'rect', x: box.x, y, width: box.width, height: TABLE_ROW, fill: colors.tableStripe });
    items.push({ type: 'line', x1: box.x, y1: y, x2: box.x + box.width, y2: y, stroke: colors.grid });
    x = box.x;
    for (let i = 0; i < cols; i++) {
      cellText(row[i] ?? '', i, y + 14, false);
      x += widths[i]!;
    }
  });
  const bottom = box.y + TABLE_ROW * (shown.length + 1);
  items.push({ type: 'line', x1: box.x, y1: bottom, x2: box.x + box.width, y2: bottom, stroke: colors.grid });
  if (table.totalRows === 0) {
    items.push({
      type: 'text',
      x: box.x + box.width / 2,
      y: bottom + 16,
      text: noDataMessage || 'No data',
      size: TABLE_FONT,
      color: colors.placeholder,
      anchor: 'middle',
    });
  } else if (rest > 0) {
    items.push({
      type: 'text',
      x: box.x + 6,
      y: bottom + 14,
      text: `… and ${formatNumber(rest)} more row${rest === 1 ? '' : 's'} (${formatNumber(table.totalRows)} in all)`,
      size: TABLE_FONT,
      color: colors.mutedText,
    });
  }
  return items;
}

/** Shrinks column widths to `total`: wide columns give up space first, none below 36 px. */
function shrink(widths: number[], total: number): number[] {
  const min = Math.min(36, total / widths.length);
  let cap = Math.max(...widths);
  const sum = (c: number) => widths.reduce((a, w) => a + Math.min(w, c), 0);
  let lo = min;
  let hi = cap;
  for (let i = 0; i < 30; i++) {
    const mid = (lo + hi) / 2;
    if (sum(mid) > total) hi = mid;
    else lo = mid;
  }
  cap = lo;
  const out = widths.map((w) => Math.max(min, Math.min(w, cap)));
  const excess = out.reduce((a, b) => a + b, 0) - total;
  if (excess > 0) return out.map((w) => w - excess / out.length);
  return out;
}

/** Header lines: title, description, parameters, time zone and generation time. */
function header(
  d: { name: string; description?: string | null; timeZone: string; parameters?: RenderDashboard['parameters'] },
  width: number,
  colors: ThemeColors,
  generatedAt: Date,
): { items: SceneItem[]; height: number } {
  const items: SceneItem[] = [];
  let y = MARGIN + 22;
  const inner = width - 2 * MARGIN;
  items.push({ type: 'text', x: MARGIN, y, text: fitText(d.name, 22, inner, true), size: 22, bold: true, color: colors.text });
  if (d.description) {
    y += 20;
    items.push({ type: 'text', x: MARGIN, y, text: fitText(d.description, 12, inner), size: 12, color: colors.mutedText });
  }
  const facts = formatParameters(d.parameters, d.timeZone).map((p) => `${p.label}: ${p.value}`);
  facts.push(`Time zone: ${d.timeZone}`, `Generated ${formatInstant(generatedAt, d.timeZone)}`);
  // as many facts per line as fit, separated by middle dots
  let line = '';
  const lines: string[] = [];
  for (const fact of facts) {
    const next = line ? `${line}   ·   ${fact}` : fact;
    if (line && measureText(next, 12) > inner) {
      lines.push(line);
      line = fact;
    } else line = next;
  }
  if (line) lines.push(line);
  for (const l of lines.slice(0, 6)) {
    y += 18;
    items.push({ type: 'text', x: MARGIN, y, text: fitText(l, 12, inner), size: 12, color: colors.mutedText });
  }
  return { items, height: y + 14 };
}

/**
 * Lays out a dashboard: a header (title, parameters, time zone, time of generation), then each
 * report as a card at its grid position and size (12 columns over the page width, 50 px per grid
 * row). With `paginate`, pages break only at grid rows no report crosses.
 */
export async function layoutDashboard(d: RenderDashboard, options: LayoutOptions = {}): Promise<Scene> {
  const theme = options.theme ?? 'light';
  const colors = themeColors(theme);
  const width = clampWidth(d.pageWidth, DEFAULT_PAGE_WIDTH);
  const ctx: LayoutContext = { theme, colors, colorScheme: d.colorScheme, timeZone: d.timeZone, maxTableRows: options.maxTableRows ?? 50 };
  const head = header(d, width, colors, options.generatedAt ?? new Date());
  const colWidth = (width - 2 * MARGIN + GAP) / GRID_COLUMNS;
  const placed = d.reports.map((item, index) => {
    const r = item.report;
    const column = clampInt(r.column, 1, GRID_COLUMNS, 1);
    const span = clampInt(r.width, 1, GRID_COLUMNS - column + 1, 6);
    return { item, index, row: clampInt(r.row, 1, 100_000, 1), column, span, rows: clampInt(r.height, 1, 1_000, 6) };
  });
  const endRow = placed.reduce((m, p) => Math.max(m, p.row + p.rows), 1);
  // page bands [startRow, endRow) in grid rows
  const bands: Array<[number, number]> = [];
  if (!options.paginate) bands.push([1, endRow]);
  else {
    const pageHeight = Math.round(width * Math.SQRT2);
    const cuts = new Set<number>([endRow]);
    for (let r = 2; r < endRow; r++) if (!placed.some((p) => p.row < r && r < p.row + p.rows)) cuts.add(r);
    const sorted = [...cuts].sort((a, b) => a - b);
    let start = 1;
    while (start < endRow) {
      const room = pageHeight - (bands.length ? MARGIN * 2 : head.height + MARGIN);
      const fits = sorted.filter((c) => c > start && (c - start) * GRID_ROW_HEIGHT <= room);
      const cut = fits.length ? fits[fits.length - 1]! : sorted.find((c) => c > start)!;
      bands.push([start, cut]);
      start = cut;
    }
    if (!bands.length) bands.push([1, 1]);
  }
  const pages: ScenePage[] = [];
  const boxes: ReportBox[] = [];
  for (const [pageIndex, [from, to]] of bands.entries()) {
    const top = pageIndex === 0 ? head.height : MARGIN;
    const items: SceneItem[] = pageIndex === 0 ? [...head.items] : [];
    for (const p of placed.filter((q) => q.row >= from && q.row < to)) {
      const box = {
        x: MARGIN + (p.column - 1) * colWidth,
        y: top + (p.row - from) * GRID_ROW_HEIGHT,
        width: p.span * colWidth - GAP,
        height: p.rows * GRID_ROW_HEIGHT - GAP,
      };
      const card = await drawCard(p.item, box, ctx);
      items.push(...card.items);
      boxes.push({ index: p.index, name: p.item.report.name, ...box, content: card.content, page: pageIndex });
    }
    const contentHeight = top + (to - from) * GRID_ROW_HEIGHT + MARGIN - GAP;
    // pages of a PDF are A-series shaped, but the last one ends with its content
    const last = pageIndex === bands.length - 1;
    const height = options.paginate && !last ? Math.max(Math.round(width * Math.SQRT2), contentHeight) : Math.max(contentHeight, head.height + MARGIN);
    pages.push({ width, height: Math.ceil(height), background: colors.background, items });
  }
  boxes.sort((a, b) => a.index - b.index);
  return { pages, boxes };
}

/** Options of a single-report layout. */
export interface ReportLayoutOptions extends LayoutOptions {
  timeZone: string;
  colorScheme?: string;
  parameters?: RenderDashboard['parameters'];
  /** Page size in px (default: the report's `default_page_width` × `default_page_height`, 800 × 600). */
  width?: number;
  height?: number;
}

/** Lays out one report on its own page: the chart (or table) with its title, data time and time zone. */
export async function layoutReport(item: RenderReportItem, options: ReportLayoutOptions): Promise<Scene> {
  const theme = options.theme ?? 'light';
  const colors = themeColors(theme);
  const width = clampWidth(options.width ?? item.report.defaultPageWidth, 800);
  const height = Math.min(MAX_PAGE_WIDTH, Math.max(200, Math.round(options.height ?? item.report.defaultPageHeight ?? (width * 3) / 4)));
  const ctx: LayoutContext = { theme, colors, colorScheme: options.colorScheme, timeZone: options.timeZone, maxTableRows: options.maxTableRows ?? 200 };
  const items: SceneItem[] = [];
  const facts = formatParameters(options.parameters, options.timeZone).map((p) => `${p.label}: ${p.value}`);
  let top = 12;
  if (facts.length) {
    items.push({ type: 'text', x: 12, y: top + 11, text: fitText(facts.join('   ·   '), 11, width - 24), size: 11, color: colors.mutedText });
    top += 18;
  }
  const box = { x: 12, y: top, width: width - 24, height: height - top - 12 };
  const card = await drawCard(item, box, ctx);
  items.push(...card.items);
  return {
    pages: [{ width, height, background: colors.background, items }],
    boxes: [{ index: 0, name: item.report.name, ...box, content: card.content, page: 0 }],
  };
}

function clampInt(v: number | undefined, min: number, max: number, fallback: number): number {
  const n = Number.isInteger(v) ? v! : fallback;
  return Math.min(max, Math.max(min, n));
}
