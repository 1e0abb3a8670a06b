import createFetchClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './schema.js';

export type { components, operations, paths } from './schema.js';

/** A schema of the API's document by name, e.g. `Schema<'reports'>`. */
export type Schema<N extends keyof components['schemas']> = components['schemas'][N];

/** The JSON:API error document every failure answers. */
export type ErrorDocument = Schema<'error_document'>;

/** `ResultData` from the data server (`format=json`). */
export type ResultData = Schema<'result_data'>;

/** Poll Dashboard Status's answer. */
export type DashboardStatus = Schema<'dashboard_status'>;

/** The typed client of the API server: openapi-fetch over the generated `paths`. */
export type ApiClient = Client<paths>;

export interface ClientOptions {
  /** Base URL of the API server, e.g. `https://sightline.example.com`. */
  baseUrl: string;
  /** An API key's secret: sent as `Authorization: Api <secret>`. */
  apiKey: string;
  /** Base URL of the data server (for result downloads). */
  dataBaseUrl?: string;
  /** A `fetch` to use instead of the global one (tests, proxies). */
  fetch?: typeof fetch;
}

/** Thrown for a non-2xx answer: the status and the JSON:API error document. */
export class SightlineApiError extends Error {
  constructor(
    readonly status: number,
    readonly document: ErrorDocument | undefined,
  ) {
    const first = document?.errors[0];
    super(`Sightline API answered ${status}${first ? `: ${first.detail ?? first.title ?? first.code ?? ''}` : ''}`);
    this.name = 'SightlineApiError';
  }

  /** The first error's `code` (`report_not_found`, …). */
  get code(): string | undefined {
    return this.document?.errors[0]?.code;
  }
}

/**
 * The `data` of an openapi-fetch answer, or a `SightlineApiError` with the error document.
 * @throws SightlineApiError when the answer was not 2xx
 */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (!result.response.ok) throw new SightlineApiError(result.response.status, result.error as ErrorDocument | undefined);
  return result.data as T;
}

/** Execution statuses that are final (contract §3.3); the others mean "still running". */
export const FINISHED_EXECUTION_STATUSES = ['cancelled', 'success', 'query_error', 'timed_out', 'internal_error', 'internal_timeout'] as const;

