// The shared dashboard page. It drives itself with the public API's own flow: Poll Dashboard Status
// (with a viewer token scoped to this dashboard, never an API key), `status_check_delay` between
// polls, then result data from the data server with the data access tokens the status hands out.

import { OPTION_ROW_LIMIT, REPORT_ROW_LIMIT, VIEWER_TOKEN_HEADER, type ViewerConfig } from './config.js';
import { readParameters, syncTimerangeControl, type InputParameters } from './parameters.js';
import { ReportView, type Wanted } from './report-view.js';
import type { ResultData } from './visual.js';

interface DataKeyStatus {
  result_status: string;
  data_timestamp?: number;
  data_access_token?: string;
  running: boolean;
}

interface DashboardStatus {
  reports: Record<string, { data_key?: string; error?: string }>;
  filters: Record<string, { data_key?: string; error?: string }>;
  data_keys: Record<string, DataKeyStatus>;
  status_check_delay: number;
}

/** Statuses after which no data will come for these parameters. */
const FAILED = new Set(['error', 'cancelled', 'canceled', 'failed', 'timeout']);
/** Retry delays (s) after a failed poll (network, 5xx). */
const RETRY_DELAYS = [2, 5, 10, 30, 60];

const config = JSON.parse(document.getElementById('sl-config')!.textContent!) as ViewerConfig;
const form = document.getElementById('sl-filters') as HTMLFormElement | null;
const banner = document.getElementById('sl-banner')!;
let token = config.viewerToken;
let generation = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
let failures = 0;
let ended = false;

async function fetchResult(wanted: Wanted, limit: number): Promise<ResultData> {
  // The data key is a path with "/" (contract §1.4): sent as it is, never URL-encoded.
  const response = await fetch(`${config.dataBaseUrl}/results/${wanted.dataKey}?limit=${limit}`, {
    headers: { Authorization: `Data ${wanted.token}` },
    credentials: 'omit',
    cache: 'no-store',
    referrerPolicy: 'no-referrer',
  });
  if (!response.ok) throw new Error(`data server answered ${response.status}`);
  return (await response.json()) as ResultData;
}

const views = new Map<string, ReportView>();
for (const report of config.reports) {
  const element = document.getElementById(`r-${report.id}`);
  if (element) views.set(report.id, new ReportView(report, element, (w) => fetchResult(w, REPORT_ROW_LIMIT), config.colorScheme));
}

/** Options of SQL drop-downs, filled from their stored results (the status hands out their keys). */
const optionKeys = new Map<string, string>();
async function fillOptions(select: HTMLSelectElement, wanted: Wanted): Promise<void> {
  const marker = `${wanted.dataKey}@${wanted.dataTimestamp}`;
  if (optionKeys.get(select.id) === marker) return;
  optionKeys.set(select.id, marker);
  let result: ResultData;
  try {
    result = await fetchResult(wanted, OPTION_ROW_LIMIT);
  } catch {
    optionKeys.delete(select.id);
    return;
  }
  const selected = new Set([...select.selectedOptions].map((o) => o.value));
  const keep = [...select.options].filter((o) => o.value === '');
  const seen = new Set<string>();
  const options = [...keep];
  for (const row of result.rows) {
    const value = row[0] === null || row[0] === undefined ? '' : typeof row[0] === 'string' ? row[0] : JSON.stringify(row[0]);
    if (value === '' || seen.has(value)) continue;
    seen.add(value);
    const label = row.length > 1 && row[1] !== null && row[1] !== undefined ? String(row[1]) : value;
    const option = new Option(label, value, false, selected.has(value));
    options.push(option);
  }
  // a selected value the options no longer contain stays selectable
  for (const value of selected) if (value !== '' && !seen.has(value)) options.push(new Option(value, value, false, true));
  select.replaceChildren(...options);
  select.dataset.optionsLoaded = 'true';
}

