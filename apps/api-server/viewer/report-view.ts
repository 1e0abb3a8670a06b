// One report box: loading, error and ready states inside a box whose size the grid fixes (no jumps).

import type { ViewerReport } from './config.js';
import type { RenderedChart } from './chart.js';
import { buildVisual, type ResultData, type TableVisual } from './visual.js';

export type ReportState = 'loading' | 'ready' | 'error';

/** The data the box should show: a data key and its timestamp. */
export interface Wanted {
  dataKey: string;
  dataTimestamp: number;
  token: string;
}

let chartModule: Promise<typeof import('./chart.js')> | undefined;
function loadCharts(): Promise<typeof import('./chart.js')> {
  chartModule ??= import('./chart.js');
  return chartModule;
}

function tableElement(visual: TableVisual, rawRows: unknown[][]): HTMLElement {
  const wrap = document.createElement('div');
  wrap.className = 'sl-table-wrap';
  const table = document.createElement('table');
  table.className = 'sl-table';
  const head = table.createTHead().insertRow();
  for (const column of visual.columns) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = column.title;
    if (column.align === 'right') th.className = 'sl-num';
    head.appendChild(th);
  }
  const body = table.createTBody();
  visual.rows.forEach((cells, r) => {
    const tr = body.insertRow();
    cells.forEach((text, c) => {
      const td = tr.insertCell();
      td.textContent = text;
      // the stored value, for machines (tests, scrapers) that want it unformatted
      td.dataset.value = JSON.stringify(rawRows[r]?.[c] ?? null);
      if (visual.columns[c]?.align === 'right') td.className = 'sl-num';
    });
  });
  wrap.appendChild(table);
  if (visual.totalRows > visual.rows.length) {
    const more = document.createElement('p');
    more.className = 'sl-more';
    const rest = visual.totalRows - visual.rows.length;
    more.textContent = `and ${rest.toLocaleString('en-US')} more row${rest === 1 ? '' : 's'}`;
    wrap.appendChild(more);
  }
  return wrap;
}

/** The view of one report on the page. */
export class ReportView {
  private shown: { dataKey: string; dataTimestamp: number } | undefined;
  private wanted: Wanted | undefined;
  private chart: RenderedChart | undefined;

  constructor(
    readonly report: ViewerReport,
    private readonly element: HTMLElement,
    private readonly fetchResult: (wanted: Wanted) => Promise<ResultData>,
    private readonly colorScheme: string,
  ) {}

  private get body(): HTMLElement {
    return this.element.querySelector<HTMLElement>('.sl-report-body')!;
  }

  private setState(state: ReportState): void {
    this.element.dataset.state = state;
    this.element.setAttribute('aria-busy', state === 'loading' ? 'true' : 'false');
  }

  private message(text: string, kind: 'loading' | 'error' | 'empty'): void {
    this.chart?.finalize();
    this.chart = undefined;
    const p = document.createElement('p');
    p.className = `sl-message sl-${kind}`;
    p.textContent = text;
    this.body.replaceChildren(p);
  }

  /** Waiting for a query (first load, or new parameters). Content of other parameters is hidden. */
  loading(): void {
    this.wanted = undefined;
    if (this.element.dataset.state === 'loading' && !this.shown) return;
    this.shown = undefined;
    delete this.element.dataset.dataKey;
    this.setState('loading');
    this.message('Loading…', 'loading');
  }

  /** The report cannot show data (query error, compile error, session ended). */
  error(text: string): void {
    this.wanted = undefined;
    this.shown = undefined;
    delete this.element.dataset.dataKey;
    this.setState('error');
    this.message(text, 'error');
  }

  /** Marks a refresh of data that is already shown (stale data stays until the new result is there). */
  refreshing(running: boolean): void {
    this.element.classList.toggle('sl-refreshing', running);
  }

  /** Shows the result of `wanted` unless it already does. */
  async show(wanted: Wanted): Promise<void> {
    if (this.shown && this.shown.dataKey === wanted.dataKey && this.shown.dataTimestamp === wanted.dataTimestamp) return;
    if (this.wanted && this.wanted.dataKey === wanted.dataKey && this.wanted.dataTimestamp === wanted.dataTimestamp) return;
    if (!this.shown || this.shown.dataKey !== wanted.dataKey) {
      this.shown = undefined;
      this.setState('loading');
      this.message('Loading…', 'loading');
    }
    this.wanted = wanted;
    let result: ResultData;
    try {
      result = await this.fetchResult(wanted);
    } catch {
      if (this.wanted === wanted) this.error('The data could not be loaded');
      return;
    }
    if (this.wanted !== wanted) return;
    await this.render(result);
    if (this.wanted !== wanted) return;
    this.wanted = undefined;
    this.shown = { dataKey: wanted.dataKey, dataTimestamp: wanted.dataTimestamp };
    this.element.dataset.dataKey = wanted.dataKey;
    this.element.dataset.dataTimestamp = String(wanted.dataTimestamp);
    this.setState('ready');
  }

  private async render(result: ResultData): Promise<void> {
    const body = this.body;
    if (!result.rows.length && this.report.noDataMessage) {
      this.message(this.report.noDataMessage, 'empty');
      return;
    }
    const visual = buildVisual(this.report, result, { width: body.clientWidth, height: body.clientHeight }, this.colorScheme);
    if (visual.kind === 'table') {
      this.chart?.finalize();
      this.chart = undefined;
      body.replaceChildren(tableElement(visual, result.rows));
      return;
    }
    const { renderChart } = await loadCharts();
    const target = document.createElement('div');
    target.className = 'sl-chart';
    target.dataset.chartType = visual.chartType;
    this.chart?.finalize();
    this.chart = undefined;
    // attached before drawing: the spec may size itself to the box
    body.replaceChildren(target);
    this.chart = await renderChart(target, visual.spec);
  }
}
