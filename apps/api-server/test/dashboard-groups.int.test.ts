import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createApiTestContext, type ApiTestContext } from '../../../test/support/context.js';
import { DashboardApi, refs } from './dashboards-helpers.js';

let t: ApiTestContext;
let api: DashboardApi;

beforeAll(async () => {
  t = await createApiTestContext();
  api = new DashboardApi(t, t.adminSecret);
});
afterAll(async () => {
  await t.close();
});

const groupBody = (attributes: Record<string, unknown>, dashboards?: string[]) => ({
  data: { type: 'dashboard_groups', attributes, ...(dashboards ? { relationships: { dashboards: refs('dashboards', dashboards) } } : {}) },
});
const names = async () => (await api.get('/dashboard_groups')).body.data.map((g: { attributes: { name: string } }) => g.attributes.name);

describe('dashboard groups', () => {
  it('creates, reads with included dashboards, updates memberships and deletes', async () => {
    const d1 = await api.dashboard({ name: 'B dash' });
    const d2 = await api.dashboard({ name: 'A dash' });
    const res = await api.post('/dashboard_groups', groupBody({ name: 'Finance', description: 'Money' }, [d1, d2]));
    expect(res.status).toBe(201);
    expect(res.body.data.attributes).toEqual({ name: 'Finance', description: 'Money', created_at: expect.any(String), updated_at: expect.any(String) });
    expect(res.body.data.relationships.dashboards.data).toEqual([
      { type: 'dashboards', id: d2 },
      { type: 'dashboards', id: d1 },
    ]);
    const id = res.body.data.id as string;
    const got = await api.get(`/dashboard_groups/${id}?include=dashboards`);
    expect(got.status).toBe(200);
    expect(got.body.included.map((i: { type: string; id: string }) => `${i.type}:${i.id}`)).toEqual([`dashboards:${d2}`, `dashboards:${d1}`]);
    expect(got.body.included[0].relationships.dashboard_groups.data).toEqual([{ type: 'dashboard_groups', id }]);
    expect((await api.get(`/dashboards/${d1}?include=dashboard_groups`)).body.included.map((i: { id: string }) => i.id)).toEqual([id]);

    const upd = await api.patch(`/dashboard_groups/${id}`, {
      data: { type: 'dashboard_groups', id, attributes: { name: 'Finance 2', description: null }, relationships: { dashboards: refs('dashboards', [d1]) } },
    });
    expect(upd.status).toBe(200);
    expect(upd.body.data.attributes).toMatchObject({ name: 'Finance 2', description: null });
    expect(upd.body.data.relationships.dashboards.data).toEqual([{ type: 'dashboards', id: d1 }]);
    const kept = await api.patch(`/dashboard_groups/${id}`, { data: { attributes: { description: 'x' } } });
    expect(kept.body.data.relationships.dashboards.data).toEqual([{ type: 'dashboards', id: d1 }]);
    // deleting a dashboard removes it from groups
    await api.delete(`/dashboards/${d1}`);
    expect((await api.get(`/dashboard_groups/${id}`)).body.data.relationships.dashboards.data).toEqual([]);
    expect((await api.delete(`/dashboard_groups/${id}`)).status).toBe(204);
    expect((await api.get(`/dashboard_groups/${id}`)).status).toBe(404);
    expect((await api.get(`/dashboards/${d2}`)).status).toBe(200);
  });

  it('validates input (422) and rejects foreign or unknown dashboards', async () => {
    const other = await t.services.organizations.create('Groups foreigners');
    const them = api.as(other.adminKey.secret);
    const foreign = await them.dashboard();
    for (const [body, pointer] of [
      [groupBody({}), '/data/attributes/name'],
      [groupBody({ name: '' }), '/data/attributes/name'],
      [groupBody({ name: 'x', color: 'red' }), '/data/attributes/color'],
      [groupBody({ name: 'x\u0000' }), '/data/attributes/name'],
      [groupBody({ name: 'x' }, [foreign]), '/data/relationships/dashboards/data/0'],
      [groupBody({ name: 'x' }, ['zzzz-zzzz-zzzz']), '/data/relationships/dashboards/data/0'],
      [
        { data: { attributes: { name: 'x' }, relationships: { dashboards: { data: { type: 'dashboards', id: foreign } } } } },
        '/data/relationships/dashboards/data',
      ],
    ] as const) {
      const res = await api.post('/dashboard_groups', body);
      expect([res.status, pointer]).toEqual([422, pointer]);
      expect(res.body.errors.map((e: { source?: { pointer?: string } }) => e.source?.pointer)).toContain(pointer);
    }
    const mine = await api.post('/dashboard_groups', groupBody({ name: 'Mine' }));
    const id = mine.body.data.id as string;
    for (const res of [
      await them.get(`/dashboard_groups/${id}`),
      await them.patch(`/dashboard_groups/${id}`, { data: { attributes: { name: 'x' } } }),
      await them.delete(`/dashboard_groups/${id}`),
    ])
      expect(res.status).toBe(404);
    expect((await them.get('/dashboard_groups')).body.data).toEqual([]);
    expect((await them.post('/dashboard_groups/sort', { dashboard_group_ids: [id] })).status).toBe(422);
    expect((await api.get(`/dashboard_groups/${id}?include=users`)).status).toBe(400);
  });

  it('hides personal groups from API keys', async () => {
    await t.database
      .db('dashboard_groups')
      .insert({ id: 'pers-onal-grp1', organization_id: t.organization.id, owner_user_id: 'some-user-id1', name: 'Personal' });
    expect(await names()).not.toContain('Personal');
    expect((await api.get('/dashboard_groups/pers-onal-grp1')).status).toBe(404);
    expect((await api.patch('/dashboard_groups/pers-onal-grp1', { data: { attributes: { name: 'x' } } })).status).toBe(404);
    expect((await api.delete('/dashboard_groups/pers-onal-grp1')).status).toBe(404);
    expect((await api.post('/dashboard_groups/sort', { dashboard_group_ids: ['pers-onal-grp1'] })).status).toBe(422);
  });

  it('sorts: explicit order first, the rest by name', async () => {
    const mk = async (name: string) => (await api.post('/dashboard_groups', groupBody({ name }))).body.data.id as string;
    const before = await names();
    const z = await mk('Zulu');
    const a = await mk('alpha');
    const m = await mk('Mike');
    const all = await names();
    expect(all.filter((n: string) => ['Zulu', 'alpha', 'Mike'].includes(n))).toEqual(['alpha', 'Mike', 'Zulu']);
    expect((await api.post('/dashboard_groups/sort', { dashboard_group_ids: [z, m] })).status).toBe(204);
    const sorted = await names();
    expect(sorted.slice(0, 2)).toEqual(['Zulu', 'Mike']);
    expect(sorted.slice(2)).toEqual([...before, 'alpha'].sort((x, y) => x.toLowerCase().localeCompare(y.toLowerCase())));
    // a new sort replaces the old order entirely
    expect((await api.post('/dashboard_groups/sort', { dashboard_group_ids: [a] })).status).toBe(204);
    expect((await names())[0]).toBe('alpha');
    expect((await names()).indexOf('Mike')).toBeLessThan((await names()).indexOf('Zulu'));
    for (const [body, status] of [
      [{ dashboard_group_ids: [a, a] }, 422],
      [{ dashboard_group_ids: ['zzzz-zzzz-zzzz'] }, 422],
      [{ dashboard_group_ids: 'x' }, 422],
      [{}, 422],
      [{ dashboard_group_ids: [], other: 1 }, 422],
      [[], 422],
    ] as const) {
      expect((await api.post('/dashboard_groups/sort', body)).status).toBe(status);
    }
    expect((await api.post('/dashboard_groups/sort', { dashboard_group_ids: [] })).status).toBe(204);
    expect((await names()).filter((n: string) => ['Zulu', 'alpha', 'Mike'].includes(n))).toEqual(['alpha', 'Mike', 'Zulu']);
  });

  it('needs View/Manage Dashboards', async () => {
    const viewer = await api.key([{ name: 'View Dashboards' }]);
    const g = (await api.post('/dashboard_groups', groupBody({ name: 'Perm' }))).body.data.id as string;
    expect((await api.as(viewer).get('/dashboard_groups')).status).toBe(200);
    expect((await api.as(viewer).get(`/dashboard_groups/${g}?include=dashboards`)).status).toBe(200);
    expect((await api.as(viewer).post('/dashboard_groups', groupBody({ name: 'x' }))).status).toBe(403);
    expect((await api.as(viewer).patch(`/dashboard_groups/${g}`, { data: { attributes: { name: 'x' } } })).status).toBe(403);
    expect((await api.as(viewer).delete(`/dashboard_groups/${g}`)).status).toBe(403);
    expect((await api.as(viewer).post('/dashboard_groups/sort', { dashboard_group_ids: [] })).status).toBe(403);
    const none = await api.key([{ name: 'View Users' }]);
    expect((await api.as(none).get('/dashboard_groups')).status).toBe(403);
  });
});
