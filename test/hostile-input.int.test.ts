// Cross-cutting: every route of the API server, fed hostile bodies, ids and query strings, answers
// a JSON:API error below 500 (or a success), never a 5xx. The route list is read from the app's own
// routers, so a route added later is covered without touching this file.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Test } from 'supertest';
import { DOCUMENTATION_ROUTES, SHARED_PAGE_ROUTES, createApiApp } from '@sightline/api-server';
import { createLogger } from '@sightline/domain';
import { createPlatformTestContext, type PlatformTestContext } from './support/platform.js';
import { expectValidJsonApi } from './support/jsonapi-schema.js';

let t: PlatformTestContext;
const ids: Record<string, string> = {};

interface RouteLayer {
  path: string | RegExp;
  methods: string[];
  paramNames: Array<{ name: string }>;
}

/** Every [method, path] the API app routes, read from its routers (`router.routes()` middlewares). */
function appRoutes(): Array<[string, string]> {
  const app = createApiApp({ db: t.database.db, logger: createLogger('silent', 'test'), services: t.services, maxBodyBytes: t.config.maxBodyBytes });
  const layers = app.middleware.flatMap((m) => (m as { router?: { stack: RouteLayer[] } }).router?.stack ?? []);
  const out = new Map<string, [string, string]>();
  for (const layer of layers) {
    if (typeof layer.path !== 'string') continue;
    for (const method of layer.methods) if (method !== 'HEAD') out.set(`${method} ${layer.path}`, [method.toLowerCase(), layer.path]);
  }
  return [...out.values()];
}

/** Routes that answer without an API key (their own credential, or none). */
const OPEN_ROUTES = new Set([
  'get /health',
  'get /invitations/:token/accept',
  'post /invitations/:token/accept',
  ...[...SHARED_PAGE_ROUTES, ...DOCUMENTATION_ROUTES].map((r) => r.replace(/\{(\w+)\}/g, ':$1').replace(/^(\w+) /, (m) => m.toLowerCase())),
]);
/** Path parameters that are no ids (checked by their own route). */
const NOT_ID_PARAMETERS = new Set([':file']);
/** The resource a route's `:id` names, for filling in a real id. */
const RESOURCE_OF: Record<string, string> = {
  datasources: 'datasource',
  dashboards: 'dashboard',
  reports: 'report',
  api_keys: 'api_key',
  datasource_agents: 'agent',
};

/** The path with real ids where one exists (else an unknown well-formed id), or `override` for every parameter. */
function fillRoute(path: string, override?: string): string {
  const resource = RESOURCE_OF[path.split('/')[1] ?? ''];
  return path.replace(/:(\w+)/g, () => override ?? (resource ? ids[resource]! : 'zzzz-zzzz-zzzz'));
}

const request = (method: string, path: string): Test => (t.api as unknown as Record<string, (p: string) => Test>)[method]!(path);

const ROUTES: Array<[string, string]> = [
  ['post', '/api_keys'],
  ['patch', '/api_keys/:api_key'],
  ['delete', '/api_keys/:none'],
  ['post', '/datasources'],
  ['patch', '/datasources/:datasource'],
  ['post', '/datasources/:datasource/test_connection'],
  ['post', '/datasources/:datasource/executions'],
  ['post', '/datasources/:datasource/refresh'],
  ['get', '/datasources/:datasource/schema'],
  ['get', '/executions/:none'],
  ['post', '/executions/:none/cancel'],
  ['get', '/executions/:none/data'],
  ['post', '/dashboards'],
  ['patch', '/dashboards/:dashboard'],
  ['post', '/dashboards/:dashboard/status'],
  ['post', '/dashboards/:dashboard/refresh'],
  ['put', '/dashboards/:dashboard/layout'],
  ['post', '/dashboards/:dashboard/share'],
  ['post', '/dashboards/:dashboard/duplicate'],
  ['post', '/dashboard_groups'],
  ['post', '/dashboard_groups/sort'],
  ['post', '/reports'],
  ['patch', '/reports/:report'],
  ['post', '/reports/:report/data'],
  ['post', '/reports/:report/refresh'],
  ['post', '/filters'],
  ['patch', '/filters/:none'],
  ['post', '/filters/:none/options'],
  ['post', '/sql_snippets'],
  ['patch', '/sql_snippets/:none'],
  ['post', '/users/invite'],
  ['patch', '/users/:none'],
  ['post', '/users/:none/activate'],
  ['post', '/user_groups'],
  ['patch', '/user_groups/:none'],
  ['post', '/invitations/:none/accept'],
  ['post', '/dashboard_schedules'],
  ['patch', '/dashboard_schedules/:schedule'],
  ['post', '/dashboard_schedules/:schedule/trigger'],
  ['get', '/dashboard_schedules/:schedule'],
  ['post', '/sql_alerts'],
  ['patch', '/sql_alerts/:alert'],
  ['post', '/sql_alerts/:alert/run'],
  ['get', '/sql_alerts/:alert/results'],
  ['get', '/sql_alerts/:alert'],
  ['post', '/dashboards/:dashboard/export_pdf'],
  ['post', '/dashboards/:dashboard/export_png'],
  ['post', '/reports/:report/export_pdf'],
  ['post', '/reports/:report/export_png'],
  ['post', '/reports/:report/export_csv'],
  ['get', '/export_jobs/:none'],
  ['post', '/export_jobs/:none/cancel'],
  ['post', '/dashboard_sharing_links'],
  ['patch', '/dashboard_sharing_links/:none'],
  ['post', '/dashboard_sharing_links/:none/rotate_token'],
  ['post', '/dashboards/:dashboard/shared/status'],
  ['post', '/datasource_agents'],
  ['patch', '/datasource_agents/:agent'],
  ['get', '/datasource_agents/:agent'],
];

