import { PassThrough } from 'node:stream';
import {
  csvOptionsOf,
  pictureReport,
  readResultRows,
  resolveDashboardTimeZone,
  slugify,
  type AlertAttachmentRenderer,
  type ExportRenderer,
  type Organization,
  type PictureReportItem,
  type PictureTask,
  type RenderedAttachment,
  type ResultStore,
  type ScheduleAttachmentFormat,
  type ScheduleRenderInput,
  type ScheduleRenderer,
  type StoredResult,
} from '@sightline/domain';
import { CsvRowEncoder } from '@sightline/render';

/** Limits of files that travel by mail (most mail servers refuse messages beyond 20–25 MB). */
export interface MailFileLimits {
  /** Rows a chart or table of a picture reads at most (default 5000, as exports). */
  maxPictureRows: number;
  /** Rows a CSV or Excel attachment holds at most (default 100 000). */
  maxFileRows: number;
  /** Bytes a CSV attachment holds at most (default 10 MB). */
  maxFileBytes: number;
  /** Time limit of one picture render (default 120 s). */
  renderTimeoutMs: number;
}

const DEFAULT_LIMITS: MailFileLimits = { maxPictureRows: 5000, maxFileRows: 100_000, maxFileBytes: 10 * 1024 * 1024, renderTimeoutMs: 120_000 };

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** Rows of a result up to `limit`, counting them (to say in the mail when a file was cut). */
function countingRows(store: ResultStore, result: StoredResult, limit: number, seen: { rows: number }): AsyncIterable<unknown[]> {
  return (async function* () {
    for await (const row of readResultRows(store, result, limit)) {
      seen.rows++;
      yield row;
    }
  })();
}

/** A CSV of a stored result with the organization's CSV settings, bounded in rows and bytes. */
async function resultCsv(
  store: ResultStore,
  result: StoredResult,
  organization: Organization,
  limits: MailFileLimits,
): Promise<{ content: Buffer; note?: string }> {
  const encoder = new CsvRowEncoder(result.fields, csvOptionsOf(organization));
  const parts: Buffer[] = [Buffer.from(encoder.header(), 'utf8')];
  let bytes = parts[0]!.length;
  let rows = 0;
  for await (const row of readResultRows(store, result, limits.maxFileRows)) {
    const line = Buffer.from(encoder.row(row), 'utf8');
    if (bytes + line.length > limits.maxFileBytes) break;
    parts.push(line);
    bytes += line.length;
    rows++;
  }
  const note = rows < result.sqlRows ? `the first ${rows} of ${result.sqlRows} rows` : undefined;
  return { content: Buffer.concat(parts), ...(note ? { note } : {}) };
}

/** Collects what `writeExcel` streams into one buffer. */
async function excelBuffer(renderer: ExportRenderer, sheets: Parameters<ExportRenderer['writeExcel']>[0]): Promise<Buffer> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (c: Buffer) => parts.push(c));
  await renderer.writeExcel(sheets, out);
  out.end();
  return Buffer.concat(parts);
}

/**
 * The attachments of schedule mails, rendered by `@sightline/render` through the export renderer
 * (pictures in a worker thread with a time limit, Excel streamed, CSV with the organization's
 * settings). Nothing here draws: it only feeds stored results to the one renderer.
 */
