// The OpenAPI document against the real apps: GET /openapi.json (no key) must describe exactly the
// routes the API and data servers register, validate as OpenAPI 3.1, and its resource schemas (built
// from the field tables) must accept what the server really answers.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import supertest from 'supertest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import Koa from 'koa';
import { Router } from '@koa/router';
import { DOCUMENTATION_ROUTES, SHARED_PAGE_ROUTES, createApiApp } from '@sightline/api-server';
import { createDataApp } from '@sightline/data-server';
import { DataTokens, PgResultStore, createDomainServices, createLogger } from '@sightline/domain';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { TEST_ENCRYPTION_KEY } from './support/context.js';
import { compareRoutes, documentedOperations, registeredRoutes } from './support/routes.js';

const DATA_URL = 'http://data.sightline.test:3001';

type OpenApi = {
  openapi: string;
  servers: Array<{ url: string }>;
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, unknown> };
};

let database: TestDatabase;
let apiApp: Koa<any>;
let dataApp: Koa<any>;
let api: ReturnType<typeof supertest>;
let adminSecret: string;
let document: OpenApi;

beforeAll(async () => {
  database = await createTestDatabase();
  const services = createDomainServices({ db: database.db, encryptionKey: TEST_ENCRYPTION_KEY });
  adminSecret = (await services.organizations.create('OpenAPI Org')).adminKey.secret;
  const logger = createLogger('silent', 'test');
  apiApp = createApiApp({ db: database.db, logger, services, maxBodyBytes: 64 * 1024, dataBaseUrl: DATA_URL });
  dataApp = createDataApp({
    db: database.db,
    logger,
    resultStore: new PgResultStore(database.db),
    tokens: new DataTokens('openapi-test-secret-0123456789abcdef', 300),
  });
  api = supertest(apiApp.callback());
  const res = await api.get('/openapi.json');
  expect(res.status).toBe(200);
  document = res.body as OpenApi;
});

afterAll(async () => {
  await database?.drop();
});

describe('GET /openapi.json', () => {
  it('is served without a key as JSON', async () => {
    const res = await api.get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.openapi).toBe('3.1.1');
  });

  it('validates as OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('describes every route the API server registers, and nothing else', () => {
    expect(compareRoutes(registeredRoutes(apiApp), documentedOperations(document, '/'))).toEqual({ undocumented: [], unregistered: [] });
  });

  it('describes every route the data server registers, under the data server URL', () => {
    const operations = documentedOperations(document, DATA_URL);
    expect(operations.map((o) => `${o.method} ${o.path}`)).toContain('GET /results/{data_key}');
    expect(compareRoutes(registeredRoutes(dataApp), operations)).toEqual({ undocumented: [], unregistered: [] });
  });

  it('reports a route nobody described, and a described route nobody registered', () => {
    const router = new Router();
    router.get('/reports', () => undefined);
    router.post('/reports/:id/frobnicate', () => undefined);
    router.get(/^\/blobs\/.*$/, () => undefined);
    const app = new Koa();
    app.use(router.routes());
    const ops = [
      { method: 'GET', path: '/reports' },
      { method: 'DELETE', path: '/reports/{id}' },
      { method: 'GET', path: '/blobs/{key}' },
    ];
    expect(compareRoutes(registeredRoutes(app), ops)).toEqual({ undocumented: ['POST /reports/:id/frobnicate'], unregistered: ['DELETE /reports/{id}'] });
  });

  it('names the security schemes and the JSON:API media type', () => {
    const schemes = (document as any).components.securitySchemes;
    expect(schemes.Api).toMatchObject({ type: 'apiKey', in: 'header', name: 'Authorization' });
    expect(schemes.Data).toMatchObject({ type: 'apiKey', in: 'header', name: 'Authorization' });
    expect(document.paths['/reports']!.get.responses['200'].content).toHaveProperty(['application/vnd.api+json']);
    expect(document.paths['/reports']!.post.requestBody.content).toHaveProperty(['application/vnd.api+json']);
    expect(document.paths['/results/{data_key}']!.get.security).toEqual([{ Data: [] }]);
    expect(document.paths['/health']!.get.security).toEqual([]);
    expect(document.paths['/health']!.servers.map((s: { url: string }) => s.url)).toEqual(['/', DATA_URL]);
  });

  it('asks for an API key exactly where the server does (the open routes of test/hostile-input)', () => {
    const open = new Set([
      'GET /health',
      'GET /invitations/{token}/accept',
      'POST /invitations/{token}/accept',
      ...SHARED_PAGE_ROUTES,
      ...DOCUMENTATION_ROUTES,
    ]);
    for (const { method, path } of documentedOperations(document, '/')) {
      const security = document.paths[path]![method.toLowerCase()]!.security;
      if (!open.has(`${method} ${path}`)) expect([method, path, security]).toEqual([method, path, [{ Api: [] }]]);
      else expect([method, path, security]).not.toEqual([method, path, [{ Api: [] }]]);
    }
  });

  it("bounds List SQL Alert Results' limit as the route does (1 to 1000)", () => {
    const limit = (document.paths['/sql_alerts/{id}/results']!.get.parameters as Array<{ name: string; schema: unknown }>).find((p) => p.name === 'limit');
    expect(limit?.schema).toEqual({ type: 'integer', minimum: 1, maximum: 1000 });
  });

  it('derives the report attributes from the report field table', () => {
    const attributes = (document.components.schemas.reports as any).properties.attributes;
    expect(attributes.additionalProperties).toBe(false);
    expect(Object.keys(attributes.properties)).toEqual(expect.arrayContaining(['name', 'sql_query', 'created_at']));
    expect(attributes.properties.created_at).toMatchObject({ type: 'string', format: 'date-time' });
    const create = (document.components.schemas.reports_create_document as any).properties.data.properties.attributes;
    expect(create.additionalProperties).toBe(false);
  });
});

