import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import supertest from 'supertest';
import { createApiApp } from '@sightline/api-server';
import { createDomainServices, createLogger, parseConfig } from '@sightline/domain';
import { auth, createApiTestContext, TEST_ENCRYPTION_KEY, type ApiTestContext } from '../../../test/support/context.js';
import { expectValidJsonApi } from '../../../test/support/jsonapi-schema.js';

let t: ApiTestContext;
const JSONAPI = 'application/vnd.api+json';

beforeAll(async () => {
  t = await createApiTestContext({ maxBodyBytes: 4096 });
});
afterAll(async () => {
  await t.close();
});

const create = (attributes: Record<string, unknown>, secret = t.adminSecret) =>
  t.api
    .post('/api_keys')
    .set('Authorization', auth(secret))
    .set('Content-Type', JSONAPI)
    .send(JSON.stringify({ data: { type: 'api_keys', attributes } }));

describe('authentication', () => {
  it.each([
    ['no header', undefined],
    ['wrong scheme', 'Bearer abc'],
    ['empty secret', 'Api '],
    ['unknown secret', 'Api sl_doesnotexist'],
    ['control characters', 'Api a\tb'],
  ])('answers 401 for %s', async (_label, header) => {
    const req = t.api.get('/api_keys');
    if (header !== undefined) req.set('Authorization', header);
    const res = await req;
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toContain(JSONAPI);
    expect(res.headers['www-authenticate']).toBe('Api');
    expect(res.body.errors[0]).toMatchObject({ code: '401', status: '401' });
    expectValidJsonApi(res.body);
  });

  it('answers 401 for a disabled key and 403 for a key without the permission', async () => {
    const limited = await create({ name: 'viewer', permissions: [{ name: 'View Users' }] });
    expect(limited.status).toBe(201);
    const secret = limited.body.data.attributes.secret as string;
    const forbidden = await t.api.get('/api_keys').set('Authorization', auth(secret));
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.errors[0].detail).toMatch(/Manage API Keys/);
    expectValidJsonApi(forbidden.body);

    const off = await t.api
      .patch(`/api_keys/${limited.body.data.id}`)
      .set('Authorization', auth(t.adminSecret))
      .send({ data: { attributes: { enabled: false } } });
    expect(off.status).toBe(200);
    const disabled = await t.api.get('/api_keys').set('Authorization', auth(secret));
    expect(disabled.status).toBe(401);
    expect(disabled.body.errors[0].detail).toMatch(/disabled/);
  });
});

describe('api_keys resource', () => {
  it('creates a key, shows the secret once, stores only a hash', async () => {
    const res = await create({ name: 'ci', permissions: [{ name: 'Manage Dashboards' }, { name: 'View Datasources', datasource_ids: null }] });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toContain(JSONAPI);
    expectValidJsonApi(res.body);
    const { id, attributes } = res.body.data;
    expect(attributes.secret).toMatch(/^sl_/);
    expect(attributes.permissions).toEqual([
      { name: 'Manage Dashboards', datasource_ids: null },
      { name: 'View Datasources', datasource_ids: null },
    ]);
    const row = await t.database.db('api_keys').where({ id }).first();
    expect(JSON.stringify(row)).not.toContain(attributes.secret);

    const got = await t.api.get(`/api_keys/${id}`).set('Authorization', auth(t.adminSecret));
    expect(got.status).toBe(200);
    expect(got.body.data.attributes.secret).toBeUndefined();
    expect(got.body.data.attributes.secret_hint).toBe(attributes.secret.slice(-4));
    expectValidJsonApi(got.body);

    const works = await t.api.get('/health').set('Authorization', auth(attributes.secret));
    expect(works.status).toBe(200);
  });

  it('lists, updates and deletes keys', async () => {
    const created = await create({ name: 'temp' });
    const id = created.body.data.id as string;
    const list = await t.api.get('/api_keys').set('Authorization', auth(t.adminSecret));
    expect(list.status).toBe(200);
    expect(list.body.data.map((k: { id: string }) => k.id)).toContain(id);
    expectValidJsonApi(list.body);

    const upd = await t.api
      .patch(`/api_keys/${id}`)
      .set('Authorization', auth(t.adminSecret))
      .set('Content-Type', JSONAPI)
      .send(JSON.stringify({ data: { type: 'api_keys', id, attributes: { name: 'renamed', permissions: [{ name: 'Manage Users' }] } } }));
    expect(upd.status).toBe(200);
    expect(upd.body.data.attributes).toMatchObject({ name: 'renamed', permissions: [{ name: 'Manage Users', datasource_ids: null }] });

    const del = await t.api.delete(`/api_keys/${id}`).set('Authorization', auth(t.adminSecret));
    expect(del.status).toBe(204);
    expect((await t.api.get(`/api_keys/${id}`).set('Authorization', auth(t.adminSecret))).status).toBe(404);
  });

  it('refuses to remove the last key that can manage keys', async () => {
    const keys = await t.api.get('/api_keys').set('Authorization', auth(t.adminSecret));
    const admins = keys.body.data.filter(
      (k: { attributes: { permissions: Array<{ name: string }>; enabled: boolean } }) =>
        k.attributes.enabled && k.attributes.permissions.some((p) => p.name === 'Manage API Keys'),
    );
    expect(admins).toHaveLength(1);
    const res = await t.api.delete(`/api_keys/${admins[0].id}`).set('Authorization', auth(t.adminSecret));
    expect(res.status).toBe(422);
    expectValidJsonApi(res.body);
  });
});

