import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import supertest from 'supertest';
import { createDataApp, pageOrigins } from '@sightline/data-server';
import { createLogger } from '@sightline/domain';
import { createApiApp, ViewerAssets } from '../src/index.js';
import { auth, createApiTestContext, type ApiTestContext } from '../../../test/support/context.js';
import { DashboardApi } from './dashboards-helpers.js';

let t: ApiTestContext;
let api: DashboardApi;
let dashboardId: string;
let datasourceId: string;
let otherDatasourceId: string;
/** The API app with the shared page configured (a data server URL). */
let pageApp: ReturnType<typeof supertest>;

const link = (attributes: Record<string, unknown> = {}, dashboard: string | null = dashboardId) => ({
  data: {
    type: 'dashboard_sharing_links',
    attributes,
    ...(dashboard ? { relationships: { dashboard: { data: { type: 'dashboards', id: dashboard } } } } : {}),
  },
});

async function createLink(attributes: Record<string, unknown> = {}): Promise<{ id: string; attributes: Record<string, unknown> }> {
  const res = await api.post('/dashboard_sharing_links', link(attributes));
  expect(res.status).toBe(201);
  return res.body.data;
}

function errorPointer(res: { body: { errors: Array<{ source?: { pointer?: string } }> } }): string | undefined {
  return res.body.errors[0]?.source?.pointer;
}

beforeAll(async () => {
  t = await createApiTestContext({ extraDeps: async () => ({ deps: { dataTokenSecret: 'test-data-token-secret-at-least-32-chars' } }) });
  api = new DashboardApi(t, t.adminSecret);
  datasourceId = await api.datasource('A');
  otherDatasourceId = await api.datasource('B');
  dashboardId = await api.dashboard({ name: 'Shared' });
  const report = await api.post('/reports', {
    data: {
      attributes: { name: 'R', sql_query: 'SELECT 1' },
      relationships: { dashboard: { data: { type: 'dashboards', id: dashboardId } }, datasource: { data: { type: 'datasources', id: datasourceId } } },
    },
  });
  expect(report.status).toBe(201);
  const logger = createLogger('silent', 'test');
  pageApp = supertest(
    createApiApp({
      db: t.database.db,
      logger,
      services: t.services,
      maxBodyBytes: 65536,
      viewerAssets: new ViewerAssets(logger),
      dataBaseUrl: 'http://127.0.0.1:9',
    }).callback(),
  );
});

afterAll(async () => {
  await t?.close();
});

