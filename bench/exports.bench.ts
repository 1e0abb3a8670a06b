// Scenario "exports": export jobs end to end through a real API server and worker process.
// 1. Unlimited CSV of BENCH_CSV_ROWS (default 1,000,000) rows vs `COPY (same query) TO STDOUT
//    (FORMAT csv)` read by a client (goal ≤ 1.5×); the worker's peak RSS after a run of a fifth of
//    the rows and after the full run (flat memory: the two are close).
// 2. A 12-report dashboard to PDF and to PNG (data current, so the figure is queue + render +
//    store): seconds per export (median of BENCH_EXPORT_ROUNDS, default 3) against the same render
//    in this process without queue, worker thread or store, and the worker's peak RSS.
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { ALL_PERMISSIONS, Principal, createDomainServices, readResultRows, type DomainServices } from '@sightline/domain';
import { renderDashboard, type RenderReportItem } from '@sightline/render';
import { MB, createScratchDatabase, envNumber, median, startChild, type BenchMetric, type BenchScenario, type ChildServer } from './support/harness.js';

const ENCRYPTION_KEY_HEX = '07'.repeat(32);
const ENV = {
  SIGHTLINE_DATA_TOKEN_SECRET: 'bench-data-token-secret-0123456789abcdef',
  SIGHTLINE_ENCRYPTION_KEY: ENCRYPTION_KEY_HEX,
  LOG_LEVEL: 'warn',
  HOST: '127.0.0.1',
  API_PORT: '0',
  DATA_PORT: '0',
};

const CHARTS = [
  { type: 'line', sql: `SELECT date_trunc('day', t) AS day, count(*) AS n, sum(v) AS total FROM bench_events GROUP BY 1 ORDER BY 1` },
  { type: 'column', sql: `SELECT k AS category, count(*) AS n FROM bench_events GROUP BY 1 ORDER BY 1` },
  { type: 'bar', sql: `SELECT 'group ' || (k % 8) AS grp, sum(v) AS total FROM bench_events GROUP BY 1 ORDER BY 1` },
  { type: 'pie', sql: `SELECT 'slice ' || (k % 5) AS slice, count(*) AS n FROM bench_events GROUP BY 1 ORDER BY 1` },
  { type: 'area', sql: `SELECT date_trunc('week', t) AS week, sum(v) AS total FROM bench_events GROUP BY 1 ORDER BY 1` },
  { type: 'scatter', sql: `SELECT v AS x, k * 1.5 AS y FROM bench_events ORDER BY id LIMIT 2000` },
  { type: 'number', sql: `SELECT count(*) AS events FROM bench_events` },
  { type: 'table', sql: `SELECT id, k, v, t FROM bench_events ORDER BY id` },
  { type: 'line', sql: `SELECT date_trunc('hour', t) AS hour, avg(v) AS avg_v FROM bench_events GROUP BY 1 ORDER BY 1` },
  { type: 'column', sql: `SELECT k % 12 AS month_no, count(*) AS n, max(v) AS top FROM bench_events GROUP BY 1 ORDER BY 1` },
  { type: 'number', sql: `SELECT sum(v) AS total FROM bench_events` },
  { type: 'table', sql: `SELECT k, count(*) AS n, min(t) AS first, max(t) AS last FROM bench_events GROUP BY 1 ORDER BY 1` },
];