describe('hostile input', () => {
  const post = (body: string, type = JSONAPI) => t.api.post('/api_keys').set('Authorization', auth(t.adminSecret)).set('Content-Type', type).send(body);

  it.each([
    ['malformed JSON', '{"data":', 400],
    ['a JSON string', '"x"', 400],
    ['an array', '[]', 400],
    ['data null', '{"data":null}', 400],
    ['wrong type', '{"data":{"type":"users","attributes":{"name":"x"}}}', 409],
    ['client id', '{"data":{"id":"abc","attributes":{"name":"x"}}}', 403],
    ['wrong attribute type', '{"data":{"attributes":{"name":5}}}', 422],
    ['unknown attribute', '{"data":{"attributes":{"name":"x","admin":true}}}', 422],
    ['unknown permission', '{"data":{"attributes":{"name":"x","permissions":[{"name":"God Mode"}]}}}', 422],
    ['missing name', '{"data":{"attributes":{}}}', 422],
    ['unknown datasource id', '{"data":{"attributes":{"name":"x","permissions":[{"name":"View Datasources","datasource_ids":["nope-nope-nope"]}]}}}', 422],
    ['prototype pollution', '{"data":{"attributes":{"name":"x","__proto__":{"admin":true}}}}', 422],
    ['empty body', '', 400],
  ])('%s → %i', async (_label, body, status) => {
    const res = await post(body);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toContain(JSONAPI);
    expectValidJsonApi(res.body);
  });

  it('answers 415 for unsupported media types and media type parameters', async () => {
    for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'application/vnd.api+json; ext=bulk']) {
      const res = await post('{"data":{"attributes":{"name":"x"}}}', type);
      expect(res.status).toBe(415);
      expectValidJsonApi(res.body);
    }
    expect((await post('{"data":{"attributes":{"name":"plain json"}}}', 'application/json')).status).toBe(201);
  });

  it('answers 413 for oversized bodies', async () => {
    const res = await post(JSON.stringify({ data: { attributes: { name: 'x'.repeat(10_000) } } }));
    expect(res.status).toBe(413);
    expectValidJsonApi(res.body);
  });

  it('answers 404 and 405 as JSON:API errors', async () => {
    const notFound = await t.api.get('/no/such/route').set('Authorization', auth(t.adminSecret));
    expect(notFound.status).toBe(404);
    expectValidJsonApi(notFound.body);
    const wrongMethod = await t.api.put('/api_keys').set('Authorization', auth(t.adminSecret));
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toContain('GET');
    expectValidJsonApi(wrongMethod.body);
    const unknownId = await t.api.get('/api_keys/%27%3B%20DROP%20TABLE%20api_keys%3B--').set('Authorization', auth(t.adminSecret));
    expect(unknownId.status).toBe(404);
  });

  it('rejects unknown query parameters with 400', async () => {
    const res = await t.api.get('/api_keys?sort=name').set('Authorization', auth(t.adminSecret));
    expect(res.status).toBe(400);
    expect(res.body.errors[0].source).toEqual({ parameter: 'sort' });
  });

  it('keeps or sets the request id', async () => {
    const given = await t.api.get('/health').set('X-Request-Id', 'abc-123');
    expect(given.headers['x-request-id']).toBe('abc-123');
    const generated = await t.api.get('/health').set('X-Request-Id', 'bad id with spaces');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('tenant isolation', () => {
  it("never shows or changes another organization's keys", async () => {
    const other = await t.services.organizations.create('Other Org');
    const otherKeys = await t.api.get('/api_keys').set('Authorization', auth(other.adminKey.secret));
    expect(otherKeys.body.data.map((k: { id: string }) => k.id)).toEqual([other.adminKey.id]);
    const mine = await t.api.get('/api_keys').set('Authorization', auth(t.adminSecret));
    const myId = mine.body.data[0].id as string;
    for (const res of [
      await t.api.get(`/api_keys/${myId}`).set('Authorization', auth(other.adminKey.secret)),
      await t.api
        .patch(`/api_keys/${myId}`)
        .set('Authorization', auth(other.adminKey.secret))
        .send({ data: { attributes: { enabled: false } } }),
      await t.api.delete(`/api_keys/${myId}`).set('Authorization', auth(other.adminKey.secret)),
    ]) {
      expect(res.status).toBe(404);
    }
    expect((await t.api.get(`/api_keys/${myId}`).set('Authorization', auth(t.adminSecret))).body.data.attributes.enabled).toBe(true);
  });
});

describe('failed authentication is rate limited (per client address and key prefix, across processes)', () => {
  // API servers on one database of their own with nothing shared in memory, as separate processes would be.
  let r: ApiTestContext;
  beforeAll(async () => {
    r = await createApiTestContext();
  });
  afterAll(async () => {
    await r.close();
  });
  const LIMIT = 5;
  const server = (trustProxy = true) => {
    const services = createDomainServices({ db: r.database.db, encryptionKey: TEST_ENCRYPTION_KEY, authFailureLimit: { limit: LIMIT, windowSeconds: 3600 } });
    return supertest(createApiApp({ db: r.database.db, logger: createLogger('silent', 'test'), services, maxBodyBytes: 4096, trustProxy }).callback());
  };
  const wrongKey = () => `Api sl_${randomBytes(24).toString('base64url')}`;
  const from = (address: string) => ({ 'X-Forwarded-For': address });

  it('answers 429 with Retry-After once an address exceeds the limit, on every server, without slowing valid keys', async () => {
    const [one, two] = [server(), server()];
    const address = '203.0.113.7';
    for (let i = 0; i < LIMIT; i++) {
      const res = await (i % 2 ? two : one).get('/api_keys').set(from(address)).set('Authorization', wrongKey());
      expect(res.status).toBe(401);
    }
    for (const app of [one, two]) {
      const res = await app.get('/datasources').set(from(address)).set('Authorization', wrongKey());
      expect(res.status).toBe(429);
      expectValidJsonApi(res.body);
      expect(res.body.errors[0].meta.error_code).toBe('rate_limited');
      const retryAfter = Number(res.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(3600);
      // no key at all counts as a failure too
      expect((await app.get('/nope').set(from(address))).status).toBe(429);
    }
    // a valid key from the same address is served as ever
    expect((await one.get('/api_keys').set(from(address)).set('Authorization', auth(r.adminSecret))).status).toBe(200);
    // other addresses are not affected
    expect((await two.get('/api_keys').set(from('203.0.113.8')).set('Authorization', wrongKey())).status).toBe(401);
  });

  it('limits one wrong key tried from many addresses', async () => {
    const app = server();
    const key = wrongKey();
    for (let i = 1; i <= LIMIT; i++)
      expect(
        (
          await app
            .get('/api_keys')
            .set(from(`198.51.100.${i}`))
            .set('Authorization', key)
        ).status,
      ).toBe(401);
    expect((await app.get('/api_keys').set(from('198.51.100.99')).set('Authorization', key)).status).toBe(429);
    // the same prefix with another ending is the same bucket (keys are looked up whole; the prefix names a key)
    expect(
      (
        await app
          .get('/api_keys')
          .set(from('198.51.100.98'))
          .set('Authorization', `${key.slice(0, 16)}different-ending`)
      ).status,
    ).toBe(429);
  });

  it('ignores X-Forwarded-For unless told to trust a proxy, so rotating it does not escape the limit', async () => {
    const app = server(false);
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i++)
      statuses.push(
        (
          await app
            .get('/api_keys')
            .set(from(`192.0.2.${i}`))
            .set('Authorization', wrongKey())
        ).status,
      );
    expect(statuses).toEqual([...Array(LIMIT).fill(401), 429]);
  });

  it('is configured by AUTH_FAILURE_LIMIT and AUTH_FAILURE_WINDOW_SECONDS', () => {
    const config = parseConfig({ AUTH_FAILURE_LIMIT: '7', AUTH_FAILURE_WINDOW_SECONDS: '120', TRUST_PROXY: 'true' });
    expect([config.authFailureLimit, config.authFailureWindowSeconds, config.trustProxy]).toEqual([7, 120, true]);
    expect(parseConfig({})).toMatchObject({ authFailureLimit: 30, authFailureWindowSeconds: 60, trustProxy: false });
    expect(() => parseConfig({ AUTH_FAILURE_LIMIT: '0' })).toThrow(/AUTH_FAILURE_LIMIT/);
  });
});