const deep = (n: number): unknown => (n === 0 ? 'x' : { data: deep(n - 1), a: [deep(0)] });
const BODIES: Array<[string, string]> = [
  ['malformed JSON', '{"data": {"attributes": '],
  ['array', '[1,2,3]'],
  ['string', '"hello"'],
  ['null data', '{"data":null}'],
  [
    'wrong types',
    JSON.stringify({
      data: { attributes: { name: 12, sql_query: [], share_mode: {}, layout: 'x' }, relationships: { dashboard: 'x' } },
      sql_query: 5,
      parameters: 'x',
      refresh_data: 'yes',
    }),
  ],
  [
    'NUL and SQL',
    JSON.stringify({
      data: { attributes: { name: "a\u0000'; DROP TABLE organizations; --" } },
      sql_query: "SELECT '\u0000'",
      email: "x'@y",
      share_mode: 'none',
      user_group_ids: ["' OR 1=1 --"],
    }),
  ],
  [
    'huge numbers',
    JSON.stringify({
      data: { attributes: { port: 1e308, max_concurrent_executions: -1, width: 1e20 } },
      layout: [{ type: 'report', id: 'x', row: 1e30, column: -5, width: 0, height: 'x' }],
    }),
  ],
  ['prototype pollution', '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}},"data":{"attributes":{"__proto__":{"x":1}}}}'],
  ['deep nesting', JSON.stringify(deep(200))],
];
const ODD_IDS = ['%00', "'%20OR%201=1", '..%2F..%2Fetc', 'x'.repeat(3000), '%F0%9F%92%A9', '00000000-0000-0000-0000-000000000000'];

beforeAll(async () => {
  // This file sends hundreds of requests without a valid key on purpose: the failed-authentication
  // limit (tested in api-keys.int.test.ts) is set out of reach so every answer here is the plain one.
  t = await createPlatformTestContext({ worker: false, env: { AUTH_FAILURE_LIMIT: '1000000' } });
  const auth = { Authorization: `Api ${t.adminSecret}` };
  ids.datasource = (
    await t.api
      .post('/datasources')
      .set(auth)
      .send({
        data: {
          attributes: {
            name: 'd',
            database_type: 'postgres',
            connection_mode: 'direct',
            host: '127.0.0.1',
            port: 5432,
            username: 'postgres',
            database: t.database.name,
            require_ssl: false,
          },
        },
      })
  ).body.data.id;
  ids.dashboard = (
    await t.api
      .post('/dashboards')
      .set(auth)
      .send({ data: { attributes: { name: 'D' } } })
  ).body.data.id;
  ids.report = (
    await t.api
      .post('/reports')
      .set(auth)
      .send({
        data: {
          attributes: { name: 'R', sql_query: 'SELECT 1' },
          relationships: { dashboard: { data: { type: 'dashboards', id: ids.dashboard } }, datasource: { data: { type: 'datasources', id: ids.datasource } } },
        },
      })
  ).body.data.id;
  ids.api_key = (await t.api.get('/api_keys').set(auth)).body.data[0].id;
  ids.schedule = (
    await t.api
      .post('/dashboard_schedules')
      .set(auth)
      .send({
        data: {
          attributes: { name: 'S', emails: 'a@example.com', attach_as: '', schedule: 'disabled' },
          relationships: { dashboard: { data: { type: 'dashboards', id: ids.dashboard } } },
        },
      })
  ).body.data.id;
  ids.alert = (
    await t.api
      .post('/sql_alerts')
      .set(auth)
      .send({
        data: {
          attributes: { name: 'A', sql_query: 'SELECT 1', run_schedule: 'disabled', email_condition: 'all' },
          relationships: { datasource: { data: { type: 'datasources', id: ids.datasource } } },
        },
      })
  ).body.data.id;
  ids.agent = (
    await t.api
      .post('/datasource_agents')
      .set(auth)
      .send({ data: { attributes: { name: 'agent' } } })
  ).body.data.id;
  ids.none = 'zzzz-zzzz-zzzz';
});
afterAll(async () => {
  await t?.close();
});

