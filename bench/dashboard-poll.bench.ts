// Scenario "dashboard-poll": Poll Dashboard Status (refresh_data: true) on a dashboard with 20 reports
// whose data is current — the hot path, which must run no query — against a bare Koa route on the
// same machine answering the same JSON body. BENCH_POLL_REQUESTS (default 3000) requests,
// BENCH_POLL_CONCURRENCY (default 16) in flight, keep-alive; the best of 3 interleaved rounds each.
// Goal (issue 15): at least 0.3 of the bare Koa route's requests/s, and no query started.
import { createDomainServices } from '@sightline/domain';
import {
  createScratchDatabase,
  envNumber,
  loadTest,
  startChild,
  type BenchMetric,
  type BenchScenario,
  type ChildServer,
  type LoadResult,
} from './support/harness.js';

const ENCRYPTION_KEY_HEX = '07'.repeat(32);
const ENV = {
  SIGHTLINE_DATA_TOKEN_SECRET: 'bench-data-token-secret-0123456789abcdef',
  SIGHTLINE_ENCRYPTION_KEY: ENCRYPTION_KEY_HEX,
  LOG_LEVEL: 'warn',
  HOST: '127.0.0.1',
  API_PORT: '0',
  DATA_PORT: '0',
};

const BARE_KOA = `
import Koa from 'koa';
const body = JSON.parse(process.env.BARE_BODY);
const app = new Koa();
app.use(async (ctx) => { ctx.type = 'application/json'; ctx.body = body; });
const server = app.listen(0, '127.0.0.1', () => console.log('Bare Koa: http://127.0.0.1:' + server.address().port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

export const scenario: BenchScenario = {
  name: 'dashboard-poll',
  description: 'Poll Dashboard Status on 20 current reports vs a bare Koa route (requests/s, p95)',
  async run(ctx) {
    const metrics: BenchMetric[] = [];
    const scratch = await createScratchDatabase('bench_poll');
    const children: ChildServer[] = [];
    try {
      const services = createDomainServices({ db: scratch.db, encryptionKey: Buffer.from(ENCRYPTION_KEY_HEX, 'hex') });
      const { adminKey } = await services.organizations.create('Bench');
      const env = { ...ENV, DATABASE_URL: scratch.url };
      children.push(await startChild('apps/worker/src/main.ts', env, /(Worker ready)/));
      const api = await startChild('apps/api-server/src/main.ts', env, /API server: (\S+)/);
      children.push(api);
      const headers = { Authorization: `Api ${adminKey.secret}`, 'Content-Type': 'application/json' };
      const call = async (path: string, body: unknown, method = 'POST') => {
        const res = await fetch(`${api.url}${path}`, { method, headers, body: JSON.stringify(body) });
        if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
        return res.json() as Promise<{ data: { id: string } }>;
      };
      const u = new URL(scratch.url);
      const ds = await call('/datasources', {
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
      const dashboard = await call('/dashboards', { data: { attributes: { name: 'Twenty reports' } } });
      for (let i = 0; i < 20; i++) {
        await call('/reports', {
          data: {
            attributes: {
              name: `Report ${i}`,
              sql_query: `SELECT g % ${i + 2} AS k, count(*) AS n FROM generate_series(1, 1000) g WHERE {g=bench_filter} GROUP BY 1`,
              width: 4,
              height: 3,
            },
            relationships: {
              dashboard: { data: { type: 'dashboards', id: dashboard.data.id } },
              datasource: { data: { type: 'datasources', id: ds.data.id } },
            },
          },
        });
      }
      const pollUrl = `${api.url}/dashboards/${dashboard.data.id}/status`;
      const pollBody = JSON.stringify({ refresh_data: true });
      for (let i = 0; i < 200; i++) {
        const res = await fetch(pollUrl, { method: 'POST', headers, body: pollBody });
        const s = (await res.json()) as { data_keys: Record<string, { result_status: string; running: boolean }> };
        if (Object.values(s.data_keys).length === 20 && Object.values(s.data_keys).every((k) => k.result_status === 'success' && !k.running)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const sample = await fetch(pollUrl, { method: 'POST', headers, body: pollBody });
      const sampleText = await sample.text();
      const before = Number((await scratch.db.raw('SELECT count(*) FROM executions')).rows[0].count);
      const total = envNumber('BENCH_POLL_REQUESTS', 3000);
      const concurrency = envNumber('BENCH_POLL_CONCURRENCY', 16);
      const { writeFile } = await import('node:fs/promises');
      const bareScript = 'bench/.bare-koa.mjs';
      await writeFile(bareScript, BARE_KOA);
      const bare = await startChild(bareScript, { BARE_BODY: sampleText }, /Bare Koa: (\S+)/);
      children.push(bare);
      // interleave rounds to share the machine's noise
      const polls: LoadResult[] = [];
      const bares: LoadResult[] = [];
      // CPU time of the API process (and of bare Koa) per request: steadier than requests/s on a
      // shared machine; the API's share excludes PostgreSQL's work for it
      let apiCpu = 0;
      let bareCpu = 0;
      for (let round = 0; round < 3; round++) {
        let c0 = await api.cpuSeconds();
        polls.push(await loadTest(pollUrl, { method: 'POST', body: pollBody, headers, total: Math.ceil(total / 3), concurrency }));
        apiCpu += (await api.cpuSeconds()) - c0;
        c0 = await bare.cpuSeconds();
        bares.push(await loadTest(bare.url, { method: 'POST', body: pollBody, total: Math.ceil(total / 3), concurrency }));
        bareCpu += (await bare.cpuSeconds()) - c0;
      }
      const perRequest = (s: number) => (1000 * s) / (3 * Math.ceil(total / 3));
      const after = Number((await scratch.db.raw('SELECT count(*) FROM executions')).rows[0].count);
      const best = (xs: typeof polls) => xs.reduce((a, b) => (b.rps > a.rps ? b : a));
      const p = best(polls);
      const b = best(bares);
      ctx.log(
        `poll: ${p.rps.toFixed(0)} req/s, p50 ${p.p50.toFixed(1)} ms, p95 ${p.p95.toFixed(1)} ms; bare Koa: ${b.rps.toFixed(0)} req/s, p95 ${b.p95.toFixed(1)} ms; body ${sampleText.length} bytes`,
      );
      metrics.push({
        metric: `poll status (20 current reports, ${concurrency} connections) requests/s`,
        value: p.rps,
        unit: 'req/s',
        note: `bare Koa ${b.rps.toFixed(0)} req/s`,
      });
      metrics.push({
        metric: 'poll status mean latency / p95',
        value: (1000 * concurrency) / p.rps,
        unit: 'ms',
        note: `p95 ${p.p95.toFixed(1)} ms; bare Koa p95 ${b.p95.toFixed(2)} ms`,
      });
      metrics.push({ metric: 'poll throughput / bare Koa', value: p.rps / b.rps, unit: 'x', goal: '>= 0.3', pass: p.rps / b.rps >= 0.3 });
      metrics.push({
        metric: 'CPU per request: bare Koa / API server',
        value: perRequest(bareCpu) / perRequest(apiCpu),
        unit: 'x',
        note: `API ${perRequest(apiCpu).toFixed(3)} ms, bare Koa ${perRequest(bareCpu).toFixed(3)} ms CPU per request`,
      });
      metrics.push({ metric: 'queries started by current polls', value: after - before, unit: 'executions', goal: '0', pass: after === before });
      return metrics;
    } finally {
      for (const c of children) await c.stop();
      await scratch.drop();
      const { rm } = await import('node:fs/promises');
      await rm('bench/.bare-koa.mjs', { force: true });
    }
  },
};