export interface PollOptions {
  /** Milliseconds between polls (default 250; Poll Dashboard Status's `status_check_delay` wins when it is larger). */
  intervalMs?: number;
  /** Give up after this many milliseconds (default 60 000). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Thrown when a poll loop runs out of time. */
export class PollTimeoutError extends Error {
  constructor(what: string, timeoutMs: number) {
    super(`${what} did not finish within ${timeoutMs} ms`);
    this.name = 'PollTimeoutError';
  }
}

async function poll<T>(what: string, step: () => Promise<{ done: boolean; value: T; delayMs?: number }>, options: PollOptions): Promise<T> {
  const interval = options.intervalMs ?? 250;
  const timeout = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeout;
  for (;;) {
    options.signal?.throwIfAborted();
    const { done, value, delayMs } = await step();
    if (done) return value;
    if (Date.now() >= deadline) throw new PollTimeoutError(what, timeout);
    await new Promise((resolve) => setTimeout(resolve, Math.max(interval, delayMs ?? 0)));
  }
}

export interface ResultDownload {
  /** `json` (default): `ResultData`; `csv` and `ndjson`: text. */
  format?: 'json' | 'csv' | 'ndjson';
  offset?: number;
  limit?: number;
}

/**
 * A Sightline client: `api` is the typed openapi-fetch client of every API route (`api.GET('/reports/{id}', …)`),
 * plus the loops a client needs around it: waiting for an execution, polling a dashboard until its
 * data is ready, and downloading results from the data server with a data access token.
 */
export function createSightlineClient(options: ClientOptions) {
  const api: ApiClient = createFetchClient<paths>({
    baseUrl: options.baseUrl.replace(/\/$/, ''),
    headers: { Authorization: `Api ${options.apiKey}` },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const doFetch = options.fetch ?? fetch;

  /** Polls Get Execution until the execution finished; answers its final resource document. */
  async function waitForExecution(id: string, pollOptions: PollOptions = {}): Promise<Schema<'executions_document'>> {
    return poll(
      `execution ${id}`,
      async () => {
        const doc = unwrap(await api.GET('/executions/{id}', { params: { path: { id } }, signal: pollOptions.signal }));
        const status = doc.data.attributes.execution_status as string;
        return { done: (FINISHED_EXECUTION_STATUSES as readonly string[]).includes(status), value: doc };
      },
      pollOptions,
    );
  }

  /**
   * Polls Poll Dashboard Status until no data key of the dashboard is running (the first poll may
   * start queries, with `refresh_data` all of them); answers the last status.
   */
  async function waitForDashboard(
    id: string,
    body: { refresh_data?: boolean; parameters?: Record<string, unknown> } = {},
    pollOptions: PollOptions = {},
  ): Promise<DashboardStatus> {
    let first = true;
    return poll(
      `dashboard ${id}`,
      async () => {
        // refresh only once: later polls must not restart what the first one started
        const requestBody = { ...body, refresh_data: first ? (body.refresh_data ?? false) : false };
        first = false;
        const status = unwrap(await api.POST('/dashboards/{id}/status', { params: { path: { id } }, body: requestBody, signal: pollOptions.signal }));
        const running = Object.values(status.data_keys).some((k) => k.running);
        return { done: !running, value: status, delayMs: status.status_check_delay * 1000 };
      },
      pollOptions,
    );
  }

  /**
   * Downloads a result from the data server: `GET /results/{data_key}` with `Authorization: Data <token>`.
   * The data key is sent as is (it contains `/`). Gzip transfer encoding is negotiated by `fetch`.
   * @throws SightlineApiError for a non-2xx answer; Error without a `dataBaseUrl`
   */
  async function downloadResult(dataKey: string, dataAccessToken: string, download: ResultDownload & { format: 'csv' | 'ndjson' }): Promise<string>;
  async function downloadResult(dataKey: string, dataAccessToken: string, download?: ResultDownload & { format?: 'json' }): Promise<ResultData>;
  async function downloadResult(dataKey: string, dataAccessToken: string, download: ResultDownload = {}): Promise<ResultData | string> {
    if (!options.dataBaseUrl) throw new Error("downloadResult needs the client's dataBaseUrl");
    const query = new URLSearchParams();
    if (download.format) query.set('format', download.format);
    if (download.offset !== undefined) query.set('offset', String(download.offset));
    if (download.limit !== undefined) query.set('limit', String(download.limit));
    const url = `${options.dataBaseUrl.replace(/\/$/, '')}/results/${dataKey}${query.size ? `?${query}` : ''}`;
    const response = await doFetch(url, { headers: { Authorization: `Data ${dataAccessToken}`, 'Accept-Encoding': 'gzip' } });
    if (!response.ok) throw new SightlineApiError(response.status, (await response.json().catch(() => undefined)) as ErrorDocument | undefined);
    return (download.format ?? 'json') === 'json' ? ((await response.json()) as ResultData) : response.text();
  }

  /** Runs SQL on a datasource, waits for it and downloads the result (`ResultData`). */
  async function query(datasourceId: string, sql: string, pollOptions: PollOptions = {}): Promise<ResultData> {
    const started = unwrap(await api.POST('/datasources/{id}/executions', { params: { path: { id: datasourceId } }, body: { sql_query: sql } }));
    const finished = await waitForExecution(started.data.id, pollOptions);
    const status = finished.data.attributes.execution_status as string;
    if (status !== 'success') throw new Error(`execution ${started.data.id} ended ${status}: ${String(finished.data.attributes.error_message ?? '')}`);
    const ref = unwrap(await api.GET('/executions/{id}/data', { params: { path: { id: started.data.id } } }));
    if (!ref) throw new Error(`execution ${started.data.id} has no result`);
    return downloadResult(ref.data_key, ref.data_access_token);
  }

  return { api, waitForExecution, waitForDashboard, downloadResult, query };
}

/** A client made by `createSightlineClient`. */
export type SightlineClient = ReturnType<typeof createSightlineClient>;
