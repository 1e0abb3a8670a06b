// @sightline/render: reports and dashboards as pictures (SVG, PNG, PDF) and data files (Excel,
// CSV). Pure functions of (report, result, theme, size); the only I/O is reading the bundled font.

export * from './types.js';
export * from './theme.js';
export * from './format.js';
export * from './vega-lite-spec.js';
export { vegaLiteToSvg } from './chart-svg.js';
export { FONT_FILES, measureText } from './fonts.js';
export { layoutDashboard, layoutReport, DEFAULT_PAGE_WIDTH, GRID_ROW_HEIGHT, GRID_COLUMNS, MIN_PAGE_WIDTH, MAX_PAGE_WIDTH } from './layout.js';
export { pageToSvg, svgToPng, sceneToPdf } from './backends.js';
export type { Scene, ScenePage, SceneItem } from './scene.js';
export { renderDashboard, renderReport, PICTURE_CONTENT_TYPES, type ReportRenderInput } from './render.js';
export { writeExcel, excelCellValue, EXCEL_MAX_ROWS, type ExcelSheet } from './excel.js';
export { CsvRowEncoder, DEFAULT_CSV_FORMAT, type CsvFormat } from './csv.js';
export { renderInWorker, RenderPool, RenderError, type RenderTask, type WorkerRenderOptions, type RenderPoolOptions } from './worker/render-task.js';
