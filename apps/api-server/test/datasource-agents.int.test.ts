import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { datasourceAgentFields } from '@sightline/domain';
import { auth, createApiTestContext, type ApiTestContext } from '../../../test/support/context.js';
import { expectValidJsonApi } from '../../../test/support/jsonapi-schema.js';

let t: ApiTestContext;
const admin = () => auth(t.adminSecret);

beforeAll(async () => {
  t = await createApiTestContext();
});
afterAll(async () => {
  await t.close();
});

const createAgent = async (name: string, secret = t.adminSecret) =>
  t.api
    .post('/datasource_agents')
    .set('Authorization', auth(secret))
    .send({ data: { type: 'datasource_agents', attributes: { name } } });
const createDatasource = async (attributes: Record<string, unknown>, agents?: string[], secret = t.adminSecret) =>
  t.api
    .post('/datasources')
    .set('Authorization', auth(secret))
    .send({
      data: {
        attributes: {
          name: 'DS',
          database_type: 'postgres',
          connection_mode: 'agent',
          host: '127.0.0.1',
          port: 5432,
          username: 'postgres',
          database: 'postgres',
          require_ssl: false,
          ...attributes,
        },
        ...(agents ? { relationships: { agents: { data: agents.map((id) => ({ type: 'datasource_agents', id })) } } } : {}),
      },
    });
const keyWith = async (permissions: Array<{ name: string; datasource_ids?: string[] }>) =>
  (
    await t.api
      .post('/api_keys')
      .set('Authorization', admin())
      .send({ data: { attributes: { name: 'k', permissions } } })
  ).body.data.attributes.secret as string;