export const scenario: BenchScenario = {
  name: 'exports',
  description: 'Unlimited CSV vs COPY TO STDOUT (csv); a 12-report dashboard to PDF/PNG vs an in-process render (time, worker peak RSS)',
  async run(ctx) {
    const metrics: BenchMetric[] = [];
    const scratch = await createScratchDatabase('bench_exports');
    const children: ChildServer[] = [];
    const client = new pg.Client({ connectionString: scratch.url });
    await client.connect();
    try {
      const csvRows = envNumber('BENCH_CSV_ROWS', 1_000_000);
      const rounds = envNumber('BENCH_EXPORT_ROUNDS', 3);
      await client.query(
        `CREATE TABLE bench_rows AS SELECT g AS id, md5(g::text) AS name, (g % 1000) * 1.25 AS amount, timestamp '2026-01-01' + g * interval '1 second' AS created_at FROM generate_series(1, ${csvRows}) g`,
      );
      await client.query(
        `CREATE TABLE bench_events AS SELECT g AS id, g % 40 AS k, (g * 7919 % 1000) / 10.0 AS v, timestamptz '2026-10-01' + g * interval '1 minute' AS t FROM generate_series(1, 50000) g`,
      );
      await client.query('ANALYZE bench_rows; ANALYZE bench_events');
      const services = createDomainServices({ db: scratch.db, encryptionKey: Buffer.from(ENCRYPTION_KEY_HEX, 'hex') });
      const { organization, adminKey } = await services.organizations.create('Bench');
      const env = { ...ENV, DATABASE_URL: scratch.url };
      const worker = await startChild('apps/worker/src/main.ts', env, /(Worker ready)/);
      children.push(worker);
      const api = await startChild('apps/api-server/src/main.ts', env, /API server: (\S+)/);
      children.push(api);
      const headers = { Authorization: `Api ${adminKey.secret}`, 'Content-Type': 'application/json' };
      const call = async <T>(path: string, body?: unknown, method = 'POST'): Promise<T> => {
        const res = await fetch(`${api.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
        if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
        return res.json() as Promise<T>;
      };
      const waitJob = async (id: string): Promise<void> => {
        for (;;) {
          const doc = await call<{ job_status: string; error_message: string | null }>(`/export_jobs/${id}`, undefined, 'GET');
          if (doc.job_status === 'success') return;
          if (doc.job_status === 'error') throw new Error(`export ${id} failed: ${doc.error_message}`);
          // polling costs the API and PostgreSQL CPU on a small machine: not too often
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      const u = new URL(scratch.url);
      const ds = await call<{ data: { id: string } }>('/datasources', {
        data: {
          attributes: {
            name: 'bench',
            database_type: 'postgres',
            connection_mode: 'direct',
            host: u.hostname,
            port: Number(u.port || 5432),
            username: decodeURIComponent(u.username) || 'postgres',
            database: u.pathname.slice(1),
            require_ssl: false,
          },
        },
      });
      const dashboard = await call<{ data: { id: string } }>('/dashboards', { data: { attributes: { name: 'Twelve reports' } } });
      const report = async (name: string, sql: string, attributes: object = {}) =>
        (
          await call<{ data: { id: string } }>('/reports', {
            data: {
              attributes: { name, sql_query: sql, ...attributes },
              relationships: {
                dashboard: { data: { type: 'dashboards', id: dashboard.data.id } },
                datasource: { data: { type: 'datasources', id: ds.data.id } },
              },
            },
          })
        ).data.id;

      // 1. unlimited CSV vs COPY
      const csvQuery = 'SELECT id, name, amount, created_at FROM bench_rows ORDER BY id';
      const csvReport = await report('CSV rows', csvQuery, { unlimited_csv_export_enabled: true, width: 12, height: 2 });
      const copy = async (sql: string): Promise<{ seconds: number; bytes: number }> => {
        const started = performance.now();
        let bytes = 0;
        for await (const part of client.query(copyStreams.to(`COPY (${sql}) TO STDOUT (FORMAT csv, HEADER)`))) bytes += (part as Buffer).length;
        return { seconds: (performance.now() - started) / 1000, bytes };
      };
      const exportCsv = async (limit: number | null, round: number): Promise<{ seconds: number; bytes: number; streaming: number }> => {
        // a distinct parameter set per run: the 10-minute rule would answer the previous job
        const started = performance.now();
        const { job_id } = await call<{ job_id: string }>(`/reports/${limit === null ? csvReport : smallReport}/export_csv`, {
          parameters: { filters: [{ variable_name: 'bench_round', selected_values: [round] }] },
        });
        await waitJob(job_id);
        const seconds = (performance.now() - started) / 1000;
        const row = (
          await client.query(
            `SELECT j.file_size, extract(epoch FROM e.completed_at - e.started_at) AS run FROM export_jobs j JOIN executions e ON e.id = (j.execution_ids->>0)::uuid WHERE j.id = $1`,
            [job_id],
          )
        ).rows[0];
        return { seconds, bytes: Number(row.file_size), streaming: Number(row.run) };
      };
      const fifth = Math.max(1, Math.floor(csvRows / 5));
      const smallReport = await report('CSV rows (fifth)', `${csvQuery.replace(' ORDER BY id', '')} WHERE id <= ${fifth} ORDER BY id`, {
        unlimited_csv_export_enabled: true,
        width: 12,
        height: 2,
      });
      const rssBefore = await worker.rss();
      await exportCsv(fifth, 0);
      const peakSmall = await worker.peakRss();
      const ours: number[] = [];
      const theirs: number[] = [];
      const streaming: number[] = [];
      let ourBytes = 0;
      let copyBytes = 0;
      let peakFirst = 0;
      for (let r = 1; r <= rounds; r++) {
        const c = await copy(csvQuery);
        theirs.push(c.seconds);
        copyBytes = c.bytes;
        const o = await exportCsv(null, r);
        ours.push(o.seconds);
        streaming.push(o.streaming);
        ourBytes = o.bytes;
        if (r === 1) peakFirst = await worker.peakRss();
      }
      const peakFull = await worker.peakRss();
      const ratio = median(ours) / median(theirs);
      ctx.log(
        `unlimited CSV ${csvRows} rows: ${median(ours).toFixed(2)} s (${(ourBytes / MB).toFixed(1)} MB); COPY csv: ${median(theirs).toFixed(2)} s (${(copyBytes / MB).toFixed(1)} MB)`,
      );
      ctx.log(
        `worker RSS: ${(rssBefore / MB).toFixed(0)} MB before, peak ${(peakSmall / MB).toFixed(0)} MB after ${fifth} rows, ${(peakFirst / MB).toFixed(0)} MB after ${csvRows} rows, ${(peakFull / MB).toFixed(0)} MB after ${rounds} × ${csvRows} rows`,
      );
      metrics.push({
        metric: `unlimited CSV ${csvRows} rows (job start to file stored)`,
        value: median(ours),
        unit: 's',
        note: `COPY csv ${median(theirs).toFixed(2)} s`,
      });
      metrics.push({ metric: 'unlimited CSV / COPY TO STDOUT csv', value: ratio, unit: 'x', goal: '≤ 1.5', pass: ratio <= 1.5 });
      metrics.push({
        metric: 'of which the export_query execution (rows → CSV → file)',
        value: median(streaming),
        unit: 's',
        note: `${(median(streaming) / median(theirs)).toFixed(2)}× COPY`,
      });
      metrics.push({
        metric: `worker peak RSS growth ${fifth} → ${csvRows} rows`,
        value: (peakFirst - peakSmall) / MB,
        unit: 'MB',
        note: `peak ${(peakFirst / MB).toFixed(0)} MB; ${(rssBefore / MB).toFixed(0)} MB idle`,
      });
      metrics.push({
        metric: `worker peak RSS growth over ${rounds - 1} more ${csvRows}-row exports`,
        value: (peakFull - peakFirst) / MB,
        unit: 'MB',
        goal: 'flat (< 32 MB)',
        pass: peakFull - peakFirst < 32 * MB,
      });

      // 2. a 12-report dashboard to PDF and PNG
      for (const [i, c] of CHARTS.entries()) {
        const id = await report(`${c.type} ${i + 1}`, c.sql, { width: 4, height: 4 });
        await scratch
          .db('reports')
          .where({ id })
          .update({ chart_configuration: JSON.stringify({ type: c.type }), row: 1 + Math.floor(i / 3) * 4, column: 1 + (i % 3) * 4 });
      }
      await scratch.db('reports').whereIn('id', [csvReport, smallReport]).delete();
      // first export runs the queries; the measured ones find current data
      await waitJob((await call<{ job_id: string }>(`/dashboards/${dashboard.data.id}/export_png`, { parameters: { aggregation: 'day' } })).job_id);
      const inProcess = await inProcessRender(services, organization.id, dashboard.data.id);
      for (const format of ['pdf', 'png'] as const) {
        const times: number[] = [];
        const baseline: number[] = [];
        for (let r = 0; r < rounds; r++) {
          const started = performance.now();
          // a new page width per round: a new job (no reuse), same current data
          const { job_id } = await call<{ job_id: string }>(`/dashboards/${dashboard.data.id}/export_${format}`, {
            parameters: { aggregation: 'day' },
            page_width: 1600 + r + (format === 'pdf' ? 100 : 0),
          });
          await waitJob(job_id);
          times.push((performance.now() - started) / 1000);
          baseline.push(await inProcess(format));
        }
        const peak = await worker.peakRss();
        ctx.log(
          `dashboard ${format}: ${median(times).toFixed(2)} s per export job; in-process render ${median(baseline).toFixed(2)} s; worker peak RSS ${(peak / MB).toFixed(0)} MB`,
        );
        metrics.push({
          metric: `12-report dashboard ${format.toUpperCase()} export job`,
          value: median(times),
          unit: 's',
          note: `in-process render ${median(baseline).toFixed(2)} s`,
        });
        metrics.push({ metric: `dashboard ${format.toUpperCase()} job / in-process render`, value: median(times) / median(baseline), unit: 'x' });
        metrics.push({
          metric: `worker peak RSS after ${format.toUpperCase()} exports`,
          value: peak / MB,
          unit: 'MB',
          note: `${(rssBefore / MB).toFixed(0)} MB idle`,
        });
      }
      return metrics;
    } finally {
      await client.end();
      for (const c of children) await c.stop();
      await scratch.drop();
    }
  },
};

/** The same dashboard rendered here, from the stored results, without queue, worker thread or store. */
async function inProcessRender(services: DomainServices, organizationId: string, dashboardId: string): Promise<(format: 'pdf' | 'png') => Promise<number>> {
  const principal = new Principal(organizationId, 'bench', ALL_PERMISSIONS);
  const targets = await services.dashboardData.exportTargets(principal, dashboardId, { aggregation: 'day' });
  const reports: RenderReportItem[] = [];
  for (const t of targets.targets) {
    const rows: unknown[][] = [];
    if (t.result) for await (const row of readResultRows(services.resultStore, t.result, 5000)) rows.push(row);
    reports.push({
      report: t.report,
      result: t.result
        ? { fields: t.result.fields, rows, totalRows: t.result.sqlRows, dataTimestamp: t.result.dataTimestamp, timeZone: t.result.timeZone }
        : null,
    });
  }
  return async (format) => {
    const started = performance.now();
    await renderDashboard({ name: targets.dashboard.name, timeZone: targets.timeZone, parameters: targets.parameters, pageWidth: 1600, reports }, format);
    return (performance.now() - started) / 1000;
  };
}
