import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import pixelmatch from 'pixelmatch';
import { compile } from 'vega-lite';
import {
  buildVegaLiteSpec,
  CsvRowEncoder,
  renderDashboard,
  renderInWorker,
  renderReport,
  RenderError,
  RenderPool,
  themeColors,
  writeExcel,
  type RenderResult,
  type VegaLiteVisual,
} from '../src/index.js';
import { decodePng, hexColor, inkRatio, pdfText, pixel, readXlsx } from './decode.js';
import { monthlyResult, sampleDashboard, statusResult, tableResult } from './fixtures.js';

const GENERATED_AT = new Date('2026-12-03T05:00:00Z');
const size = { width: 400, height: 250 };

function markOf(visual: VegaLiteVisual): string {
  const spec = visual.spec as { mark?: string | { type: string }; layer?: Array<{ mark: { type: string } }> };
  const mark = spec.mark ?? spec.layer?.[0]?.mark;
  return typeof mark === 'string' ? mark : mark!.type;
}

describe('buildVegaLiteSpec', () => {
  it.each([
    ['bar', 'bar'],
    ['column', 'bar'],
    ['line', 'line'],
    ['area', 'area'],
    ['pie', 'arc'],
    ['donut', 'arc'],
    ['scatter', 'point'],
    ['number', 'text'],
    ['kpi', 'text'],
  ])('%s becomes a valid Vega-Lite %s spec', (type, mark) => {
    const visual = buildVegaLiteSpec({ ...size, chartConfiguration: { type }, result: monthlyResult() });
    expect(visual.kind).toBe('vega-lite');
    expect(markOf(visual as VegaLiteVisual)).toBe(mark);
    // vega-lite compiles it (throws on an invalid spec)
    expect(compile((visual as VegaLiteVisual).spec).spec.marks?.length).toBeGreaterThan(0);
  });

  it('inlines the data keyed by column position, dates as wall-clock UTC milliseconds', () => {
    const visual = buildVegaLiteSpec({ ...size, chartConfiguration: { type: 'line', x: 'month', y: 'revenue' }, result: monthlyResult() }) as VegaLiteVisual;
    const values = (visual.spec as { data: { values: Array<Record<string, unknown>> } }).data.values;
    expect(values).toHaveLength(12);
    expect(values[0]).toEqual({ f0: Date.UTC(2026, 0, 1), f1: 1000 });
  });

  it('shows zoned date-times in the requested time zone', () => {
    const result: RenderResult = {
      fields: [
        { name: 't', data_type: 'DateTime' },
        { name: 'v', data_type: 'Integer' },
      ],
      rows: [['2026-07-01T22:30:00Z', 1]],
      totalRows: 1,
    };
    const visual = buildVegaLiteSpec({ ...size, chartConfiguration: { type: 'line' }, result, timeZone: 'Europe/Berlin' }) as VegaLiteVisual;
    expect((visual.spec as { data: { values: Array<Record<string, unknown>> } }).data.values[0]!.f0).toBe(Date.UTC(2026, 6, 2, 0, 30));
  });

  it('turns several measures into series', () => {
    const visual = buildVegaLiteSpec({
      ...size,
      chartConfiguration: { type: 'column', x: 'month', y: ['revenue', 'orders'] },
      result: monthlyResult(),
    }) as VegaLiteVisual;
    const spec = visual.spec as unknown as { transform: Array<Record<string, unknown>>; encoding: Record<string, { field?: string }> };
    expect(spec.transform[0]).toEqual({ fold: ['f1', 'f2'], as: ['__key', '__value'] });
    expect(spec.encoding.color!.field).toBe('__series');
    expect(spec.encoding.xOffset!.field).toBe('__series');
  });

  it('an empty configuration is a table of the first rows with the total', () => {
    const visual = buildVegaLiteSpec({ ...size, chartConfiguration: {}, result: tableResult(5, 99), maxTableRows: 3 });
    expect(visual).toEqual({
      kind: 'table',
      chartType: 'table',
      columns: [
        { title: 'id', align: 'right' },
        { title: 'name', align: 'left' },
        { title: 'amount', align: 'right' },
        { title: 'created_at', align: 'left' },
      ],
      rows: [
        ['1', 'Customer 1', '0', '2026-11-01 10:15'],
        ['2', 'Customer 2', '19.25', '2026-11-02 10:15'],
        ['3', 'Customer 3', '38.5', '2026-11-03 10:15'],
      ],
      totalRows: 99,
    });
  });

  it('an unknown chart type gets a placeholder that names it', () => {
    const visual = buildVegaLiteSpec({ ...size, chartConfiguration: { type: 'Sankey' }, result: statusResult() }) as VegaLiteVisual;
    expect(visual.chartType).toBe('placeholder');
    expect(JSON.stringify(visual.spec)).toContain('Chart type \\"sankey\\" is not rendered yet');
  });

  it('no rows give the no-data message; no numeric column says what is missing', () => {
    const empty = buildVegaLiteSpec({
      ...size,
      chartConfiguration: { type: 'bar' },
      result: { ...statusResult(), rows: [], totalRows: 0 },
      noDataMessage: 'Nothing sold',
    }) as VegaLiteVisual;
    expect(JSON.stringify(empty.spec)).toContain('Nothing sold');
    const text = buildVegaLiteSpec({
      ...size,
      chartConfiguration: { type: 'line' },
      result: { fields: [{ name: 'a', data_type: 'String' }], rows: [['x']], totalRows: 1 },
    }) as VegaLiteVisual;
    expect(text.chartType).toBe('message');
    expect(JSON.stringify(text.spec)).toContain('needs a numeric column');
  });

  it('odd configurations fall back instead of throwing', () => {
    for (const configuration of [null, [], { type: 42 }, { type: 'bar', x: 'nope', y: ['nope'] }, { y: 'revenue,orders', type: 'line', series: 'zzz' }]) {
      const visual = buildVegaLiteSpec({ ...size, chartConfiguration: configuration as never, result: monthlyResult() });
      if (visual.kind === 'vega-lite') expect(() => compile(visual.spec)).not.toThrow();
    }
  });
});

