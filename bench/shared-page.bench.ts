// Scenario "shared-page": how soon a person sees a shared dashboard of 12 reports whose data is
// current (6 charts, 6 tables), in Debian's headless chromium, on a local start (API server, data
// server and worker as child processes). "Usable" = every report box shows its chart or table.
// Baseline in the same run: a static page from a plain Node server loading the same asset bytes
// (stylesheet, entry, chart chunk) and nothing else — the floor of shipping and parsing the code.
// BENCH_PAGE_ROUNDS (default 5) rounds of first visits (fresh profile) and repeat visits, interleaved;
// BENCH_PAGE_DEBUG=1 logs resource timings and when each report became ready.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createDomainServices } from '@sightline/domain';
import { startBrowser } from '../test/support/browser.js';
import { createScratchDatabase, envNumber, median, startChild, type BenchMetric, type BenchScenario, type ChildServer } from './support/harness.js';

// waitForFunction callbacks run in the browser; this program has no DOM types.
declare const document: any;
declare const MutationObserver: any;

const ENCRYPTION_KEY_HEX = '07'.repeat(32);
const REPORTS = 12;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A static server of the same asset bytes and a page that loads them all (the floor). */
async function staticFloor(apiUrl: string, pageHtml: string): Promise<{ url: string; close(): Promise<void> }> {
  const names = [...pageHtml.matchAll(/\/shared-assets\/([A-Za-z0-9_-]+\.(?:js|css))/g)].map((m) => m[1]!);
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of new Set(names)) {
    const res = await fetch(`${apiUrl}/shared-assets/${name}`);
    files.set(name, { body: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') ?? 'text/plain' });
  }
  const css = names
    .filter((n) => n.endsWith('.css'))
    .map((n) => `<link rel="stylesheet" href="/a/${n}">`)
    .join('');
  const js = names.filter((n) => n.endsWith('.js') && !n.startsWith('viewer-'));
  const html =
    `<!doctype html><html><head>${css}</head><body><script type="module">` +
    `Promise.all(${JSON.stringify(js.map((n) => `/a/${n}`))}.map((u) => import(u))).then(() => { document.title = 'loaded'; });</script></body></html>`;
  const server = http.createServer((req, res) => {
    const name = req.url?.startsWith('/a/') ? req.url.slice(3) : undefined;
    const file = name ? files.get(name) : undefined;
    if (file) res.writeHead(200, { 'Content-Type': file.type, 'Cache-Control': 'public, max-age=31536000, immutable' }).end(file.body);
    else res.writeHead(200, { 'Content-Type': 'text/html' }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export const scenario: BenchScenario = {
  name: 'shared-page',
  description: 'Shared dashboard page with 12 current reports in chromium: time until every report shows vs the same assets on a static server',
  async run(ctx) {
    const metrics: BenchMetric[] = [];
    const scratch = await createScratchDatabase('bench_page');
    const children: ChildServer[] = [];
    try {
      const services = createDomainServices({ db: scratch.db, encryptionKey: Buffer.from(ENCRYPTION_KEY_HEX, 'hex') });
      const { adminKey } = await services.organizations.create('Bench');
      const [apiPort, dataPort] = [await freePort(), await freePort()];
      const env = {
        SIGHTLINE_DATA_TOKEN_SECRET: 'bench-data-token-secret-0123456789abcdef',
        SIGHTLINE_ENCRYPTION_KEY: ENCRYPTION_KEY_HEX,
        LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        API_PORT: String(apiPort),
        DATA_PORT: String(dataPort),
        API_BASE_URL: `http://127.0.0.1:${apiPort}`,
        DATA_BASE_URL: `http://127.0.0.1:${dataPort}`,
        DATABASE_URL: scratch.url,
      };
      children.push(await startChild('apps/worker/src/main.ts', env, /(Worker ready)/));
      children.push(await startChild('apps/data-server/src/main.ts', env, /Data server: (\S+)/));
      const api = await startChild('apps/api-server/src/main.ts', env, /API server: (\S+)/);
      children.push(api);
      const headers = { Authorization: `Api ${adminKey.secret}`, 'Content-Type': 'application/json' };
      const call = async (path: string, body: unknown) => {
        const res = await fetch(`${api.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
        if (res.status >= 300) throw new Error(`POST ${path} answered ${res.status}: ${await res.text()}`);
        return res.json() as Promise<{ data: { id: string; attributes: Record<string, unknown> } }>;
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
      const dashboard = await call('/dashboards', { data: { attributes: { name: 'Twelve reports' } } });
      const rel = { dashboard: { data: { type: 'dashboards', id: dashboard.data.id } }, datasource: { data: { type: 'datasources', id: ds.data.id } } };
      for (let i = 0; i < REPORTS; i++) {
        const report = await call('/reports', {
          data: {
            attributes: {
              name: `Report ${i + 1}`,
              sql_query: `SELECT 'k' || (g % ${i + 3}) AS k, count(*) AS n, sum(g) AS s FROM generate_series(1, 5000) g GROUP BY 1 ORDER BY 1`,
              width: 4,
              height: 5,
            },
            relationships: rel,
          },
        });
        // chart settings are read-only in the API: half the reports are charts, set as a restore would
        if (i % 2 === 0)
          await scratch
            .db('reports')
            .where({ id: report.data.id })
            .update({ chart_configuration: JSON.stringify({ type: i % 4 === 0 ? 'column' : 'line', x: 'k', y: 'n' }) });
      }
      const pollUrl = `${api.url}/dashboards/${dashboard.data.id}/status`;
      for (let i = 0; i < 300; i++) {
        const s = (await (await fetch(pollUrl, { method: 'POST', headers, body: '{"refresh_data":true}' })).json()) as {
          data_keys: Record<string, { result_status: string; running: boolean }>;
        };
        if (Object.values(s.data_keys).length === REPORTS && Object.values(s.data_keys).every((k) => k.result_status === 'success' && !k.running)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const link = await call('/dashboard_sharing_links', {
        data: { attributes: { name: 'bench' }, relationships: { dashboard: { data: { type: 'dashboards', id: dashboard.data.id } } } },
      });
      const pageUrl = `${api.url}/dashboards/${dashboard.data.id}/shared?sharingToken=${String(link.data.attributes.sharing_token)}`;
      const pageHtml = await (await fetch(pageUrl)).text();
      const floor = await staticFloor(api.url, pageHtml);
      const rounds = envNumber('BENCH_PAGE_ROUNDS', 5);
      const first: number[] = [];
      const repeat: number[] = [];
      const floorFirst: number[] = [];
      try {
        for (let round = 0; round < rounds; round++) {
          // a fresh profile per round: the first visit downloads every asset
          const browser = await startBrowser();
          try {
            const page = await browser.context.newPage();
            if (process.env.BENCH_PAGE_DEBUG) {
              await page.addInitScript(() => {
                const w = globalThis as unknown as { readyAt: Record<string, number> };
                w.readyAt = {};
                new MutationObserver((records: Array<{ target: unknown }>) => {
                  for (const r of records) {
                    const el = r.target as unknown as { id: string; dataset: { state?: string } };
                    if (el.dataset?.state) w.readyAt[`${el.id}:${el.dataset.state}`] ??= Math.round(performance.now());
                  }
                }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-state'] });
              });
            }
            for (const [list, url] of [
              [first, pageUrl],
              [repeat, pageUrl],
            ] as const) {
              await page.goto(url, { waitUntil: 'commit' });
              const ms = await page.waitForFunction(
                (n) => document.querySelectorAll('.sl-report[data-state="ready"]').length === n && performance.now(),
                REPORTS,
                { timeout: 60_000, polling: 'raf' },
              );
              list.push(Number(await ms.jsonValue()));
              if (process.env.BENCH_PAGE_DEBUG) {
                ctx.log(
                  JSON.stringify(
                    await page.evaluate(() => ({
                      nav: (performance as any)
                        .getEntriesByType('navigation')
                        .map((e: any) => [Math.round(e.responseEnd), Math.round(e.domContentLoadedEventEnd)]),
                      resources: (performance as any)
                        .getEntriesByType('resource')
                        .map((e: any) => [e.name.replace(/^https?:\/\/[^/]+/, '').slice(0, 50), Math.round(e.startTime), Math.round(e.responseEnd)]),
                      ready: (globalThis as any).readyAt,
                    })),
                  ),
                );
              }
            }
            const floorBrowser = await startBrowser();
            try {
              const floorPage = await floorBrowser.context.newPage();
              await floorPage.goto(floor.url, { waitUntil: 'commit' });
              const fms = await floorPage.waitForFunction(() => document.title === 'loaded' && performance.now(), undefined, {
                timeout: 60_000,
                polling: 'raf',
              });
              floorFirst.push(Number(await fms.jsonValue()));
            } finally {
              await floorBrowser.close();
            }
          } finally {
            await browser.close();
          }
        }
      } finally {
        await floor.close();
      }
      const usable = median(first);
      const static_ = median(floorFirst);
      ctx.log(
        `first visit ${first.map((v) => v.toFixed(0)).join(', ')} ms; repeat ${repeat.map((v) => v.toFixed(0)).join(', ')} ms; static floor ${floorFirst.map((v) => v.toFixed(0)).join(', ')} ms`,
      );
      metrics.push({
        metric: 'shared page usable, 12 current reports, first visit (median)',
        value: usable,
        unit: 'ms',
        goal: '≤ 1000 ms',
        pass: usable <= 1000,
      });
      metrics.push({ metric: 'shared page usable, repeat visit (median)', value: median(repeat), unit: 'ms' });
      metrics.push({ metric: 'static floor: same assets, no data (median)', value: static_, unit: 'ms' });
      metrics.push({ metric: 'first visit / static floor', value: usable / static_, unit: 'x' });
      return metrics;
    } finally {
      for (const c of children) await c.stop();
      await scratch.drop();
    }
  },
};