export function createScheduleRenderer(deps: { resultStore: ResultStore; renderer: ExportRenderer; limits?: Partial<MailFileLimits> }): ScheduleRenderer {
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const sample = async (result: StoredResult): Promise<PictureReportItem['result']> => {
    const rows: unknown[][] = [];
    for await (const row of readResultRows(deps.resultStore, result, limits.maxPictureRows)) rows.push(row);
    return { fields: result.fields, rows, totalRows: result.sqlRows, dataTimestamp: result.dataTimestamp, timeZone: result.timeZone };
  };

  const picture = async (input: ScheduleRenderInput, format: 'png' | 'pdf', theme: 'light' | 'dark'): Promise<Buffer> => {
    const items: PictureReportItem[] = [];
    for (const r of input.reports)
      items.push({ report: pictureReport(r.report), result: r.result && !r.error ? await sample(r.result) : null, error: r.error });
    const timeZone = resolveDashboardTimeZone(input.dashboard, input.organization, input.parameters.tz) ?? input.timeZone;
    const task: PictureTask =
      input.target === 'dashboard'
        ? {
            kind: 'dashboard',
            format,
            options: { theme },
            dashboard: {
              name: input.dashboard.name,
              description: input.dashboard.description,
              colorScheme: input.dashboard.colorScheme,
              timeZone,
              parameters: input.parameters,
              pageWidth: input.pageWidth ?? input.dashboard.defaultPageWidth,
              reports: items,
            },
          }
        : {
            kind: 'report',
            format,
            options: { theme },
            report: {
              ...items[0]!,
              timeZone,
              colorScheme: input.dashboard.colorScheme,
              parameters: input.parameters,
              ...(input.pageWidth ? { width: input.pageWidth } : {}),
            },
          };
    const file = await deps.renderer.renderPicture(task, { signal: new AbortController().signal, timeoutMs: limits.renderTimeoutMs });
    return file.bytes;
  };

  return {
    async render(input: ScheduleRenderInput, format: ScheduleAttachmentFormat): Promise<RenderedAttachment[]> {
      const dark = format.startsWith('dark_');
      const suffix = dark ? '-dark' : '';
      switch (format) {
        case 'pdf':
        case 'dark_pdf':
          return [
            { filename: `${input.baseName}${suffix}.pdf`, contentType: 'application/pdf', content: await picture(input, 'pdf', dark ? 'dark' : 'light') },
          ];
        case 'png':
        case 'dark_png':
        case 'inline_png':
        case 'dark_inline_png':
          return [{ filename: `${input.baseName}${suffix}.png`, contentType: 'image/png', content: await picture(input, 'png', dark ? 'dark' : 'light') }];
        case 'excel': {
          const seen = input.reports.map(() => ({ rows: 0 }));
          const content = await excelBuffer(
            deps.renderer,
            input.reports.map((r, i) => ({
              name: r.report.name,
              fields: r.result?.fields ?? [],
              rows: r.result && !r.error ? countingRows(deps.resultStore, r.result, limits.maxFileRows, seen[i]!) : (async function* () {})(),
              timeZone: r.result?.timeZone ?? input.timeZone,
            })),
          );
          const cut = input.reports.flatMap((r, i) =>
            r.result && !r.error && seen[i]!.rows < r.result.sqlRows ? [`${r.report.name}: the first ${seen[i]!.rows} of ${r.result.sqlRows} rows`] : [],
          );
          return [{ filename: `${input.baseName}.xlsx`, contentType: XLSX, content, ...(cut.length ? { note: cut.join('; ') } : {}) }];
        }
        case 'csv': {
          const out: RenderedAttachment[] = [];
          for (const r of input.reports) {
            if (!r.result || r.error) continue;
            const csv = await resultCsv(deps.resultStore, r.result, input.organization, limits);
            const filename = input.target === 'report' ? `${input.baseName}.csv` : `${input.baseName}-${slugify(r.report.name)}.csv`;
            out.push({ filename, contentType: 'text/csv; charset=utf-8', content: csv.content, ...(csv.note ? { note: csv.note } : {}) });
          }
          return out;
        }
      }
    },
  };
}

/** The attachment of alert mails: the alert query's result as CSV or Excel. */
export function createAlertRenderer(deps: { resultStore: ResultStore; renderer: ExportRenderer; limits?: Partial<MailFileLimits> }): AlertAttachmentRenderer {
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  return {
    async render({ result, format, baseName, organization }) {
      if (format === 'csv') {
        const csv = await resultCsv(deps.resultStore, result, organization, limits);
        return { filename: `${baseName}.csv`, contentType: 'text/csv; charset=utf-8', content: csv.content, ...(csv.note ? { note: csv.note } : {}) };
      }
      const seen = { rows: 0 };
      const content = await excelBuffer(deps.renderer, [
        { name: baseName, fields: result.fields, rows: countingRows(deps.resultStore, result, limits.maxFileRows, seen), timeZone: result.timeZone },
      ]);
      return {
        filename: `${baseName}.xlsx`,
        contentType: XLSX,
        content,
        ...(seen.rows < result.sqlRows ? { note: `the first ${seen.rows} of ${result.sqlRows} rows` } : {}),
      };
    },
  };
}