describe('renderDashboard', () => {
  it('PNG: the declared size, and ink inside every report on its grid position', async () => {
    const file = await renderDashboard(sampleDashboard(), 'png', { generatedAt: GENERATED_AT });
    const png = decodePng(file.bytes);
    expect(file.contentType).toBe('image/png');
    expect([png.width, png.height]).toEqual([file.width, file.height]);
    expect(png.width).toBe(1600);
    const card = hexColor(themeColors('light').card);
    expect(file.boxes).toHaveLength(9);
    for (const box of file.boxes) expect({ name: box.name, ink: inkRatio(png, box.content, card) > 0.01 }).toEqual({ name: box.name, ink: true });
    // the grid: report 1 spans 8 of 12 columns from the left, report 2 starts at column 9
    const [first, second] = file.boxes;
    expect(first!.x).toBe(24);
    expect(second!.x).toBeCloseTo(24 + 8 * ((1600 - 48 + 12) / 12), 5);
    expect(first!.width / second!.width).toBeCloseTo((8 * 130.33 - 12) / (4 * 130.33 - 12), 1);
    // page background outside the cards
    expect(pixel(png, 5, 5).slice(0, 3)).toEqual(hexColor(themeColors('light').background));
  });

  it('dark variant uses the dark theme', async () => {
    const file = await renderDashboard(sampleDashboard(), 'png', { theme: 'dark', generatedAt: GENERATED_AT });
    const png = decodePng(file.bytes);
    expect(pixel(png, 5, 5).slice(0, 3)).toEqual(hexColor(themeColors('dark').background));
    for (const box of file.boxes) expect(inkRatio(png, box.content, hexColor(themeColors('dark').card))).toBeGreaterThan(0.01);
  });

  it('PDF: parses, holds the title, parameters, report names and table values as text', async () => {
    const file = await renderDashboard(sampleDashboard(), 'pdf', { generatedAt: GENERATED_AT });
    expect(file.bytes.subarray(0, 5).toString()).toBe('%PDF-');
    const { pages, pageSizes } = await pdfText(file.bytes);
    const text = pages.join(' ');
    for (const name of sampleDashboard().reports.map((r) => r.report.name)) expect(text).toContain(name);
    expect(text).toContain('Sales overview');
    expect(text).toContain('Time zone: Europe/Berlin');
    expect(text).toContain('region: EU, US');
    expect(text).toContain('Customer 3');
    expect(text).toContain('2026-11-02 11:15');
    expect(text).toContain('and 1,227 more rows');
    expect(text).toContain('Data as of 2026-12-03 05:00 (Europe/Berlin)');
    expect(text).toContain('2,416');
    // 1600 px wide = 1200 pt
    expect(pageSizes[0]![0]).toBeCloseTo(1200, 0);
  });

  it('PDF of a tall dashboard breaks pages between grid rows', async () => {
    const base = sampleDashboard();
    const reports = Array.from({ length: 10 }, (_, i) => ({
      report: { name: `Report ${i + 1}`, chartConfiguration: { type: 'column' }, row: 1 + i * 6, column: 1, width: 12, height: 6 },
      result: statusResult(),
    }));
    const file = await renderDashboard({ ...base, reports }, 'pdf', { generatedAt: GENERATED_AT });
    const { pages } = await pdfText(file.bytes);
    expect(pages.length).toBeGreaterThan(1);
    // every report is whole on one page
    for (let i = 1; i <= 10; i++) expect(pages.filter((p) => new RegExp(`Report ${i}\\b`).test(p))).toHaveLength(1);
  });

  it('page width comes from the request', async () => {
    const file = await renderDashboard(sampleDashboard({ pageWidth: 1000 }), 'png', { generatedAt: GENERATED_AT });
    expect(decodePng(file.bytes).width).toBe(1000);
  });
});

