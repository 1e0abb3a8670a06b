import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { auth, createApiTestContext, type ApiTestContext } from '../../../test/support/context.js';
import { expectValidJsonApi } from '../../../test/support/jsonapi-schema.js';

let t: ApiTestContext;
let dsA: string;
let dsB: string;

beforeAll(async () => {
  t = await createApiTestContext();
  const mk = async (name: string) =>
    (
      await t.api
        .post('/datasources')
        .set('Authorization', auth(t.adminSecret))
        .send({
          data: {
            attributes: {
              name,
              database_type: 'postgres',
              connection_mode: 'direct',
              host: '127.0.0.1',
              port: 5432,
              username: 'postgres',
              database: 'postgres',
              require_ssl: false,
            },
          },
        })
    ).body.data.id as string;
  dsA = await mk('A');
  dsB = await mk('B');
});
afterAll(async () => {
  await t.close();
});

const snippetBody = (attributes: Record<string, unknown>, datasource: string | null = dsA, extra: Record<string, unknown> = {}) => ({
  data: {
    type: 'sql_snippets',
    attributes,
    relationships: { ...(datasource === null ? {} : { datasource: { data: { type: 'datasources', id: datasource } } }), ...extra },
  },
});
const post = (body: object, secret = t.adminSecret) => t.api.post('/sql_snippets').set('Authorization', auth(secret)).send(body);

describe('sql_snippets', () => {
  it('creates, reads with includes, updates and deletes', async () => {
    const base = await post(snippetBody({ name: 'paid_orders', text: "status = 'paid'", description: 'Paid only' }));
    expect(base.status).toBe(201);
    expectValidJsonApi(base.body);
    const user = await post(snippetBody({ name: 'revenue', text: 'SUM(amount) FROM orders WHERE [paid_orders]' }));
    expect(user.status).toBe(201);
    expect(user.body.data.relationships).toEqual({
      datasource: { data: { type: 'datasources', id: dsA } },
      sql_snippets: { data: [{ type: 'sql_snippets', id: base.body.data.id }] },
    });
    const got = await t.api.get(`/sql_snippets/${user.body.data.id}?include=datasource,sql_snippets`).set('Authorization', auth(t.adminSecret));
    expect(got.status).toBe(200);
    expect(got.body.included.map((i: { type: string; id: string }) => `${i.type}:${i.id}`).sort()).toEqual(
      [`datasources:${dsA}`, `sql_snippets:${base.body.data.id}`].sort(),
    );
    expectValidJsonApi(got.body);

    const upd = await t.api
      .patch(`/sql_snippets/${base.body.data.id}`)
      .set('Authorization', auth(t.adminSecret))
      .send({ data: { attributes: { name: 'paid', params: 'x=1' }, relationships: { datasource: { data: { type: 'datasources', id: dsB } } } } });
    expect(upd.status).toBe(200);
    expect(upd.body.data.attributes).toMatchObject({ name: 'paid', params: 'x=1', text: "status = 'paid'" });
    // A rename leaves referencing SQL as it is.
    const still = await t.api.get(`/sql_snippets/${user.body.data.id}`).set('Authorization', auth(t.adminSecret));
    expect(still.body.data.attributes.text).toBe('SUM(amount) FROM orders WHERE [paid_orders]');

    const list = await t.api.get('/sql_snippets').set('Authorization', auth(t.adminSecret));
    expect(list.body.data.length).toBeGreaterThanOrEqual(2);
    expectValidJsonApi(list.body);
    expect((await t.api.delete(`/sql_snippets/${base.body.data.id}`).set('Authorization', auth(t.adminSecret))).status).toBe(204);
    expect((await t.api.get(`/sql_snippets/${base.body.data.id}`).set('Authorization', auth(t.adminSecret))).status).toBe(404);
  });

  it('rejects duplicates (409), cycles, bad names and missing datasources (422)', async () => {
    expect((await post(snippetBody({ name: 'dup', text: '1' }))).status).toBe(201);
    expect((await post(snippetBody({ name: 'dup', text: '2' }))).status).toBe(409);
    const a = await post(snippetBody({ name: 'cyc_a', text: '[cyc_b]' }));
    expect(a.status).toBe(201);
    const b = await post(snippetBody({ name: 'cyc_b', text: '[cyc_a]' }));
    expect(b.status).toBe(422);
    expect(b.body.errors[0].detail).toMatch(/cycle/);
    expect((await post(snippetBody({ name: 'self', text: 'x [self] y' }))).status).toBe(422);
    expect((await post(snippetBody({ name: 'bad name', text: '1' }))).status).toBe(422);
    expect((await post(snippetBody({ name: 'no_ds', text: '1' }, null))).status).toBe(422);
    expect((await post(snippetBody({ name: 'ghost_ds', text: '1' }, 'zzzz-zzzz-zzzz'))).status).toBe(422);
    const res = await t.api.get('/sql_snippets/x?include=users').set('Authorization', auth(t.adminSecret));
    expect(res.status).toBe(400);
  });

  it('enforces datasource access for create, update and delete', async () => {
    const limited = (
      await t.api
        .post('/api_keys')
        .set('Authorization', auth(t.adminSecret))
        .send({ data: { attributes: { name: 'dash', permissions: [{ name: 'Manage Dashboards', datasource_ids: [dsA] }] } } })
    ).body.data.attributes.secret as string;
    expect((await post(snippetBody({ name: 'on_b', text: '1' }, dsB), limited)).status).toBe(422);
    const own = await post(snippetBody({ name: 'on_a', text: '1' }, dsA), limited);
    expect(own.status).toBe(201);
    const move = await t.api
      .patch(`/sql_snippets/${own.body.data.id}`)
      .set('Authorization', auth(limited))
      .send({ data: { relationships: { datasource: { data: { type: 'datasources', id: dsB } } } } });
    expect(move.status).toBe(422);
    // Delete needs Manage Datasources on the snippet's datasource.
    expect((await t.api.delete(`/sql_snippets/${own.body.data.id}`).set('Authorization', auth(limited))).status).toBe(403);
    const onB = await post(snippetBody({ name: 'hidden_b', text: '1' }, dsB));
    expect((await t.api.get(`/sql_snippets/${onB.body.data.id}`).set('Authorization', auth(limited))).status).toBe(404);
    const list = await t.api.get('/sql_snippets').set('Authorization', auth(limited));
    expect(list.body.data.every((s: { relationships: { datasource: { data: { id: string } } } }) => s.relationships.datasource.data.id === dsA)).toBe(true);
  });
});