describe('datasource_agents', () => {
  it('creates an agent with a secret key shown once and stores only its hash', async () => {
    const res = await createAgent('Office agent');
    expect(res.status).toBe(201);
    expectValidJsonApi(res.body);
    const { id, attributes, relationships } = res.body.data;
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Object.keys(attributes)).toEqual([...datasourceAgentFields.attributes, 'secret_key']);
    expect(attributes).toMatchObject({ agent_id: id, name: 'Office agent', version: null, address: null, connected: false, active_queries: 0, enabled: true });
    expect(attributes.secret_key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(relationships).toEqual({ datasources: { data: [] } });
    const row = await t.database.db('datasource_agents').where({ id }).first();
    expect(JSON.stringify(row)).not.toContain(attributes.secret_key);
    expect(row.secret_key_hash).toMatch(/^[0-9a-f]{64}$/);

    const got = await t.api.get(`/datasource_agents/${id}`).set('Authorization', admin());
    expect(got.status).toBe(200);
    expectValidJsonApi(got.body);
    expect(got.body.data.attributes.secret_key).toBeUndefined();
    expect(Object.keys(got.body.data.attributes)).toEqual([...datasourceAgentFields.attributes]);
    const list = await t.api.get('/datasource_agents').set('Authorization', admin());
    expect(list.status).toBe(200);
    expect(list.body.data.map((a: { id: string }) => a.id)).toContain(id);
    expect(list.body.data.every((a: { attributes: Record<string, unknown> }) => !('secret_key' in a.attributes))).toBe(true);
  });

  it('updates only name and enabled; read-only attributes are ignored', async () => {
    const id = (await createAgent('A')).body.data.id as string;
    const upd = await t.api
      .patch(`/datasource_agents/${id}`)
      .set('Authorization', admin())
      .send({ data: { type: 'datasource_agents', id, attributes: { name: 'Renamed', enabled: false, connected: true, version: '9', active_queries: 5 } } });
    expect(upd.status).toBe(200);
    expectValidJsonApi(upd.body);
    expect(upd.body.data.attributes).toMatchObject({ name: 'Renamed', enabled: false, connected: false, version: null, active_queries: 0 });
    const bad = await t.api
      .patch(`/datasource_agents/${id}`)
      .set('Authorization', admin())
      .send({ data: { attributes: { secret_key: 'x', nope: 1 } } });
    expect(bad.status).toBe(422);
    expectValidJsonApi(bad.body);
    expect(
      (
        await t.api
          .patch(`/datasource_agents/${id}`)
          .set('Authorization', admin())
          .send({ data: { attributes: { name: '' } } })
      ).status,
    ).toBe(422);
    expect(
      (
        await t.api
          .patch(`/datasource_agents/${id}`)
          .set('Authorization', admin())
          .send({ data: { type: 'datasources', attributes: { name: 'x' } } })
      ).status,
    ).toBe(409);
    expect(
      (
        await t.api
          .post('/datasource_agents')
          .set('Authorization', admin())
          .send({ data: { attributes: {} } })
      ).status,
    ).toBe(422);
    expect((await t.api.get(`/datasource_agents/${id}?include=agents`).set('Authorization', admin())).status).toBe(400);
  });

  it('links agents to datasources both ways, with include, and refuses to delete an agent in use', async () => {
    const a1 = (await createAgent('one')).body.data.id as string;
    const a2 = (await createAgent('two')).body.data.id as string;
    const ds = await createDatasource({ name: 'Behind the firewall' }, [a1, a2]);
    expect(ds.status).toBe(201);
    expectValidJsonApi(ds.body);
    expect(ds.body.data.relationships.agents.data.map((r: { id: string }) => r.id).sort()).toEqual([a1, a2].sort());
    const dsId = ds.body.data.id as string;

    const withAgents = await t.api.get(`/datasources/${dsId}?include=agents`).set('Authorization', admin());
    expect(withAgents.status).toBe(200);
    expectValidJsonApi(withAgents.body);
    expect(withAgents.body.included.map((i: { type: string; id: string }) => `${i.type}:${i.id}`).sort()).toEqual(
      [`datasource_agents:${a1}`, `datasource_agents:${a2}`].sort(),
    );
    const listed = await t.api.get('/datasources?include=agents').set('Authorization', admin());
    expect(listed.status).toBe(200);
    expect(listed.body.included.length).toBe(2);

    const agent = await t.api.get(`/datasource_agents/${a1}?include=datasources`).set('Authorization', admin());
    expect(agent.status).toBe(200);
    expectValidJsonApi(agent.body);
    expect(agent.body.data.relationships.datasources.data).toEqual([{ type: 'datasources', id: dsId }]);
    expect(agent.body.included).toHaveLength(1);
    expect(agent.body.included[0]).toMatchObject({ type: 'datasources', id: dsId, attributes: { name: 'Behind the firewall', connection_mode: 'agent' } });

    const refused = await t.api.delete(`/datasource_agents/${a1}`).set('Authorization', admin());
    expect(refused.status).toBe(422);
    expectValidJsonApi(refused.body);
    expect(refused.body.errors[0].detail).toContain(dsId);

    // drop one agent through the datasource's writable relationship
    const upd = await t.api
      .patch(`/datasources/${dsId}`)
      .set('Authorization', admin())
      .send({ data: { relationships: { agents: { data: [{ type: 'datasource_agents', id: a2 }] } } } });
    expect(upd.status).toBe(200);
    expect(upd.body.data.relationships.agents.data).toEqual([{ type: 'datasource_agents', id: a2 }]);
    expect((await t.api.delete(`/datasource_agents/${a1}`).set('Authorization', admin())).status).toBe(204);
    expect((await t.api.get(`/datasource_agents/${a1}`).set('Authorization', admin())).status).toBe(404);

    // leaving agent mode lets go of the agents
    const direct = await t.api
      .patch(`/datasources/${dsId}`)
      .set('Authorization', admin())
      .send({ data: { attributes: { connection_mode: 'direct' } } });
    expect(direct.status).toBe(200);
    expect(direct.body.data.relationships.agents.data).toEqual([]);
    expect((await t.api.delete(`/datasource_agents/${a2}`).set('Authorization', admin())).status).toBe(204);
  });

  it("rejects agents on non-agent datasources, unknown agents and other organizations' agents", async () => {
    const a = (await createAgent('mine')).body.data.id as string;
    const direct = await createDatasource({ connection_mode: 'direct' }, [a]);
    expect(direct.status).toBe(422);
    expect(direct.body.errors[0].source.pointer).toBe('/data/relationships/agents');
    const unknown = await createDatasource({}, ['lZ21oPaLUNWJbEifEhiFTaPIWlqaaZL3jxMA7L3h5Qg']);
    expect(unknown.status).toBe(422);
    expectValidJsonApi(unknown.body);

    const other = await t.services.organizations.create('Other');
    const theirs = await t.api
      .post('/datasource_agents')
      .set('Authorization', auth(other.adminKey.secret))
      .send({ data: { attributes: { name: 'theirs' } } });
    expect(theirs.status).toBe(201);
    const theirId = theirs.body.data.id as string;
    expect((await createDatasource({}, [theirId])).status).toBe(422);
    for (const [method, path] of [
      ['get', `/datasource_agents/${theirId}`],
      ['patch', `/datasource_agents/${theirId}`],
      ['delete', `/datasource_agents/${theirId}`],
    ] as const) {
      const res = await t.api[method](path)
        .set('Authorization', admin())
        .send(method === 'patch' ? { data: { attributes: { enabled: false } } } : undefined);
      expect([path, method, res.status]).toEqual([path, method, 404]);
      expectValidJsonApi(res.body);
    }
    const mine = await t.api.get('/datasource_agents').set('Authorization', admin());
    expect(mine.body.data.map((x: { id: string }) => x.id)).not.toContain(theirId);
  });

  it('enforces permissions: view, manage, and manage on every datasource using the agent', async () => {
    const agent = (await createAgent('perm')).body.data.id as string;
    const dsA = (await createDatasource({ name: 'A' }, [agent])).body.data.id as string;
    const dsB = (await createDatasource({ name: 'B' }, [agent])).body.data.id as string;
    const viewer = await keyWith([{ name: 'View Datasources' }]);
    const dashboards = await keyWith([{ name: 'Manage Dashboards' }]);
    const manageA = await keyWith([{ name: 'Manage Datasources', datasource_ids: [dsA] }]);

    expect((await t.api.get('/datasource_agents').set('Authorization', auth(viewer))).status).toBe(200);
    expect((await t.api.get(`/datasource_agents/${agent}`).set('Authorization', auth(viewer))).status).toBe(200);
    expect((await createAgent('no', viewer)).status).toBe(403);
    expect(
      (
        await t.api
          .patch(`/datasource_agents/${agent}`)
          .set('Authorization', auth(viewer))
          .send({ data: { attributes: { name: 'x' } } })
      ).status,
    ).toBe(403);
    expect((await t.api.delete(`/datasource_agents/${agent}`).set('Authorization', auth(viewer))).status).toBe(403);
    const denied = await t.api.get('/datasource_agents').set('Authorization', auth(dashboards));
    expect(denied.status).toBe(403);
    expectValidJsonApi(denied.body);
    expect((await t.api.get('/datasources?include=agents').set('Authorization', auth(dashboards))).status).toBe(403);

    // Manage Datasources on A only: the agent is also used by B
    const partial = await t.api
      .patch(`/datasource_agents/${agent}`)
      .set('Authorization', auth(manageA))
      .send({ data: { attributes: { name: 'x' } } });
    expect(partial.status).toBe(403);
    expectValidJsonApi(partial.body);
    // and the key sees only datasource A in the agent's linkage
    const seen = await t.api.get(`/datasource_agents/${agent}?include=datasources`).set('Authorization', auth(manageA));
    expect(seen.body.data.relationships.datasources.data).toEqual([{ type: 'datasources', id: dsA }]);
    expect(seen.body.included.map((d: { id: string }) => d.id)).toEqual([dsA]);
    expect(seen.body.included[0].attributes).toHaveProperty('password');
    const viewed = await t.api.get(`/datasource_agents/${agent}?include=datasources`).set('Authorization', auth(viewer));
    expect(viewed.body.included).toHaveLength(2);
    expect(viewed.body.included[0].attributes).not.toHaveProperty('password');

    await t.api
      .patch(`/datasources/${dsB}`)
      .set('Authorization', admin())
      .send({ data: { relationships: { agents: { data: [] } } } });
    const now = await t.api
      .patch(`/datasource_agents/${agent}`)
      .set('Authorization', auth(manageA))
      .send({ data: { attributes: { name: 'ok' } } });
    expect(now.status).toBe(200);
  });
});