describe('GET /docs', () => {
  it('renders the document with Scalar served from this server, nothing from a CDN', async () => {
    const page = await api.get('/docs');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const scripts = [...page.text.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts).toEqual(['/docs/scalar.js', '/docs/init.js']);
    expect(page.text).not.toMatch(/https?:\/\//);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    const init = await api.get('/docs/init.js');
    expect(init.status).toBe(200);
    expect(init.text).toContain('"url":"/openapi.json"');
    const bundle = await api.get('/docs/scalar.js');
    expect(bundle.status).toBe(200);
    expect(bundle.headers['content-type']).toMatch(/^text\/javascript/);
    expect(bundle.text).toContain('createApiReference');
    expect(bundle.text).not.toContain('https://fonts.scalar.com/');
    expect((await api.get('/docs/other.js')).status).toBe(401);
  });
});

describe('responses match the document', () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);

  /** Validates `body` against the schema the document gives `method path` → `status` (its `$ref`s resolved). */
  function check(method: string, path: string, status: number, body: unknown): void {
    const content = document.paths[path]![method]!.responses[String(status)].content;
    const schema = content['application/vnd.api+json']?.schema ?? content['application/json'].schema;
    // `$ref: '#/components/…'` resolves against the root: the components are carried along in it
    const validate = ajv.compile({ $id: `https://sightline.test/${method}${path}/${status}`, components: document.components, ...schema });
    const ok = validate(body);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  }

  it('a created, fetched and listed report, and a datasource, validate against their schemas', async () => {
    const key = `Api ${adminSecret}`;
    const ds = await api
      .post('/datasources')
      .set('Authorization', key)
      .set('Content-Type', 'application/vnd.api+json')
      .send({
        data: {
          type: 'datasources',
          attributes: {
            name: 'Warehouse',
            database_type: 'postgres',
            connection_mode: 'direct',
            host: '127.0.0.1',
            port: 5432,
            database: 'x',
            username: 'u',
            password: 'p',
            require_ssl: false,
          },
        },
      });
    expect(ds.status).toBe(201);
    check('post', '/datasources', 201, ds.body);
    const dashboard = await api
      .post('/dashboards')
      .set('Authorization', key)
      .set('Content-Type', 'application/vnd.api+json')
      .send({ data: { type: 'dashboards', attributes: { name: 'Sales' } } });
    expect(dashboard.status).toBe(201);
    check('post', '/dashboards', 201, dashboard.body);
    const report = await api
      .post('/reports')
      .set('Authorization', key)
      .set('Content-Type', 'application/vnd.api+json')
      .send({
        data: {
          type: 'reports',
          attributes: { name: 'Revenue', sql_query: 'SELECT 1' },
          relationships: {
            dashboard: { data: { type: 'dashboards', id: dashboard.body.data.id } },
            datasource: { data: { type: 'datasources', id: ds.body.data.id } },
          },
        },
      });
    expect(report.status).toBe(201);
    check('post', '/reports', 201, report.body);
    const one = await api.get(`/reports/${report.body.data.id}?include=dashboard,datasource`).set('Authorization', key);
    expect(one.status).toBe(200);
    check('get', '/reports/{id}', 200, one.body);
    const list = await api.get('/reports').set('Authorization', key);
    check('get', '/reports', 200, list.body);

    const secret = await api.get('/organization/sharing_secret').set('Authorization', key);
    expect(secret.status).toBe(200);
    check('get', '/organization/sharing_secret', 200, secret.body);
    check('get', '/health', 200, (await api.get('/health')).body);

    // and a body that breaks the schema is caught: the check can fail
    const broken = structuredClone(one.body);
    broken.data.attributes.name = 42;
    expect(() => check('get', '/reports/{id}', 200, broken)).toThrow();
  });
});