function fill(path: string, override?: string): string {
  return path.replace(/:(\w+)/g, (_m, name: string) => override ?? ids[name]!);
}

async function expectNo5xx(res: { status: number; body: unknown; text: string; headers: Record<string, string> }, label: string): Promise<void> {
  expect([label, res.status < 500]).toEqual([label, true]);
  // the shared dashboard page answers its visitors with HTML pages; everything else with JSON:API
  if (res.status >= 400 && !String(res.headers['content-type'] ?? '').startsWith('text/html')) expectValidJsonApi(res.body);
}

describe('hostile input never gets a 5xx', () => {
  it.each(ROUTES)('%s %s with hostile bodies', async (method, path) => {
    for (const [label, body] of BODIES) {
      for (const type of ['application/json', 'application/vnd.api+json']) {
        const res = await (t.api as unknown as Record<string, (p: string) => import('supertest').Test>)[method]!(fill(path))
          .set('Authorization', `Api ${t.adminSecret}`)
          .set('Content-Type', type)
          .send(body);
        await expectNo5xx(res, `${method} ${path} ${label} ${type}`);
      }
    }
  });

  it.each(ROUTES.filter(([, p]) => p.includes(':')))('%s %s with odd ids and query strings', async (method, path) => {
    for (const id of ODD_IDS) {
      const res = await (t.api as unknown as Record<string, (p: string) => import('supertest').Test>)[method]!(`${fill(path, id)}?include=%00&x[y]=1`)
        .set('Authorization', `Api ${t.adminSecret}`)
        .set('Content-Type', 'application/json')
        .send('{}');
      await expectNo5xx(res, `${method} ${path} ${id.slice(0, 20)}`);
    }
  });

  it('the route list read from the app is complete', () => {
    const routes = appRoutes().map(([m, p]) => `${m} ${p.replace(/:\w+/g, ':x')}`);
    for (const [method, path] of ROUTES) expect(routes).toContain(`${method} ${path.replace(/:\w+/g, ':x')}`);
    expect(routes.length).toBeGreaterThan(60);
  });

  it('the data server shrugs off hostile keys and tokens', async () => {
    for (const path of [
      '/results/%00',
      '/results/' + 'a/'.repeat(400),
      '/schemas/..%2f..',
      '/results/x?offset=-1&limit=1e99',
      '/results/a/b?format=xml',
      '/exports/%00?token=x',
      '/exports/00000000-0000-0000-0000-000000000000/a.pdf?token=' + 'A'.repeat(5000),
      '/exports/..%2f..?token=a.b.c&token=d',
      '/exports/x/y/z',
    ]) {
      for (const token of ['Data x.y.z', 'Data ' + 'A'.repeat(5000), 'Bearer x', '']) {
        const res = await t.data.get(path).set('Authorization', token);
        await expectNo5xx(res, `${path} ${token.slice(0, 12)}`);
      }
    }
  });
});

// Ids that can name nothing: NUL and other control characters, SQL, path tricks, overlong, non-ASCII.
const MALFORMED_IDS = ['%00', 'a%00b', "'%20OR%201=1", '..%2F..%2Fetc', 'x'.repeat(3000), '%F0%9F%92%A9', '%FF', 'a%0Ab', '%20', 'a.b', '*'];
const WELL_FORMED_UNKNOWN_IDS = ['00000000-0000-0000-0000-000000000000', 'zzzz-zzzz-zzzz', 'A'.repeat(43)];

