// Entry points for pictures: a dashboard or a report as SVG, PNG or PDF.

import { pageToSvg, sceneToPdf, svgToPng } from './backends.js';
import { layoutDashboard, layoutReport } from './layout.js';
import type { Scene } from './scene.js';
import type { PictureFormat, PictureOptions, RenderDashboard, RenderedFile, RenderParameters, RenderReportItem } from './types.js';

/** Content types of the picture formats. */
export const PICTURE_CONTENT_TYPES: Readonly<Record<PictureFormat, string>> = { svg: 'image/svg+xml', png: 'image/png', pdf: 'application/pdf' };

async function draw(scene: Scene, format: PictureFormat, title: string): Promise<RenderedFile> {
  const first = scene.pages[0]!;
  const common = { contentType: PICTURE_CONTENT_TYPES[format], extension: format, width: first.width, height: first.height, boxes: scene.boxes };
  if (format === 'pdf') return { ...common, bytes: await sceneToPdf(scene, { title }) };
  const svg = pageToSvg(first);
  return { ...common, bytes: format === 'svg' ? Buffer.from(svg) : svgToPng(svg) };
}

/**
 * Renders a dashboard on its 12-column grid (title, parameters, time zone, each report's data time).
 * PNG and SVG are one picture of the whole dashboard; PDF breaks pages only between grid rows that
 * no report crosses. Width: `dashboard.pageWidth` (default 1600 px; PDF 1 px = 0.75 pt).
 */
export async function renderDashboard(dashboard: RenderDashboard, format: PictureFormat, options: PictureOptions = {}): Promise<RenderedFile> {
  const scene = await layoutDashboard(dashboard, {
    theme: options.theme,
    generatedAt: options.generatedAt,
    maxTableRows: options.maxTableRows,
    paginate: format === 'pdf',
  });
  return draw(scene, format, dashboard.name);
}

/** Input of `renderReport`: the report, its data, and how to show dates and parameters. */
export interface ReportRenderInput extends RenderReportItem {
  timeZone: string;
  colorScheme?: string;
  parameters?: RenderParameters | null;
  /** Page size in px (default: the report's `default_page_width` × `default_page_height`). */
  width?: number;
  height?: number;
}

/** Renders one report on its own page (its chart or table, title, data time and time zone). */
export async function renderReport(input: ReportRenderInput, format: PictureFormat, options: PictureOptions = {}): Promise<RenderedFile> {
  const scene = await layoutReport(input, {
    ...options,
    timeZone: input.timeZone,
    colorScheme: input.colorScheme,
    parameters: input.parameters,
    width: input.width,
    height: input.height,
  });
  return draw(scene, format, input.report.name);
}
