// The shared dashboard page in a real browser (Debian's chromium through playwright-core), against the
// real API server, data server and worker on a real PostgreSQL: what a person opening a link sees.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import type { Page, Response as PwResponse } from 'playwright-core';
import { ViewerAssets, createApiApp } from '@sightline/api-server';
import { createDataApp, pageOrigins } from '@sightline/data-server';
import { createLogger, type Principal, type SharingLink, type SharingLinkInput } from '@sightline/domain';
import { listen, type RunningServer } from '@sightline/http';
import { createPlatformTestContext, type PlatformTestContext } from './support/platform.js';
import { startBrowser, testOutputPath, type TestBrowser } from './support/browser.js';

// page.evaluate / waitForFunction callbacks run in the browser; this program has no DOM types.
declare const document: any;
declare const window: any;

const WAIT = 60_000;
const T0 = 1_700_000_000;

let t: PlatformTestContext;
let admin: pg.Client;
let browser: TestBrowser;
let apiServer: RunningServer;
let dataServer: RunningServer;
let principal: Principal;
let dashboardId: string;
let otherDashboardId: string;
const reports: Record<'totals' | 'byStatus' | 'byMonth', string> = { totals: '', byStatus: '', byMonth: '' };

const auth = () => `Api ${t.adminSecret}`;

async function createLink(input: SharingLinkInput = {}, dashboard = dashboardId): Promise<SharingLink> {
  return t.services.sharingLinks.create(principal, { ...input, dashboardId: dashboard });
}

function pageUrl(link: SharingLink, extra: Record<string, string> = {}, dashboard = link.dashboardId): string {
  const q = new URLSearchParams({ sharingToken: link.sharingToken, ...extra });
  return `${apiServer.url}/dashboards/${dashboard}/shared?${q.toString()}`;
}

async function sharingSecret(): Promise<string> {
  return (await t.services.sharingLinks.getSecret(principal)).secret;
}

/** A sharing secret as Cluvio's example client signs it (HS256 with the organization's secret). */
function signSecret(secret: string, claims: Record<string, unknown>): string {
  return jwt.sign(claims, secret, { algorithm: 'HS256', noTimestamp: true });
}

/** Everything a page asked for, and what it got. */
interface Traffic {
  responses: Array<{ url: string; status: number; method: string }>;
  statusPolls(): number;
  dataRequests(): Array<{ url: string; status: number }>;
}