function endSession(text: string): void {
  ended = true;
  clearTimeout(timer);
  banner.textContent = text;
  banner.hidden = false;
  for (const view of views.values()) view.error('Not available');
  if (form) for (const el of form.elements) (el as HTMLInputElement).disabled = true;
}

function schedule(seconds: number): void {
  clearTimeout(timer);
  if (ended) return;
  timer = setTimeout(() => void poll(), Math.max(1, seconds) * 1000);
}

async function poll(): Promise<void> {
  clearTimeout(timer);
  const gen = generation;
  const parameters: InputParameters = form ? readParameters(form) : {};
  let response: Response;
  try {
    response = await fetch(config.statusUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Viewer ${token}` },
      body: JSON.stringify({ refresh_data: true, parameters }),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    if (gen === generation) schedule(RETRY_DELAYS[Math.min(failures++, RETRY_DELAYS.length - 1)]!);
    return;
  }
  if (gen !== generation) return;
  const renewed = response.headers.get(VIEWER_TOKEN_HEADER);
  if (renewed) token = renewed;
  if (response.status === 401 || response.status === 403 || response.status === 404 || response.status === 410) {
    endSession('This shared dashboard is no longer available. Open the link again, or ask for a new one.');
    return;
  }
  if (response.status === 422) {
    const body = (await response.json().catch(() => ({}))) as { errors?: Array<{ detail?: string }> };
    banner.textContent = body.errors?.[0]?.detail ?? 'These filter values cannot be used.';
    banner.hidden = false;
    for (const view of views.values()) view.error('Not available for these filter values');
    return;
  }
  if (!response.ok) {
    schedule(RETRY_DELAYS[Math.min(failures++, RETRY_DELAYS.length - 1)]!);
    return;
  }
  failures = 0;
  banner.hidden = true;
  const status = (await response.json()) as DashboardStatus;
  let pending = false;
  for (const [id, view] of views) {
    const entry = status.reports[id];
    if (!entry) {
      view.error('Not available');
      continue;
    }
    if (entry.error !== undefined || !entry.data_key) {
      view.error(entry.error ?? 'Not available');
      continue;
    }
    const key = status.data_keys[entry.data_key];
    if (key?.result_status === 'success' && key.data_access_token && key.data_timestamp !== undefined) {
      view.refreshing(key.running);
      if (key.running) pending = true;
      void view.show({ dataKey: entry.data_key, dataTimestamp: key.data_timestamp, token: key.data_access_token });
    } else if (key && FAILED.has(key.result_status) && !key.running) {
      view.error('The query of this report failed');
    } else {
      pending = true;
      view.loading();
    }
  }
  if (form) {
    for (const select of form.querySelectorAll<HTMLSelectElement>('select[data-filter-id]')) {
      const entry = status.filters[select.dataset.filterId!];
      const key = entry?.data_key ? status.data_keys[entry.data_key] : undefined;
      if (entry?.data_key && key?.result_status === 'success' && key.data_access_token && key.data_timestamp !== undefined) {
        void fillOptions(select, { dataKey: entry.data_key, dataTimestamp: key.data_timestamp, token: key.data_access_token });
      } else if (key?.running || key?.result_status === 'no-data') pending = true;
    }
  }
  if (pending || config.automaticUpdate) schedule(status.status_check_delay);
}

/** New parameters: every report waits for its new data; stale answers of the old ones are dropped. */
function apply(): void {
  if (ended) return;
  generation += 1;
  banner.hidden = true;
  for (const view of views.values()) view.loading();
  void poll();
}

if (form) {
  syncTimerangeControl(form);
  form.addEventListener('change', (event) => {
    syncTimerangeControl(form);
    const target = event.target as HTMLElement;
    // a multi-select or a custom range waits for "Apply" unless the dashboard applies at once
    if (config.applyImmediately && !(target instanceof HTMLSelectElement && target.multiple)) apply();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    apply();
  });
}

void poll();