describe('every id path parameter of every route is checked in one place (404 for what cannot be an id)', () => {
  it('answers 404 for ids that cannot exist, whatever the method, body or query', async () => {
    const routes = appRoutes().filter(([, p]) => p.includes(':') && !(p.match(/:\w+/g) ?? []).some((name) => NOT_ID_PARAMETERS.has(name)));
    expect(routes.length).toBeGreaterThan(40);
    for (const [method, path] of routes) {
      for (const id of MALFORMED_IDS) {
        const res = await request(method, fillRoute(path, id)).set('Authorization', `Api ${t.adminSecret}`).set('Content-Type', 'application/json').send('{}');
        expect([method, path, id.slice(0, 12), res.status]).toEqual([method, path, id.slice(0, 12), 404]);
        expectValidJsonApi(res.body);
      }
    }
  });

  it('answers below 500 for well-formed ids that name nothing', async () => {
    // (the open routes answer for their own credentials; test/shared-dashboard-page covers the page)
    for (const [method, path] of appRoutes().filter(([m, p]) => p.includes(':') && !OPEN_ROUTES.has(`${m} ${p}`))) {
      for (const id of WELL_FORMED_UNKNOWN_IDS) {
        const res = await request(method, fillRoute(path, id)).set('Authorization', `Api ${t.adminSecret}`).set('Content-Type', 'application/json').send('{}');
        await expectNo5xx(res, `${method} ${path} ${id.slice(0, 12)}`);
      }
    }
  });
});

describe('authentication comes before routing (route names cannot be probed)', () => {
  const BAD_CREDENTIALS: Array<[string, Record<string, string>]> = [
    ['no Authorization', {}],
    ['an unknown key', { Authorization: 'Api sl_this-key-does-not-exist-0123456789' }],
    ['another scheme', { Authorization: 'Bearer abc' }],
    ['a malformed header', { Authorization: 'Api' }],
  ];

  it('answers 401 on every route without a valid key (health and invitations aside)', async () => {
    for (const [method, path] of appRoutes()) {
      const open = OPEN_ROUTES.has(`${method} ${path}`);
      for (const [label, headers] of BAD_CREDENTIALS) {
        const res = await request(method, fillRoute(path)).set(headers).set('Content-Type', 'application/json').send('{}');
        if (open) {
          // not held up by the API key check (the shared page's status route checks its own viewer token)
          expect([method, path, label, res.headers['www-authenticate'] ?? 'none']).not.toEqual([method, path, label, 'Api']);
          continue;
        }
        expect([method, path, label, res.status]).toEqual([method, path, label, 401]);
        expect(res.headers['www-authenticate']).toBe('Api');
        expectValidJsonApi(res.body);
      }
    }
  });

  it('answers 401 for paths and methods that do not exist, and 404/405 only to a valid key', async () => {
    const probes: Array<[string, string, number]> = [
      ['get', '/nope', 404],
      ['get', '/admin', 404],
      ['post', '/datasources/zzzz-zzzz-zzzz/nope', 404],
      ['get', '/.env', 404],
      ['get', '/api_keys/zzzz-zzzz-zzzz/secret', 404],
      ['delete', '/executions/00000000-0000-0000-0000-000000000000/data', 405],
      ['put', '/datasources', 405],
      ['get', '/%00', 404],
      ['get', '/datasources/%00', 404],
    ];
    for (const [method, path, withKey] of probes) {
      for (const [label, headers] of BAD_CREDENTIALS) {
        const res = await request(method, path).set(headers);
        expect([method, path, label, res.status]).toEqual([method, path, label, 401]);
        expectValidJsonApi(res.body);
      }
      const res = await request(method, path).set('Authorization', `Api ${t.adminSecret}`);
      expect([method, path, res.status]).toEqual([method, path, withKey]);
      expectValidJsonApi(res.body);
    }
    // the open routes stay open
    expect((await t.api.get('/health')).status).toBe(200);
    expect((await t.api.post('/invitations/zzzz/accept').send({ firstname: 'a', lastname: 'b', password: 'x'.repeat(12) })).status).toBe(404);
  });
});