describe('renderReport', () => {
  it('PNG of one report at its default page size', async () => {
    const file = await renderReport(
      {
        report: { name: 'Revenue', chartConfiguration: { type: 'line' }, defaultPageWidth: 800, defaultPageHeight: 600 },
        result: monthlyResult(),
        timeZone: 'UTC',
      },
      'png',
    );
    const png = decodePng(file.bytes);
    expect([png.width, png.height]).toEqual([800, 600]);
    expect(inkRatio(png, file.boxes[0]!.content, hexColor(themeColors('light').card))).toBeGreaterThan(0.01);
  });

  it('an error is shown instead of the chart', async () => {
    const file = await renderReport({ report: { name: 'Broken' }, error: 'relation "nope" does not exist', timeZone: 'UTC' }, 'pdf');
    expect((await pdfText(file.bytes)).pages[0]).toContain('relation "nope" does not exist');
  });
});

describe('golden images', () => {
  const dir = fileURLToPath(new URL('./golden/', import.meta.url));
  const cases: Array<[string, () => Promise<Buffer>]> = [
    ['dashboard-light.png', async () => (await renderDashboard(sampleDashboard(), 'png', { generatedAt: GENERATED_AT })).bytes],
    ['dashboard-dark.png', async () => (await renderDashboard(sampleDashboard(), 'png', { theme: 'dark', generatedAt: GENERATED_AT })).bytes],
    ['report-table.png', async () => (await renderReport({ report: { name: 'Latest customers' }, result: tableResult(40, 40), timeZone: 'UTC' }, 'png')).bytes],
  ];
  it.each(cases)('%s matches its reference (≤ 0.2 %% of pixels differ)', async (name, render) => {
    const actual = decodePng(await render());
    const path = `${dir}${name}`;
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path, PNG.sync.write(actual));
      if (process.env.UPDATE_GOLDEN !== '1') throw new Error(`golden image ${name} was missing and has been written; run again`);
    }
    const expected = decodePng(readFileSync(path));
    expect([actual.width, actual.height]).toEqual([expected.width, expected.height]);
    const differing = pixelmatch(actual.data, expected.data, undefined, actual.width, actual.height, { threshold: 0.1 });
    expect(differing / (actual.width * actual.height)).toBeLessThanOrEqual(0.002);
  });
});

describe('writeExcel', () => {
  it('writes typed cells that exceljs reads back: numbers, dates, booleans, one sheet per report', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    async function* rows() {
      yield [1, 'a', 1.5, '2026-03-01', '2026-03-01T12:30:00Z', true, '12345678901234567890', { k: 1 }];
      yield [2, null, -0.25, '2026-03-02', '2026-03-02T00:00:00', false, null, null];
    }
    const fields = [
      { name: 'id', data_type: 'Integer' },
      { name: 'label', data_type: 'String' },
      { name: 'x', data_type: 'Float' },
      { name: 'd', data_type: 'Date' },
      { name: 'ts', data_type: 'DateTime' },
      { name: 'ok', data_type: 'Boolean' },
      { name: 'big', data_type: 'BigInt' },
      { name: 'j', data_type: 'JSON' },
    ];
    await writeExcel(
      [
        { name: 'Orders: by/day?', fields, rows: rows(), timeZone: 'Europe/Berlin' },
        { name: 'Orders: by/day?', fields: [{ name: 'n', data_type: 'Integer' }], rows: [[7]], timeZone: 'UTC' },
      ],
      out,
    );
    const sheets = await readXlsx(Buffer.concat(chunks));
    expect(sheets.map((s) => s.name)).toEqual(['Orders  by day', 'Orders  by day 2']);
    expect(sheets[0]!.rows).toEqual([
      ['id', 'label', 'x', 'd', 'ts', 'ok', 'big', 'j'],
      [1, 'a', 1.5, new Date(Date.UTC(2026, 2, 1)), new Date(Date.UTC(2026, 2, 1, 13, 30)), true, 12345678901234567000, '{"k":1}'],
      [2, null, -0.25, new Date(Date.UTC(2026, 2, 2)), new Date(Date.UTC(2026, 2, 2)), false, null, null],
    ]);
    expect(sheets[1]!.rows).toEqual([['n'], [7]]);
  });
});

