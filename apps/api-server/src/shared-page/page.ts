import { createHash } from 'node:crypto';
import { FIXED_AGGREGATIONS, type Filter, type FilterScalar, type InputParameters, type SharedDashboardPage } from '@sightline/domain';
import type { ViewerConfig } from '../../viewer/config.js';
import type { BuiltAssets } from './assets.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** JSON safe inside `<script type="application/json">` (no `</script>`, no HTML comment openers). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** `'sha256-…'` source of an inline style for the Content-Security-Policy. */
function styleHash(css: string): string {
  return `'sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}'`;
}

/** What the Content-Security-Policy of a page allows beyond `'self'`. */
export interface PolicyOptions {
  /** Hash sources of the page's inline `<style>` blocks. */
  styleHashes: string[];
  /** Origins the page fetches from besides its own (the data server). */
  connect?: string[];
  /** Origins allowed to frame the page; empty = none. */
  frameAncestors: readonly string[];
  /** Whether the page runs Sightline's script. */
  scripts: boolean;
}

/**
 * A strict Content-Security-Policy: nothing but this server's own files, no inline script, no eval,
 * inline styles only by hash, no plugins, no base-URI or form hijacking, framing only by the link's
 * origins.
 */
export function contentSecurityPolicy(options: PolicyOptions): string {
  const directives = [
    "default-src 'none'",
    options.scripts ? "script-src 'self'" : "script-src 'none'",
    `style-src 'self' ${options.styleHashes.join(' ')}`.trim(),
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${options.scripts ? ["'self'", ...(options.connect ?? [])].join(' ') : "'none'"}`,
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
    `frame-ancestors ${options.frameAncestors.length ? options.frameAncestors.join(' ') : "'none'"}`,
  ];
  return directives.join('; ');
}

/** The initial selection of the page: the dashboard's defaults, overridden by URL parameters (Cluvio's `aggregation`, `timerange`, `filters`). */
export interface InitialSelection {
  timerange?: string;
  aggregation?: string;
  tz?: string;
  /** Selected values by variable name. */
  filters: Map<string, FilterScalar[]>;
}

const TIMERANGE_PRESETS: Array<[string, string]> = [
  ['~', 'All time'],
  ['thisfull_day', 'Today'],
  ['7_full_day', 'Last 7 days'],
  ['30_full_day', 'Last 30 days'],
  ['thisfull_month', 'This month'],
  ['previous_month', 'Previous month'],
  ['thisfull_quarter', 'This quarter'],
  ['thisfull_year', 'This year'],
  ['previous_year', 'Previous year'],
];

const AGGREGATION_LABELS: Record<string, string> = {
  second: 'Second',
  minute: 'Minute',
  hour: 'Hour',
  day: 'Day',
  week: 'Week (Monday)',
  week_sunday: 'Week (Sunday)',
  month: 'Month',
  quarter: 'Quarter',
  year: 'Year',
  all_time: 'All time',
};

function option(value: string, label: string, selected: boolean): string {
  return `<option value="${escapeHtml(value)}"${selected ? ' selected' : ''}>${escapeHtml(label)}</option>`;
}

function scalarText(value: FilterScalar): string {
  return value === null ? '' : String(value);
}

/** A default or URL value as an `<input>` value of the control's type. */
function inputValue(value: FilterScalar | undefined, valueType: string): string {
  if (value === undefined || value === null) return '';
  if (valueType === 'DATE_TIME' && typeof value === 'number') return new Date(value * 1000).toISOString().slice(0, 19);
  return String(value);
}

const INPUT_TYPES: Record<string, string> = { DATE: 'date', TIME: 'time', DATE_TIME: 'datetime-local', NUMBER: 'number', TEXT: 'text', BOOLEAN: 'text' };

function filterControl(filter: Filter, selected: FilterScalar[], id: string): string {
  const label = escapeHtml(filter.displayName || filter.variableName);
  const data = (kind: string) =>
    `class="sl-control" data-param="filter" data-variable="${escapeHtml(filter.variableName)}" data-kind="${kind}" data-value-type="${filter.valueType}"`;
  const type = filter.controlType;
  const chosen = new Set(selected.map(scalarText));
  if (type.startsWith('dropdown')) {
    const multi = type.includes('multi');
    const manual = type.endsWith('_manual');
    const options: string[] = [];
    if (!multi) options.push(option('', filter.required ? 'Choose…' : 'All', chosen.size === 0));
    if (manual) {
      (filter.values ?? []).forEach((v, i) => options.push(option(v, filter.valueNames?.[i] ?? v, chosen.has(v))));
      for (const v of chosen) if (!(filter.values ?? []).includes(v)) options.push(option(v, v, true));
    } else {
      // SQL drop-downs: the page reads the options from the filter's stored result
      for (const v of chosen) options.push(option(v, v, true));
    }
    const sqlAttr = manual ? '' : ` data-filter-id="${escapeHtml(filter.id)}"`;
    return `<div ${data(multi ? 'multi' : 'select')}><label for="${id}">${label}</label><select id="${id}"${multi ? ' multiple' : ''}${sqlAttr}>${options.join('')}</select></div>`;
  }
  if (type === 'checkbox') {
    return `<div ${data('checkbox')}><label for="${id}">${label}</label><input id="${id}" type="checkbox"${selected[0] === true || selected[0] === 'true' ? ' checked' : ''}></div>`;
  }
  if (type === 'checkbox_two_way') {
    const v = selected.length ? String(selected[0]) : '';
    return `<div ${data('two_way')}><label for="${id}">${label}</label><select id="${id}">${option('', 'All', v === '')}${option('true', 'Yes', v === 'true')}${option('false', 'No', v === 'false')}</select></div>`;
  }
  if (type === 'date_time_aggregation') {
    const allowed = filter.allowedAggregations?.length ? filter.allowedAggregations : FIXED_AGGREGATIONS;
    const v = selected.length ? String(selected[0]) : '';
    return `<div ${data('select')}><label for="${id}">${label}</label><select id="${id}">${allowed.map((a) => option(a, AGGREGATION_LABELS[a] ?? a, a === v)).join('')}</select></div>`;
  }
  const inputType = INPUT_TYPES[filter.valueType] ?? 'text';
  const step = inputType === 'time' || inputType === 'datetime-local' ? ' step="1"' : inputType === 'number' ? ' step="any"' : '';
  if (type.endsWith('_range')) {
    let from = selected[0];
    let to = selected[1];
    if (selected.length === 1 && typeof selected[0] === 'string' && selected[0].includes('~')) [from, to] = [undefined, undefined];
    return (
      `<div ${data('range')}><span class="sl-label" id="${id}">${label}</span><span class="sl-range">` +
      `<input class="sl-from" type="${inputType}"${step} aria-labelledby="${id}" aria-label="from" value="${escapeHtml(inputValue(from, filter.valueType))}">` +
      `<span aria-hidden="true">–</span>` +
      `<input class="sl-to" type="${inputType}"${step} aria-labelledby="${id}" aria-label="to" value="${escapeHtml(inputValue(to, filter.valueType))}"></span></div>`
    );
  }
  if (type === 'input_multi') {
    return `<div ${data('text_multi')}><label for="${id}">${label}</label><input id="${id}" type="text" value="${escapeHtml(selected.map(scalarText).join(', '))}" placeholder="a, b, c"></div>`;
  }
  const kind = type === 'input' ? 'text' : 'single';
  return `<div ${data(kind)}><label for="${id}">${label}</label><input id="${id}" type="${inputType}"${step} value="${escapeHtml(inputValue(selected[0], filter.valueType))}"></div>`;
}

function utcDate(epochText: string): string {
  const n = Number(epochText);
  return epochText !== '' && Number.isFinite(n) ? new Date(n * 1000).toISOString().slice(0, 10) : '';
}

function timerangeControl(value: string | undefined): string {
  const current = value ?? '~';
  const preset = TIMERANGE_PRESETS.some(([v]) => v === current);
  const absolute = /^-?\d*~-?\d*$/.test(current) && current !== '~';
  const options = TIMERANGE_PRESETS.map(([v, l]) => option(v, l, v === current));
  if (!preset && !absolute) options.push(option(current, current, true));
  options.push(option('custom', 'Custom range…', absolute));
  const [from = '', to = ''] = absolute ? current.split('~') : [];
  return (
    `<div class="sl-control" data-param="timerange"><label for="c-timerange">Time range</label><span class="sl-range">` +
    `<select id="c-timerange">${options.join('')}</select>` +
    `<input class="sl-from sl-custom" type="date" aria-label="from" value="${utcDate(from)}"${absolute ? '' : ' hidden'}>` +
    `<input class="sl-to sl-custom" type="date" aria-label="to" value="${utcDate(to)}"${absolute ? '' : ' hidden'}></span></div>`
  );
}

function selectControl(
  param: 'aggregation' | 'tz',
  label: string,
  values: readonly string[],
  current: string | undefined,
  labels: Record<string, string> = {},
): string {
  return (
    `<div class="sl-control" data-param="${param}"><label for="c-${param}">${label}</label><select id="c-${param}">` +
    `${values.map((v) => option(v, labels[v] ?? v, v === current)).join('')}</select></div>`
  );
}

/** Orders filters by `filters_configuration.filter_sorting`, the rest by variable name. */
function sortFilters(filters: Filter[], sorting: string[] | undefined): Filter[] {
  const rank = new Map((sorting ?? []).map((name, i) => [name, i]));
  return [...filters].sort(
    (a, b) => (rank.get(a.variableName) ?? Infinity) - (rank.get(b.variableName) ?? Infinity) || (a.variableName < b.variableName ? -1 : 1),
  );
}

/** The filter bar, rendered with the initial selection (the page reads its parameters back from it). */
function filterBar(page: SharedDashboardPage, initial: InitialSelection, applyImmediately: boolean): string {
  const d = page.dashboard;
  const controls: string[] = [];
  if (page.timerangeControl) controls.push(timerangeControl(initial.timerange));
  if (page.aggregationControl) {
    const options = d.filtersConfiguration.aggregationOptions?.length ? d.filtersConfiguration.aggregationOptions : FIXED_AGGREGATIONS;
    controls.push(selectControl('aggregation', 'Aggregation', options, initial.aggregation ?? 'day', AGGREGATION_LABELS));
  }
  if (d.timeZoneConfig.type === 'input' && d.timeZoneConfig.allowedTimeZones?.length) {
    controls.push(selectControl('tz', 'Time zone', d.timeZoneConfig.allowedTimeZones, initial.tz ?? d.timeZoneConfig.allowedTimeZones[0]));
  }
  sortFilters(page.filters, d.filtersConfiguration.filterSorting).forEach((filter, i) => {
    const selected = initial.filters.get(filter.variableName) ?? filter.defaultValues ?? [];
    controls.push(filterControl(filter, selected, `c${i + 1}`));
  });
  if (!controls.length) return '';
  const button = applyImmediately ? '' : '<button type="submit" class="sl-apply">Apply</button>';
  return `<form id="sl-filters" class="sl-filters" aria-label="Filters">${controls.join('')}${button}</form>`;
}

/** Initial selection: the page's defaults with the URL's values on top. */
export function initialSelection(
  defaults: InputParameters,
  url: { timerange?: string; aggregation?: string; tz?: string; filters?: Record<string, FilterScalar[]> },
): InitialSelection {
  const filters = new Map<string, FilterScalar[]>();
  for (const f of defaults.filters ?? []) filters.set(f.variable_name, f.selected_values);
  for (const [name, values] of Object.entries(url.filters ?? {})) filters.set(name, values);
  return { timerange: url.timerange ?? defaults.timerange, aggregation: url.aggregation ?? defaults.aggregation, tz: url.tz ?? defaults.tz, filters };
}

/** The rendered page and what its Content-Security-Policy must allow. */
export interface RenderedPage {
  html: string;
  styleHashes: string[];
}

/**
 * The shared dashboard page: title, filter bar, every report at its grid position with a loading
 * state, the page configuration as inert JSON, and Sightline's own script and stylesheet.
 */
export function renderSharedPage(
  page: SharedDashboardPage,
  assets: BuiltAssets,
  options: { statusUrl: string; dataBaseUrl: string; initial: InitialSelection },
): RenderedPage {
  const d = page.dashboard;
  // Cluvio: multi-selects always need confirmation; single controls apply at once unless the dashboard says otherwise
  const applyImmediately = d.filtersConfiguration.applyImmediately !== false;
  const gridCss = page.reports.map((r) => `#r-${r.id}{grid-column:${r.column} / span ${r.width};grid-row:${r.row} / span ${r.height}}`).join('');
  const config: ViewerConfig = {
    dashboardId: d.id,
    statusUrl: options.statusUrl,
    dataBaseUrl: options.dataBaseUrl,
    viewerToken: page.viewerToken,
    automaticUpdate: d.automaticUpdateEnabled,
    colorScheme: d.colorScheme,
    applyImmediately,
    reports: page.reports.map((r) => ({
      id: r.id,
      name: r.name,
      showTitle: r.displayNameAsTitle,
      noDataMessage: r.noDataMessage,
      chartConfiguration: r.chartConfiguration,
    })),
  };
  const hasCharts = page.reports.some((r) => Object.keys(r.chartConfiguration).length > 0);
  const asset = (name: string) => `/shared-assets/${name}`;
  const preloads = [...assets.preload, ...(hasCharts && assets.charts ? [assets.charts] : [])]
    .map((name) => `<link rel="modulepreload" href="${asset(name)}">`)
    .join('');
  const reports = page.reports.map((r) => {
    const title = r.displayNameAsTitle ? `<header class="sl-report-head"><h2>${escapeHtml(r.name)}</h2></header>` : '';
    return (
      `<section class="sl-report" id="r-${r.id}" data-report-id="${r.id}" data-state="loading" aria-busy="true" aria-label="${escapeHtml(r.name)}">${title}` +
      `<div class="sl-report-body"><p class="sl-message sl-loading">Loading…</p></div></section>`
    );
  });
  const title = page.link.name ? `${d.name} · ${page.link.name}` : d.name;
  const html =
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">' +
    `<title>${escapeHtml(title)}</title>` +
    `<link rel="stylesheet" href="${asset(assets.stylesheet)}">` +
    `<style>${gridCss}</style>` +
    `<script type="module" src="${asset(assets.script)}"></script>${preloads}</head><body>` +
    `<header class="sl-header"><h1>${escapeHtml(d.name)}</h1>${d.description ? `<p class="sl-description">${escapeHtml(d.description)}</p>` : ''}</header>` +
    '<div id="sl-banner" class="sl-banner" role="alert" hidden></div>' +
    filterBar(page, options.initial, applyImmediately) +
    `<main class="sl-grid" id="sl-grid">${reports.join('')}</main>` +
    `<script type="application/json" id="sl-config">${scriptJson(config)}</script>` +
    '</body></html>';
  return { html, styleHashes: [styleHash(gridCss)] };
}

const NOTICE_CSS =
  'body{font:15px/1.5 system-ui,sans-serif;background:#f4f6f9;color:#1d2530;margin:0}' +
  'main{max-width:520px;margin:12vh auto 0;background:#fff;border:1px solid #dde3ea;border-radius:10px;padding:24px 28px}' +
  'h1{font-size:20px;margin:0 0 8px}p{margin:0 0 12px;color:#5f6b7a}form{display:flex;gap:8px}' +
  'input{flex:1;font:inherit;padding:6px 8px;border:1px solid #dde3ea;border-radius:6px}' +
  'button{font:inherit;padding:6px 14px;border-radius:6px;border:1px solid #2563eb;background:#2563eb;color:#fff}';

/**
 * A plain page without script: an error ("this link has expired") or the password form of a
 * protected link (it posts back to the same URL).
 */
export function renderNotice(input: { title: string; message: string; passwordForm?: boolean; error?: string }): RenderedPage {
  const form = input.passwordForm
    ? `${input.error ? `<p role="alert">${escapeHtml(input.error)}</p>` : ''}<form method="post"><input type="password" name="password" autocomplete="current-password" aria-label="Password" required autofocus><button type="submit">Open</button></form>`
    : '';
  const html =
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<meta name="referrer" content="no-referrer"><title>${escapeHtml(input.title)}</title><style>${NOTICE_CSS}</style></head>` +
    `<body><main class="sl-notice" data-notice="true"><h1>${escapeHtml(input.title)}</h1><p>${escapeHtml(input.message)}</p>${form}</main></body></html>`;
  return { html, styleHashes: [styleHash(NOTICE_CSS)] };
}