async function openPage(url: string): Promise<{ page: Page; traffic: Traffic; main: PwResponse | null }> {
  const page = await browser.context.newPage();
  await page.addInitScript(() => {
    // what a report shows, as rows: a table's stored cell values, or a chart's data (`f0`, `f1`, … by column)
    window.reportRows = (id: string) => {
      const el: any = document.getElementById(`r-${id}`);
      if (!el || el.dataset.state !== 'ready') return undefined;
      const chart: any = el.querySelector('.sl-chart');
      if (chart)
        return (chart.vegaView.data('source_0') as Array<Record<string, unknown>>).map((d) =>
          Object.keys(d)
            .filter((k) => /^f\d+$/.test(k))
            .sort()
            .map((k) => d[k]),
        );
      return [...el.querySelectorAll('tbody tr')].map((tr: any) => [...tr.cells].map((td: any) => JSON.parse(td.dataset.value ?? 'null')));
    };
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e: any) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const responses: Traffic['responses'] = [];
  page.on('response', (r) => responses.push({ url: r.url(), status: r.status(), method: r.request().method() }));
  const main = await page.goto(url);
  return {
    page,
    main,
    traffic: {
      responses,
      statusPolls: () => responses.filter((r) => r.url.includes('/shared/status') && r.method === 'POST').length,
      dataRequests: () => responses.filter((r) => r.url.startsWith(dataServer.url) && r.method === 'GET'),
    },
  };
}

/** The ARIA labels of a chart's marks (vega-lite describes each bar with its data). */
function chartMarks(page: Page, reportId: string): Promise<string[]> {
  return page.evaluate(
    (id) => [...document.querySelectorAll(`#r-${id} .sl-chart svg .role-mark [aria-label]`)].map((e: any) => e.getAttribute('aria-label') as string),
    reportId,
  );
}

/** The data a chart draws, or a table's rows (see `reportRows` in `openPage`). */
function chartData(page: Page, reportId: string): Promise<unknown[][]> {
  return page.evaluate((id) => window.reportRows(id), reportId);
}

/** Rows of a report's table, as the stored values the cells carry. */
function tableRows(page: Page, reportId: string): Promise<unknown[][]> {
  return page.evaluate((id) => window.reportRows(id), reportId);
}

async function waitAllReady(page: Page): Promise<void> {
  await page.waitForFunction((n) => document.querySelectorAll('.sl-report[data-state="ready"]').length === n, 3, { timeout: WAIT });
}

/** Waits until a report shows exactly `expected` (stored values, numbers compared as numbers). */
async function waitForRows(page: Page, reportId: string, expected: unknown[][]): Promise<void> {
  await page.waitForFunction(
    ({ id, want }) => {
      const rows: unknown[][] | undefined = window.reportRows(id);
      if (!rows) return false;
      const norm = (v: unknown) => (typeof v === 'string' && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : v);
      return JSON.stringify(rows.map((r) => r.map(norm))) === JSON.stringify(want.map((r) => r.map(norm)));
    },
    { id: reportId, want: expected },
    { timeout: WAIT },
  );
}

async function db(sql: string, values: unknown[] = []): Promise<unknown[][]> {
  const res = await admin.query({ text: sql, values, rowMode: 'array' });
  return res.rows.map((r: unknown[]) => r.map((v) => (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v)));
}

const normalize = (rows: unknown[][]) => rows.map((r) => r.map((v) => (typeof v === 'string' && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : v)));

beforeAll(async () => {
  t = await createPlatformTestContext();
  principal = await t.services.apiKeys.authenticate(auth());
  admin = new pg.Client({ connectionString: t.database.url });
  await admin.connect();
  await admin.query('CREATE TABLE shop_orders (id int PRIMARY KEY, status text, region text, amount numeric(10,2), created_at timestamptz)');
  await admin.query(
    `INSERT INTO shop_orders SELECT g, (ARRAY['paid','open','refunded'])[1 + g % 3], (ARRAY['north','south'])[1 + g % 2], g * 1.25, to_timestamp(${T0} + g * 43200) FROM generate_series(1, 600) g`,
  );

  const logger = createLogger('silent', 'test');
  const assets = new ViewerAssets(logger);
  let dataUrl: string | undefined;
  apiServer = await listen(
    createApiApp({ db: t.database.db, logger, services: t.services, maxBodyBytes: 1 << 20, viewerAssets: assets, dataBaseUrl: () => dataUrl }),
    '127.0.0.1',
    0,
  );
  const origins = pageOrigins([apiServer.url]);
  dataServer = await listen(
    createDataApp({ db: t.database.db, logger, resultStore: t.services.resultStore, tokens: t.services.tokens, corsOrigins: () => origins }),
    '127.0.0.1',
    0,
  );
  dataUrl = dataServer.url;

  const ds = await t.api
    .post('/datasources')
    .set('Authorization', auth())
    .send({
      data: {
        attributes: {
          name: 'Shop',
          database_type: 'postgres',
          connection_mode: 'direct',
          host: '127.0.0.1',
          port: 5432,
          username: 'postgres',
          database: t.database.name,
          require_ssl: false,
        },
      },
    });
  expect(ds.status).toBe(201);
  const datasource = { data: { type: 'datasources', id: ds.body.data.id as string } };
  const dash = await t.api
    .post('/dashboards')
    .set('Authorization', auth())
    .send({ data: { attributes: { name: 'Shop overview', description: 'Orders by status and region', data_refresh_rate: 60 } } });
  expect(dash.status).toBe(201);
  dashboardId = dash.body.data.id;
  const filter = async (attributes: Record<string, unknown>, relationships?: Record<string, unknown>) => {
    const res = await t.api
      .post('/filters')
      .set('Authorization', auth())
      .send({ data: { attributes, ...(relationships ? { relationships } : {}) } });
    expect(res.status).toBe(201);
  };
  await filter({
    variable_name: 'status',
    display_name: 'Status',
    control_type: 'dropdown_manual',
    value_type: 'TEXT',
    values: ['paid', 'open', 'refunded'],
    value_names: ['Paid', 'Open', 'Refunded'],
  });
  await filter(
    {
      variable_name: 'region',
      display_name: 'Region',
      control_type: 'dropdown_multi',
      value_type: 'TEXT',
      sql_query: 'SELECT DISTINCT region FROM shop_orders ORDER BY 1',
    },
    { datasource },
  );
  const report = async (name: string, sql: string, width: number) => {
    const res = await t.api
      .post('/reports')
      .set('Authorization', auth())
      .send({
        data: {
          attributes: { name, sql_query: sql, width, height: 5 },
          relationships: { dashboard: { data: { type: 'dashboards', id: dashboardId } }, datasource },
        },
      });
    expect(res.status).toBe(201);
    return res.body.data.id as string;
  };
  reports.totals = await report('Totals', 'SELECT count(*) AS orders, sum(amount) AS revenue FROM shop_orders WHERE {status=status} AND {region=region}', 4);
  reports.byStatus = await report(
    'By status',
    'SELECT status, count(*) AS orders FROM shop_orders WHERE {region=region} AND {created_at=timerange} GROUP BY 1 ORDER BY 1',
    4,
  );
  reports.byMonth = await report(
    'By period',
    'SELECT {created_at:aggregation} AS bucket, count(*) AS orders FROM shop_orders WHERE {status=status} AND {region=region} GROUP BY 1 ORDER BY 1',
    4,
  );

  // chart settings are read-only in the API (contract §3.7): set as a backup restore or the UI would
  await admin.query(`UPDATE reports SET chart_configuration = $2 WHERE id = $1`, [reports.byStatus, { type: 'column', x: 'status', y: 'orders' }]);
  await admin.query(`UPDATE reports SET chart_configuration = $2 WHERE id = $1`, [reports.byMonth, { type: 'line', x: 'bucket', y: 'orders' }]);

  const other = await t.api
    .post('/dashboards')
    .set('Authorization', auth())
    .send({ data: { attributes: { name: 'Other' } } });
  otherDashboardId = other.body.data.id;

  await assets.get();
  browser = await startBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await apiServer?.close();
  await dataServer?.close();
  await admin?.end();
  await t?.close();
});

describe('the shared dashboard page in a browser', () => {
  it("shows every report with the database's numbers, the filters as controls, and no CSP violation", async () => {
    const link = await createLink({ name: 'Public' });
    const { page, main, traffic } = await openPage(pageUrl(link));
    expect(main?.status()).toBe(200);
    const headers = main!.headers();
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['x-frame-options']).toBe('DENY');
    await waitAllReady(page);
    await expect(page.title()).resolves.toBe('Shop overview · Public');
    expect(normalize(await tableRows(page, reports.totals))).toEqual(await db('SELECT count(*)::int, sum(amount) FROM shop_orders'));
    // charts from the shared spec builder, drawn by vega-embed: the bars say their values, the line draws the rows
    const byStatus = await db('SELECT status, count(*)::int FROM shop_orders GROUP BY 1 ORDER BY 1');
    await expect(page.locator(`#r-${reports.byStatus} .sl-chart`).getAttribute('data-chart-type')).resolves.toBe('column');
    expect(await chartMarks(page, reports.byStatus)).toEqual(byStatus.map(([s, n]) => `Status: ${String(s)}; Orders: ${String(n)}`));
    expect(normalize(await chartData(page, reports.byStatus))).toEqual(byStatus);
    const days = await db("SELECT extract(epoch FROM date_trunc('day', created_at))::bigint * 1000, count(*)::int FROM shop_orders GROUP BY 1 ORDER BY 1");
    expect(days.length).toBe(300);
    await expect(page.locator(`#r-${reports.byMonth} .sl-chart`).getAttribute('data-chart-type')).resolves.toBe('line');
    expect(normalize(await chartData(page, reports.byMonth))).toEqual(days);
    // controls: the manual drop-down with its labels, the SQL drop-down filled from its stored result, time range and aggregation
    await expect(page.locator('[data-variable="status"] option').allTextContents()).resolves.toEqual(['All', 'Paid', 'Open', 'Refunded']);
    await page.waitForSelector('[data-variable="region"] select[data-options-loaded="true"]', { timeout: WAIT });
    await expect(page.locator('[data-variable="region"] option').allTextContents()).resolves.toEqual(['north', 'south']);
    await expect(page.locator('[data-param="timerange"] select').count()).resolves.toBe(1);
    await expect(page.locator('[data-param="aggregation"] select').inputValue()).resolves.toBe('day');
    // the grid: each report where its layout says
    const boxes = await Promise.all(Object.values(reports).map((id) => page.locator(`#r-${id}`).boundingBox()));
    expect(boxes.every((b) => b && b.width > 100 && b.height > 100)).toBe(true);
    expect(new Set(boxes.map((b) => Math.round(b!.y))).size).toBe(1);
    // the data came from the data server with data tokens, and nothing broke the CSP
    expect(traffic.dataRequests().length).toBeGreaterThanOrEqual(4);
    expect(traffic.dataRequests().every((r) => r.status === 200)).toBe(true);
    expect(await page.evaluate(() => window.cspViolations)).toEqual([]);
    const html = await page.content();
    expect(html).not.toContain(t.adminSecret);
    expect(html).not.toContain('shop_orders');
    await page.screenshot({ path: testOutputPath(`shared-dashboard-${new Date().toISOString().replace(/[:.]/g, '-')}.png`), fullPage: true });
    const link2 = await t.services.sharingLinks.get(principal, link.id);
    expect(link2.lastViewedAt).not.toBeNull();
    await page.close();
  });

  it('re-polls when a filter changes and shows the new numbers', async () => {
    const link = await createLink();
    const { page, traffic } = await openPage(pageUrl(link));
    await waitAllReady(page);
    const polls = traffic.statusPolls();
    await page.locator('[data-variable="status"] select').selectOption('paid');
    await waitForRows(page, reports.totals, await db("SELECT count(*)::int, sum(amount) FROM shop_orders WHERE status = 'paid'"));
    expect(traffic.statusPolls()).toBeGreaterThan(polls);
    // a multi-select waits for nothing but its own change; the region filter narrows every report using it
    await page.locator('[data-variable="region"] select').selectOption(['south']);
    await page.locator('[data-variable="region"] select').dispatchEvent('change');
    await page.evaluate(() => document.getElementById('sl-filters').requestSubmit());
    await waitForRows(page, reports.totals, await db("SELECT count(*)::int, sum(amount) FROM shop_orders WHERE status = 'paid' AND region = 'south'"));
    await waitForRows(page, reports.byStatus, await db("SELECT status, count(*)::int FROM shop_orders WHERE region = 'south' GROUP BY 1 ORDER BY 1"));
    await page.locator('[data-param="aggregation"] select').selectOption('month');
    await waitForRows(
      page,
      reports.byMonth,
      await db(
        "SELECT extract(epoch FROM date_trunc('month', created_at))::bigint * 1000, count(*)::int FROM shop_orders WHERE status = 'paid' AND region = 'south' GROUP BY 1 ORDER BY 1",
      ),
    );
    await page.close();
  });

  /** Opens `url`, expects the plain error page with `status`, and that the page made no data or status request. */
  async function expectRefused(url: string, status: number, text: RegExp): Promise<void> {
    const { page, main, traffic } = await openPage(url);
    expect(main?.status()).toBe(status);
    await expect(page.locator('[data-notice]').textContent()).resolves.toMatch(text);
    expect(main!.headers()['content-security-policy']).toContain("script-src 'none'");
    expect(await page.locator('script').count()).toBe(0);
    expect(traffic.statusPolls()).toBe(0);
    expect(traffic.dataRequests()).toEqual([]);
    await page.close();
  }

  it("refuses expired and forged secrets, disabled links, rotated tokens and other organizations' tokens with a plain page", async () => {
    const secret = await sharingSecret();
    const embedded = await createLink({ requiresSecret: true });
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(pageUrl(embedded), 403, /only be opened from the application/);
    await expectRefused(
      pageUrl(embedded, { sharingSecret: signSecret(secret, { sharing_token: embedded.sharingToken, exp: now - 60 }) }),
      403,
      /signed link has expired/,
    );
    await expectRefused(
      pageUrl(embedded, { sharingSecret: signSecret('not-the-organization-secret', { sharing_token: embedded.sharingToken, exp: now + 600 }) }),
      403,
      /signature is not valid/,
    );
    await expectRefused(pageUrl(embedded, { sharingSecret: signSecret(secret, { sharing_token: embedded.sharingToken }) }), 403, /signature is not valid/);
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sharing_token: embedded.sharingToken, exp: now + 600 })).toString('base64url')}.`;
    await expectRefused(pageUrl(embedded, { sharingSecret: unsigned }), 403, /signature is not valid/);
    // a valid secret of another link does not open this one
    const otherLink = await createLink({ requiresSecret: true });
    await expectRefused(
      pageUrl(embedded, { sharingSecret: signSecret(secret, { sharing_token: otherLink.sharingToken, exp: now + 600 }) }),
      403,
      /signature is not valid/,
    );

    const disabled = await createLink({ enabled: false });
    await expectRefused(pageUrl(disabled), 403, /has been disabled/);
    const expired = await createLink();
    await t.services.sharingLinks.update(principal, expired.id, { expiresAt: new Date(Date.now() - 1000) });
    await expectRefused(pageUrl(expired), 410, /has expired/);
    await expectRefused(pageUrl(expired, {}, otherDashboardId), 404, /does not exist/);
    await expectRefused(`${apiServer.url}/dashboards/${dashboardId}/shared?sharingToken=not-a-token`, 404, /does not exist/);
    await expectRefused(`${apiServer.url}/dashboards/${dashboardId}/shared`, 404, /does not exist/);

    // another organization's link, on its own dashboard id and on ours
    const { adminKey } = await t.services.organizations.create('Other Org');
    const otherPrincipal = await t.services.apiKeys.authenticate(`Api ${adminKey.secret}`);
    const theirDashboard = await t.services.dashboards.create(otherPrincipal, { name: 'Theirs' });
    const theirs = await t.services.sharingLinks.create(otherPrincipal, { dashboardId: theirDashboard.id });
    await expectRefused(pageUrl(theirs, {}, dashboardId), 404, /does not exist/);
  });

  it('ends open pages at once when the link is rotated or disabled: no status or data request succeeds after', async () => {
    const link = await createLink();
    const { page, traffic } = await openPage(pageUrl(link));
    await waitAllReady(page);
    const viewerToken = JSON.parse((await page.locator('#sl-config').textContent())!).viewerToken as string;
    const statusUrl = `${apiServer.url}/dashboards/${dashboardId}/shared/status`;
    const pollWith = (token: string, url = statusUrl) =>
      fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Viewer ${token}` }, body: '{"refresh_data":false}' });
    expect((await pollWith(viewerToken)).status).toBe(200);
    // the viewer token is no API key, and it opens no other dashboard
    expect((await fetch(`${apiServer.url}/dashboards/${dashboardId}`, { headers: { Authorization: `Viewer ${viewerToken}` } })).status).toBe(401);
    expect((await pollWith(viewerToken, `${apiServer.url}/dashboards/${otherDashboardId}/shared/status`)).status).toBe(403);

    const rotated = await t.services.sharingLinks.rotateToken(principal, link.id);
    expect(rotated.sharingToken).not.toBe(link.sharingToken);
    expect((await pollWith(viewerToken)).status).toBe(401);
    await expectRefused(pageUrl(link), 404, /does not exist/);
    // the open page finds out at its next poll and stops
    const before = traffic.dataRequests().length;
    await page.locator('[data-variable="status"] select').selectOption('open');
    await page.waitForSelector('#sl-banner:not([hidden])', { timeout: WAIT });
    await expect(page.locator('#sl-banner').textContent()).resolves.toMatch(/no longer available/);
    expect(traffic.responses.filter((r) => r.url.includes('/shared/status')).at(-1)!.status).toBe(401);
    expect(traffic.dataRequests().length).toBe(before);
    await page.close();

    // the new URL works; disabling it ends its page too
    const fresh = await openPage(pageUrl(rotated));
    await waitAllReady(fresh.page);
    const freshToken = JSON.parse((await fresh.page.locator('#sl-config').textContent())!).viewerToken as string;
    await t.services.sharingLinks.update(principal, link.id, { enabled: false });
    expect((await pollWith(freshToken)).status).toBe(403);
    await fresh.page.close();
  });

  it('holds fixed parameters of the link and the sharing secret, whatever the URL or the page asks for', async () => {
    const secret = await sharingSecret();
    const link = await createLink({ requiresSecret: true, fixedParameters: { filters: { status: ['refunded'] } } });
    const signed = signSecret(secret, {
      sharing_token: link.sharingToken,
      exp: Math.floor(Date.now() / 1000) + 600,
      fixed_parameters: { region: ['north'], aggregation: 'month', status: ['paid'] },
    });
    const url = pageUrl(link, { sharingSecret: signed, filters: JSON.stringify({ status: ['paid'], region: ['south'] }), aggregation: 'day' });
    const { page } = await openPage(url);
    await waitAllReady(page);
    const expectedTotals = await db("SELECT count(*)::int, sum(amount) FROM shop_orders WHERE status = 'refunded' AND region = 'north'");
    expect(normalize(await tableRows(page, reports.totals))).toEqual(expectedTotals);
    const months = await db(
      "SELECT extract(epoch FROM date_trunc('month', created_at))::bigint * 1000, count(*)::int FROM shop_orders WHERE status = 'refunded' AND region = 'north' GROUP BY 1 ORDER BY 1",
    );
    expect(normalize(await chartData(page, reports.byMonth))).toEqual(months);
    // fixed filters have no control; the time range (not fixed) has
    await expect(page.locator('[data-variable="status"], [data-variable="region"], [data-param="aggregation"]').count()).resolves.toBe(0);
    await expect(page.locator('[data-param="timerange"]').count()).resolves.toBe(1);

    // the page itself asks for other values: the server answers with the fixed ones
    const shown = await page.evaluate((id: string) => document.getElementById(`r-${id}`).dataset.dataKey, reports.totals);
    const answer = await page.evaluate(async () => {
      const config = JSON.parse(document.getElementById('sl-config').textContent);
      const res = await fetch(config.statusUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Viewer ${config.viewerToken}` },
        body: JSON.stringify({
          refresh_data: true,
          parameters: {
            aggregation: 'day',
            filters: [
              { variable_name: 'status', selected_values: ['paid'] },
              { variable_name: 'region', selected_values: ['south'] },
            ],
          },
        }),
      });
      return { status: res.status as number, body: (await res.json()) as any };
    });
    expect(answer.status).toBe(200);
    expect(answer.body.reports[reports.totals].data_key).toBe(shown);
    // the fixed filter's own options are not handed out
    expect(Object.keys(answer.body.filters)).toEqual([]);
    const key = answer.body.data_keys[shown]!;
    const data = await fetch(`${dataServer.url}/results/${shown}`, { headers: { Authorization: `Data ${key.data_access_token}` } });
    expect(normalize(((await data.json()) as { rows: unknown[][] }).rows)).toEqual(expectedTotals);

    // changing a signed claim breaks the signature
    const [h, p, sig] = signed.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    claims.fixed_parameters.region = ['south'];
    await expectRefused(
      pageUrl(link, { sharingSecret: `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}` }),
      403,
      /signature is not valid/,
    );
    await page.close();
  });
});
