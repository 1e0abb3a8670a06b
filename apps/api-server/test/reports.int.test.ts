import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { reportFields } from '@sightline/domain';
import { createApiTestContext, type ApiTestContext } from '../../../test/support/context.js';
import { DashboardApi, ref } from './dashboards-helpers.js';

let t: ApiTestContext;
let api: DashboardApi;
let ds: string;
let ds2: string;
let dash: string;

beforeAll(async () => {
  t = await createApiTestContext();
  api = new DashboardApi(t, t.adminSecret);
  ds = await api.datasource('Main');
  ds2 = await api.datasource('Second');
  dash = await api.dashboard({ name: 'Reports home' });
});
afterAll(async () => {
  await t.close();
});

describe('reports', () => {
  it('creates with defaults and round-trips every attribute', async () => {
    const res = await api.post('/reports', api.reportBody(dash, ds, { name: 'Plain', sql_query: undefined }));
    expect(res.status).toBe(201);
    expect(res.body.data.type).toBe('reports');
    // exactly the attributes of the field table, in its order (a new attribute needs no edit here)
    expect(Object.keys(res.body.data.attributes)).toEqual(reportFields.attributes);
    expect(res.body.data.attributes).toMatchObject({
      name: 'Plain',
      description: null,
      sql_query: null,
      r_query: null,
      r_query_enabled: false,
      data_refresh_rate: null,
      data_refresh_anchor_time: null,
      chart_configuration: {},
      download_actions_enabled: true,
      data_download_enabled: true,
      maximize_action_enabled: true,
      refresh_enabled: true,
      unused_filters_warning_enabled: false,
      unlimited_csv_export_enabled: false,
      default_page_width: 800,
      default_page_height: 600,
      display_name_as_title: true,
      attribution: null,
      no_data_message: null,
      query_error: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
      row: 1,
      column: 1,
      width: 6,
      height: 6,
    });
    expect(res.body.data.relationships).toEqual({
      dashboard: { data: { type: 'dashboards', id: dash } },
      datasource: { data: { type: 'datasources', id: ds } },
    });

    const attributes = {
      name: 'Full',
      description: 'desc',
      sql_query: 'SELECT {[x]:aggregation}',
      r_query: 'data',
      r_query_enabled: true,
      data_refresh_rate: 15,
      data_refresh_anchor_time: '14:15:22Z',
      download_actions_enabled: false,
      data_download_enabled: false,
      maximize_action_enabled: false,
      refresh_enabled: false,
      unused_filters_warning_enabled: true,
      unlimited_csv_export_enabled: true,
      default_page_width: 1024,
      default_page_height: 768,
      display_name_as_title: false,
      attribution: '© us',
      no_data_message: 'Nothing',
      width: 12,
      height: 3,
      chart_configuration: { ignored: true },
      query_error: 'ignored',
      row: 99,
      column: 99,
    };
    const full = await api.post('/reports', api.reportBody(dash, ds, attributes));
    expect(full.status).toBe(201);
    const { chart_configuration: _c, query_error: _q, row: _r, column: _col, ...writable } = attributes;
    expect(full.body.data.attributes).toMatchObject({
      ...writable,
      data_refresh_anchor_time: '14:15',
      chart_configuration: {},
      query_error: null,
      row: 7,
      column: 1,
    });
    const id = full.body.data.id as string;
    const got = await api.get(`/reports/${id}`);
    expect(got.body.data).toEqual(full.body.data);

    const upd = await api.patch(`/reports/${id}`, {
      data: {
        type: 'reports',
        id,
        attributes: { name: 'Renamed', description: null, data_refresh_rate: null, data_refresh_anchor_time: '07:30', width: 12, row: 7 },
      },
    });
    expect(upd.status).toBe(200);
    expect(upd.body.data.attributes).toMatchObject({
      name: 'Renamed',
      description: null,
      data_refresh_rate: null,
      data_refresh_anchor_time: '07:30',
      r_query: 'data',
    });

    const list = await api.get('/reports');
    expect(list.body.data.map((r: { id: string }) => r.id)).toEqual(expect.arrayContaining([id, res.body.data.id]));
    expect((await api.delete(`/reports/${id}`)).status).toBe(204);
    expect((await api.get(`/reports/${id}`)).status).toBe(404);
    expect((await api.delete(`/reports/${id}`)).status).toBe(404);
  });

  it('includes dashboard and datasource (datasource only for allowed keys)', async () => {
    const id = await api.report(dash, ds);
    const res = await api.get(`/reports/${id}?include=dashboard,datasource`);
    expect(res.body.included.map((i: { type: string; id: string }) => `${i.type}:${i.id}`).sort()).toEqual([`dashboards:${dash}`, `datasources:${ds}`]);
    const viewer = await api.key([{ name: 'View Dashboards' }]);
    expect((await api.as(viewer).get(`/reports/${id}?include=datasource`)).status).toBe(403);
    const ok = await api.as(viewer).get(`/reports/${id}?include=dashboard`);
    expect(ok.status).toBe(200);
    expect(Object.keys(ok.body.included[0].relationships)).not.toContain('dashboard_sharing_links');
    const viewerDs = await api.key([{ name: 'View Dashboards' }, { name: 'View Datasources' }]);
    const withDs = await api.as(viewerDs).get(`/reports/${id}?include=datasource`);
    expect(withDs.status).toBe(200);
    expect(withDs.body.included[0].attributes.password).toBeUndefined();
    expect((await api.get(`/reports/${id}?include=dashboards`)).status).toBe(400);
    expect((await api.get('/reports?include=dashboard')).status).toBe(400);
  });

  it('validates input and relationships (422), including foreign ids', async () => {
    const other = await t.services.organizations.create('Foreign org');
    const foreignApi = api.as(other.adminKey.secret);
    const foreignDs = await foreignApi.datasource('Foreign');
    const foreignDash = await foreignApi.dashboard();
    const cases: Array<[unknown, string]> = [
      [{ data: { attributes: { name: 'x' }, relationships: { dashboard: ref('dashboards', dash) } } }, '/data/relationships/datasource'],
      [{ data: { attributes: { name: 'x' }, relationships: { datasource: ref('datasources', ds) } } }, '/data/relationships/dashboard'],
      [api.reportBody(foreignDash, ds), '/data/relationships/dashboard'],
      [api.reportBody(dash, foreignDs), '/data/relationships/datasource'],
      [api.reportBody('zzzz-zzzz-zzzz', ds), '/data/relationships/dashboard'],
      [api.reportBody(dash, ds, { name: undefined }), '/data/attributes/name'],
      [api.reportBody(dash, ds, { width: 13 }), '/data/attributes/width'],
      [api.reportBody(dash, ds, { height: 0 }), '/data/attributes/height'],
      [api.reportBody(dash, ds, { data_refresh_rate: 1.5 }), '/data/attributes/data_refresh_rate'],
      [api.reportBody(dash, ds, { data_refresh_anchor_time: '24:00' }), '/data/attributes/data_refresh_anchor_time'],
      [api.reportBody(dash, ds, { unused_filters_warning_enabled: 'yes' }), '/data/attributes/unused_filters_warning_enabled'],
      [api.reportBody(dash, ds, { sql_query: 'SELECT \u0000' }), '/data/attributes/sql_query'],
      [
        { data: { attributes: { name: 'x' }, relationships: { dashboard: { data: { type: 'reports', id: dash } }, datasource: ref('datasources', ds) } } },
        '/data/relationships/dashboard/data/type',
      ],
      [
        {
          data: {
            attributes: { name: 'x' },
            relationships: { dashboard: ref('dashboards', dash), datasource: ref('datasources', ds), owner: ref('users', 'x') },
          },
        },
        '/data/relationships/owner',
      ],
    ];
    for (const [body, pointer] of cases) {
      const res = await api.post('/reports', body);
      expect([res.status, pointer]).toEqual([422, pointer]);
      expect(res.body.errors.map((e: { source?: { pointer?: string } }) => e.source?.pointer)).toContain(pointer);
    }
    const id = await api.report(dash, ds);
    for (const [attributes, pointer] of [
      [{ width: 3 }, '/data/attributes/width'],
      [{ row: 40 }, '/data/attributes/row'],
      [{ column: 2 }, '/data/attributes/column'],
    ] as const) {
      const res = await api.patch(`/reports/${id}`, { data: { attributes } });
      expect(res.status).toBe(422);
      expect(res.body.errors[0].source.pointer).toBe(pointer);
    }
    expect((await api.patch(`/reports/${id}`, { data: { relationships: { datasource: { data: null } } } })).status).toBe(422);
    expect((await api.patch(`/reports/${id}`, { data: { relationships: { datasource: ref('datasources', foreignDs) } } })).status).toBe(422);
    expect((await api.patch(`/reports/${id}`, { data: { relationships: { dashboard: ref('dashboards', foreignDash) } } })).status).toBe(422);
    // the foreign organization sees none of it
    for (const res of [
      await foreignApi.get(`/reports/${id}`),
      await foreignApi.patch(`/reports/${id}`, { data: { attributes: { name: 'x' } } }),
      await foreignApi.delete(`/reports/${id}`),
      await foreignApi.post(`/reports/${id}/duplicate`),
    ])
      expect(res.status).toBe(404);
    expect((await foreignApi.get('/reports')).body.data.map((r: { id: string }) => r.id)).not.toContain(id);
  });

  it('moves a report to another dashboard and datasource', async () => {
    const target = await api.dashboard({ name: 'Target' });
    await api.report(target, ds, { width: 12, height: 2 });
    const id = await api.report(dash, ds, { width: 4, height: 2 });
    const res = await api.patch(`/reports/${id}`, { data: { relationships: { dashboard: ref('dashboards', target), datasource: ref('datasources', ds2) } } });
    expect(res.status).toBe(200);
    expect(res.body.data.relationships).toEqual({
      dashboard: { data: { type: 'dashboards', id: target } },
      datasource: { data: { type: 'datasources', id: ds2 } },
    });
    expect(res.body.data.attributes).toMatchObject({ row: 3, column: 1, width: 4, height: 2 });
  });

  it('duplicates a report on the same dashboard at a free position', async () => {
    const d = await api.dashboard({ name: 'Dup' });
    const id = await api.report(d, ds, { name: 'Orig', width: 8, height: 2, sql_query: 'SELECT 42', unlimited_csv_export_enabled: true });
    const res = await api.post(`/reports/${id}/duplicate`);
    expect(res.status).toBe(201);
    expect(res.body.data.id).not.toBe(id);
    expect(res.body.data.attributes).toMatchObject({
      name: 'Orig (copy)',
      sql_query: 'SELECT 42',
      unlimited_csv_export_enabled: true,
      row: 3,
      column: 1,
      width: 8,
      height: 2,
    });
    expect(res.body.data.relationships.dashboard.data.id).toBe(d);
    expect((await api.get(`/dashboards/${d}`)).body.data.relationships.reports.data).toHaveLength(2);
  });

  it('enforces permissions and datasource scopes', async () => {
    const id = await api.report(dash, ds);
    const viewer = await api.key([{ name: 'View Dashboards' }]);
    expect((await api.as(viewer).get(`/reports/${id}`)).status).toBe(200);
    expect((await api.as(viewer).post('/reports', api.reportBody(dash, ds))).status).toBe(403);
    expect((await api.as(viewer).patch(`/reports/${id}`, { data: { attributes: { name: 'x' } } })).status).toBe(403);
    expect((await api.as(viewer).delete(`/reports/${id}`)).status).toBe(403);
    expect((await api.as(viewer).post(`/reports/${id}/duplicate`)).status).toBe(403);
    const limited = await api.key([{ name: 'Manage Dashboards', datasource_ids: [ds2] }]);
    // cannot create on a datasource outside its scope, nor see or change reports there
    expect((await api.as(limited).post('/reports', api.reportBody(dash, ds))).status).toBe(422);
    expect((await api.as(limited).get(`/reports/${id}`)).status).toBe(404);
    expect((await api.as(limited).patch(`/reports/${id}`, { data: { attributes: { name: 'x' } } })).status).toBe(404);
    expect((await api.as(limited).delete(`/reports/${id}`)).status).toBe(404);
    const own = await api.as(limited).post('/reports', api.reportBody(dash, ds2));
    expect(own.status).toBe(201);
    expect((await api.as(limited).patch(`/reports/${own.body.data.id}`, { data: { relationships: { datasource: ref('datasources', ds) } } })).status).toBe(422);
    expect(
      (await api.as(limited).get('/reports')).body.data.every(
        (r: { relationships: { datasource: { data: { id: string } } } }) => r.relationships.datasource.data.id === ds2,
      ),
    ).toBe(true);
    // duplicating a dashboard with reports outside the key's scope is refused
    expect((await api.as(limited).post(`/dashboards/${dash}/duplicate`)).status).toBe(403);
  });

  it('keeps a datasource in use from being deleted (422)', async () => {
    const d3 = await api.datasource('In use');
    const id = await api.report(dash, d3);
    const res = await api.delete(`/datasources/${d3}`);
    expect(res.status).toBe(422);
    await api.delete(`/reports/${id}`);
    expect((await api.delete(`/datasources/${d3}`)).status).toBe(204);
  });

  it('deletes reports with their dashboard', async () => {
    const d = await api.dashboard();
    const id = await api.report(d, ds);
    await api.delete(`/dashboards/${d}`);
    expect((await api.get(`/reports/${id}`)).status).toBe(404);
  });
});