describe('CsvRowEncoder', () => {
  it('applies separators and quoting', () => {
    const fields = [
      { name: 'a;b', data_type: 'String' },
      { name: 'n', data_type: 'Float' },
    ];
    expect(
      new CsvRowEncoder(fields, { columnSeparator: ';', decimalSeparator: ',', quoteStyle: 'necessary' }).header() +
        new CsvRowEncoder(fields, { columnSeparator: ';', decimalSeparator: ',', quoteStyle: 'necessary' }).rows([
          ['x"y', 1.5],
          [null, null],
        ]),
    ).toBe('"a;b";n\r\n"x""y";1,5\r\n;\r\n');
    expect(new CsvRowEncoder(fields, { columnSeparator: ',', decimalSeparator: '.', quoteStyle: 'always' }).row(['', 2])).toBe('"","2"\r\n');
    // a decimal comma in a comma-separated file is quoted; big decimals stay exact text
    expect(new CsvRowEncoder(fields, { columnSeparator: ',', decimalSeparator: ',', quoteStyle: 'necessary' }).row(['a', 1.5])).toBe('a,"1,5"\r\n');
    expect(new CsvRowEncoder(fields, { columnSeparator: '\t', decimalSeparator: '/', quoteStyle: 'necessary' }).row(['a\tb', '12345678901234567890.5'])).toBe(
      '"a\tb"\t12345678901234567890/5\r\n',
    );
    expect(
      new CsvRowEncoder([
        { name: 'j', data_type: 'JSON' },
        { name: 'b', data_type: 'Boolean' },
      ]).row([{ a: [1, 'x,y'] }, true]),
    ).toBe('"{""a"":[1,""x,y""]}",true\r\n');
  });
});

describe('renderInWorker', () => {
  it('renders in a worker thread', async () => {
    const file = await renderInWorker({ kind: 'dashboard', dashboard: sampleDashboard(), format: 'png', options: { generatedAt: GENERATED_AT } });
    const png = decodePng(file.bytes);
    expect(png.width).toBe(1600);
    expect(file.boxes).toHaveLength(9);
  });

  it('a thrown error comes back as a failed render with its message', async () => {
    const bad = {
      kind: 'report',
      report: { report: { name: 'x', chartConfiguration: { type: 'line' } }, result: { fields: null }, timeZone: 'UTC' },
      format: 'png',
    } as never;
    await expect(renderInWorker(bad)).rejects.toMatchObject({ reason: 'failed' });
  });

  it('aborting stops the render', async () => {
    const controller = new AbortController();
    const pending = renderInWorker({ kind: 'dashboard', dashboard: sampleDashboard(), format: 'pdf' }, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toEqual(new RenderError('The export was cancelled', 'cancelled'));
  });

  it('the time limit stops the render; the pool goes on with a new thread', async () => {
    const pool = new RenderPool({ maxThreads: 1 });
    try {
      await expect(pool.render({ kind: 'dashboard', dashboard: sampleDashboard(), format: 'pdf' }, { timeoutMs: 0 })).rejects.toMatchObject({
        reason: 'timeout',
      });
      const first = await pool.render({ kind: 'report', report: { report: { name: 'A' }, result: statusResult(), timeZone: 'UTC' }, format: 'png' });
      // the same (warm) thread renders the next task
      const second = await pool.render({
        kind: 'report',
        report: { report: { name: 'B', chartConfiguration: { type: 'pie' } }, result: statusResult(), timeZone: 'UTC' },
        format: 'svg',
      });
      expect(decodePng(first.bytes).width).toBe(800);
      expect(second.bytes.toString()).toContain('<svg');
    } finally {
      await pool.close();
    }
  });
});