describe('dashboard_sharing_links resource', () => {
  it('creates, lists, reads, updates and deletes links; the dashboard relates them', async () => {
    const created = await createLink({
      name: 'Customers',
      fixed_parameters: { customer: [7], aggregation: 'month' },
      allowed_embed_origins: ['https://App.Example.com/'],
    });
    expect(created.attributes).toMatchObject({
      name: 'Customers',
      requires_secret: false,
      expires_at: null,
      enabled: true,
      password_protected: false,
      last_viewed_at: null,
      fixed_parameters: { customer: [7], aggregation: 'month' },
      allowed_embed_origins: ['https://app.example.com'],
    });
    expect(created.attributes.sharing_token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(created.attributes).not.toHaveProperty('password');
    const got = await api.get(`/dashboard_sharing_links/${created.id}`);
    expect(got.body.data.relationships.dashboard.data).toEqual({ type: 'dashboards', id: dashboardId });
    expect((await api.get('/dashboard_sharing_links')).body.data.map((d: { id: string }) => d.id)).toContain(created.id);

    const dash = await api.get(`/dashboards/${dashboardId}?include=dashboard_sharing_links`);
    expect(dash.body.data.relationships.dashboard_sharing_links.data).toContainEqual({ type: 'dashboard_sharing_links', id: created.id });
    expect(dash.body.included.find((i: { id: string }) => i.id === created.id).attributes.name).toBe('Customers');
    const listed = await api.get('/dashboards');
    expect(listed.body.data.find((d: { id: string }) => d.id === dashboardId).relationships.dashboard_sharing_links.data).toContainEqual({
      type: 'dashboard_sharing_links',
      id: created.id,
    });

    const expires = new Date(Date.now() + 86_400_000).toISOString();
    const patched = await api.patch(`/dashboard_sharing_links/${created.id}`, {
      data: {
        type: 'dashboard_sharing_links',
        id: created.id,
        attributes: { name: null, enabled: false, expires_at: expires, password: 'correct horse', fixed_parameters: null },
      },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.data.attributes).toMatchObject({ name: null, enabled: false, expires_at: expires, password_protected: true, fixed_parameters: null });
    expect(patched.body.data.attributes.sharing_token).toBe(created.attributes.sharing_token);
    const unprotected = await api.patch(`/dashboard_sharing_links/${created.id}`, { data: { attributes: { password: null } } });
    expect(unprotected.body.data.attributes.password_protected).toBe(false);

    const rotated = await api.post(`/dashboard_sharing_links/${created.id}/rotate_token`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.data.attributes.sharing_token).not.toBe(created.attributes.sharing_token);

    expect((await api.delete(`/dashboard_sharing_links/${created.id}`)).status).toBe(204);
    expect((await api.get(`/dashboard_sharing_links/${created.id}`)).status).toBe(404);
    expect((await api.delete(`/dashboard_sharing_links/${created.id}`)).status).toBe(404);
  });

  it('deleting the dashboard deletes its links', async () => {
    const other = await api.dashboard({ name: 'Short-lived' });
    const res = await api.post('/dashboard_sharing_links', link({}, other));
    expect((await api.delete(`/dashboards/${other}`)).status).toBe(204);
    expect((await api.get(`/dashboard_sharing_links/${res.body.data.id}`)).status).toBe(404);
  });

  it('rejects bad input with 4xx and a pointer', async () => {
    const cases: Array<[unknown, number, string | undefined]> = [
      [link({ color: 'red' }), 422, '/data/attributes/color'],
      [link({ allowed_embed_origins: ['https://a.example.com/path'] }), 422, '/data/attributes/allowed_embed_origins/0'],
      [link({ allowed_embed_origins: ['https://a.example.com; script-src *'] }), 422, '/data/attributes/allowed_embed_origins/0'],
      [link({ fixed_parameters: { aggregation: 'fortnight' } }), 422, '/data/attributes/fixed_parameters/aggregation'],
      [link({ fixed_parameters: { customer: 7 } }), 422, '/data/attributes/fixed_parameters/customer'],
      [link({ fixed_parameters: { timerange: '9~1' } }), 422, '/data/attributes/fixed_parameters/timerange'],
      [link({ fixed_parameters: ['x'] }), 422, '/data/attributes/fixed_parameters'],
      [link({ password: 'short' }), 422, '/data/attributes/password'],
      [link({ expires_at: 'tomorrow' }), 422, '/data/attributes/expires_at'],
      [link({ sharing_token: '00000000-0000-4000-8000-000000000000' }), 422, '/data/attributes/sharing_token'],
      [link({}, null), 422, '/data/relationships/dashboard'],
      [link({}, 'zzzz-zzzz-zzzz'), 422, '/data/relationships/dashboard'],
      [{ data: { type: 'dashboards', attributes: {} } }, 409, '/data/type'],
    ];
    for (const [body, status, pointer] of cases) {
      const res = await api.post('/dashboard_sharing_links', body);
      expect([JSON.stringify(body), res.status, errorPointer(res)]).toEqual([JSON.stringify(body), status, pointer]);
    }
    const { id } = await createLink();
    const other = await api.dashboard({ name: 'Elsewhere' });
    const moved = await api.patch(`/dashboard_sharing_links/${id}`, { data: { relationships: { dashboard: { data: { type: 'dashboards', id: other } } } } });
    expect([moved.status, errorPointer(moved)]).toEqual([422, '/data/relationships/dashboard']);
    expect((await api.patch(`/dashboard_sharing_links/${id}`, { data: { id: 'aaaa-bbbb-cccc', attributes: {} } })).status).toBe(409);
  });

  it('needs Manage Dashboards on every datasource of the dashboard; other organizations see nothing', async () => {
    const viewer = await api.key([{ name: 'View Dashboards' }]);
    const scoped = await api.key([{ name: 'Manage Dashboards', datasource_ids: [otherDatasourceId] }]);
    const { id } = await createLink();
    expect((await api.as(viewer).get('/dashboard_sharing_links')).status).toBe(403);
    expect((await api.as(viewer).post('/dashboard_sharing_links', link())).status).toBe(403);
    // a link shows every report: a key limited to other datasources cannot share this dashboard
    expect((await api.as(scoped).post('/dashboard_sharing_links', link())).status).toBe(403);
    expect((await api.as(scoped).post(`/dashboard_sharing_links/${id}/rotate_token`)).status).toBe(403);
    // relationship and include are for Manage Dashboards keys only
    const asViewer = await api.as(viewer).get(`/dashboards/${dashboardId}`);
    expect(asViewer.body.data.relationships).not.toHaveProperty('dashboard_sharing_links');
    expect((await api.as(viewer).get(`/dashboards/${dashboardId}?include=dashboard_sharing_links`)).status).toBe(403);

    const { adminKey } = await t.services.organizations.create('Other Org');
    const stranger = api.as(adminKey.secret);
    expect((await stranger.get(`/dashboard_sharing_links/${id}`)).status).toBe(404);
    expect((await stranger.patch(`/dashboard_sharing_links/${id}`, { data: { attributes: { enabled: false } } })).status).toBe(404);
    expect((await stranger.delete(`/dashboard_sharing_links/${id}`)).status).toBe(404);
    expect((await stranger.post(`/dashboard_sharing_links/${id}/rotate_token`)).status).toBe(404);
    expect((await stranger.get('/dashboard_sharing_links')).body.data).toEqual([]);
    const res = await stranger.post('/dashboard_sharing_links', link());
    expect([res.status, errorPointer(res)]).toEqual([422, '/data/relationships/dashboard']);
  });
});

describe('organization sharing secret', () => {
  it('is read and rotated by admin keys only', async () => {
    const first = await t.api.get('/organization/sharing_secret').set('Authorization', auth(t.adminSecret));
    expect(first.status).toBe(200);
    expect(first.headers['cache-control']).toBe('no-store');
    expect(first.body).toMatchObject({ version: 1 });
    expect(first.body.sharing_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const again = await t.api.get('/organization/sharing_secret').set('Authorization', auth(t.adminSecret));
    expect(again.body.sharing_secret).toBe(first.body.sharing_secret);
    const rotated = await t.api.post('/organization/sharing_secret/rotate').set('Authorization', auth(t.adminSecret));
    expect(rotated.status).toBe(200);
    expect(rotated.body.version).toBe(2);
    expect(rotated.body.sharing_secret).not.toBe(first.body.sharing_secret);
    const manager = await api.key([{ name: 'Manage Dashboards' }]);
    expect((await t.api.get('/organization/sharing_secret').set('Authorization', auth(manager))).status).toBe(403);
    expect((await t.api.post('/organization/sharing_secret/rotate').set('Authorization', auth(manager))).status).toBe(403);
    expect((await t.api.get('/organization/sharing_secret')).status).toBe(401);
  });
});

describe('the shared page over HTTP', () => {
  it('frames only where the link allows', async () => {
    const open = await createLink();
    const framed = await createLink({ allowed_embed_origins: ['https://app.example.com', 'https://*.example.org'] });
    const a = await pageApp.get(`/dashboards/${dashboardId}/shared?sharingToken=${open.attributes.sharing_token}`);
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(a.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(a.headers['x-frame-options']).toBe('DENY');
    expect(a.headers['referrer-policy']).toBe('no-referrer');
    expect(a.headers['content-security-policy']).toContain("connect-src 'self' http://127.0.0.1:9");
    expect(a.headers['content-security-policy']).not.toMatch(/unsafe-(inline|eval)/);
    const b = await pageApp.get(`/dashboards/${dashboardId}/shared?sharingToken=${framed.attributes.sharing_token}`);
    expect(b.headers['content-security-policy']).toContain('frame-ancestors https://app.example.com https://*.example.org');
    expect(b.headers['x-frame-options']).toBeUndefined();
    // the page carries no API key, no SQL; its assets are served here, compressed and immutable
    expect(a.text).not.toContain(t.adminSecret);
    expect(a.text).not.toContain('SELECT 1');
    const script = /<script type="module" src="([^"]+)"/.exec(a.text)![1]!;
    const asset = await pageApp.get(script).set('Accept-Encoding', 'gzip');
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(asset.headers['cache-control']).toContain('immutable');
    for (const missing of ['/shared-assets/nope.js', '/shared-assets/..%2Fpackage.json']) {
      const res = await pageApp.get(missing);
      // a JSON:API error document, as every other error (the contract test found a plain-text one)
      expect([res.status, res.headers['content-type']]).toEqual([404, 'application/vnd.api+json']);
      expect(res.body.errors[0]).toMatchObject({ status: '404', meta: { error_code: 'asset_not_found' } });
    }
  });

  it('asks for the password, refuses wrong ones, and slows down guessing', async () => {
    const { attributes } = await createLink({ password: 'open sesame' });
    const url = `/dashboards/${dashboardId}/shared?sharingToken=${attributes.sharing_token}`;
    const ask = await pageApp.get(url);
    expect(ask.status).toBe(401);
    expect(ask.text).toContain('type="password"');
    expect(ask.headers['content-security-policy']).toContain("script-src 'none'");
    const wrong = await pageApp.post(url).type('form').send({ password: 'guess' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('The password is not correct');
    const right = await pageApp.post(url).type('form').send({ password: 'open sesame' });
    expect(right.status).toBe(200);
    expect(right.text).toContain('id="sl-config"');
    for (let i = 0; i < 9; i++)
      await pageApp
        .post(url)
        .type('form')
        .send({ password: `guess ${i}` });
    expect((await pageApp.post(url).type('form').send({ password: 'open sesame' })).status).toBe(429);
    expect((await pageApp.post(url).type('application/json').send('{"password":"x"}')).status).toBe(415);
  });

  it('signed links: Cluvio-style JWTs with the organization secret', async () => {
    const secret = (await t.api.get('/organization/sharing_secret').set('Authorization', auth(t.adminSecret))).body.sharing_secret as string;
    const { attributes } = await createLink({ requires_secret: true });
    const token = attributes.sharing_token as string;
    const url = (s: string) => `/dashboards/${dashboardId}/shared?sharingToken=${token}&sharingSecret=${encodeURIComponent(s)}`;
    const exp = Math.floor(Date.now() / 1000) + 600;
    expect((await pageApp.get(url(jwt.sign({ sharing_token: token, exp }, secret, { algorithm: 'HS256' })))).status).toBe(200);
    expect((await pageApp.get(url(jwt.sign({ sharing_token: token, exp }, secret, { algorithm: 'HS512' })))).status).toBe(403);
    expect(
      (await pageApp.get(url(jwt.sign({ sharing_token: token, exp, fixed_parameters: { aggregation: 'fortnight' } }, secret, { algorithm: 'HS256' })))).status,
    ).toBe(403);
    expect((await pageApp.get(url('x'.repeat(9000)))).status).toBe(400);
    expect((await pageApp.get(`/dashboards/${dashboardId}/shared?sharingToken=${token}&sharingToken=${token}`)).status).toBe(400);
    expect((await pageApp.get(`/dashboards/${dashboardId}/shared?sharingToken=${token}&filters=%7Bnot-json`)).status).toBe(400);
  });

  it('the viewer status endpoint takes viewer tokens only', async () => {
    const path = `/dashboards/${dashboardId}/shared/status`;
    const cases: Array<[string | undefined, number]> = [
      [undefined, 401],
      [auth(t.adminSecret), 401],
      ['Viewer x.y.z', 401],
      ['Viewer ' + 'A'.repeat(9000), 401],
    ];
    for (const [authorization, status] of cases) {
      const req = pageApp.post(path).set('Content-Type', 'application/json');
      const res = await (authorization ? req.set('Authorization', authorization) : req).send('{}');
      expect([authorization?.slice(0, 12), res.status]).toEqual([authorization?.slice(0, 12), status]);
      expect(res.headers['www-authenticate']).toBe('Viewer');
    }
    const { attributes } = await createLink();
    const page = await pageApp.get(`/dashboards/${dashboardId}/shared?sharingToken=${attributes.sharing_token}`);
    const viewerToken = JSON.parse(/<script type="application\/json" id="sl-config">(.*?)<\/script>/.exec(page.text)![1]!).viewerToken as string;
    const ok = await pageApp.post(path).set('Authorization', `Viewer ${viewerToken}`).set('Content-Type', 'application/json').send('{"refresh_data":false}');
    expect(ok.status).toBe(200);
    expect(Object.keys(ok.body.reports)).toHaveLength(1);
    const bad = await pageApp
      .post(path)
      .set('Authorization', `Viewer ${viewerToken}`)
      .set('Content-Type', 'application/json')
      .send('{"parameters":{"aggregation":"fortnight"}}');
    expect(bad.status).toBe(422);
  });
});

describe('data server CORS for the shared page', () => {
  it("answers preflights and adds CORS headers for the API server's origins only", async () => {
    const data = supertest(
      createDataApp({
        db: t.database.db,
        logger: createLogger('silent', 'test'),
        resultStore: t.services.resultStore,
        tokens: t.services.tokens,
        corsOrigins: () => pageOrigins(['http://127.0.0.1:8080']),
      }).callback(),
    );
    const pre = await data
      .options('/results/a/b/c')
      .set('Origin', 'http://localhost:8080')
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'authorization');
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('http://localhost:8080');
    expect(pre.headers['access-control-allow-headers']).toBe('Authorization');
    expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
    const evil = await data.options('/results/a/b/c').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'GET');
    expect(evil.status).toBe(403);
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
    const get = await data.get('/results/a/b/c').set('Origin', 'http://127.0.0.1:8080').set('Authorization', 'Data x.y.z');
    expect(get.status).toBe(401);
    expect(get.headers['access-control-allow-origin']).toBe('http://127.0.0.1:8080');
    const other = await data.get('/results/a/b/c').set('Origin', 'https://evil.example').set('Authorization', 'Data x.y.z');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
