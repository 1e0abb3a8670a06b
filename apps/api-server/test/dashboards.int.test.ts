import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createApiTestContext, type ApiTestContext } from '../../../test/support/context.js';
import { DashboardApi } from './dashboards-helpers.js';

let t: ApiTestContext;
let api: DashboardApi;
let ds: string;

beforeAll(async () => {
  t = await createApiTestContext();
  api = new DashboardApi(t, t.adminSecret);
  ds = await api.datasource();
});
afterAll(async () => {
  await t.close();
});

describe('dashboards: create, read, update, delete', () => {
  it('creates with the contract defaults', async () => {
    const res = await api.post('/dashboards', { data: { type: 'dashboards', attributes: { name: 'Defaults' } } });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toContain('application/vnd.api+json');
    expect(res.body.data.type).toBe('dashboards');
    expect(res.body.data.id).toMatch(/^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/);
    expect(res.body.data.attributes).toEqual({
      name: 'Defaults',
      description: null,
      time_zone_config: { type: 'disabled' },
      automatic_update_enabled: true,
      thumbnail_enabled: true,
      thumbnail_image_url: null,
      thumbnail_created_at: null,
      prewarm: false,
      published: false,
      data_refresh_rate: 1440,
      data_refresh_anchor_time: null,
      is_locked: false,
      default_parameters: null,
      default_page_width: 1600,
      layout: [],
      floating_enabled: false,
      color_scheme: 'scheme_6',
      filters_configuration: {},
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(res.body.data.relationships).toEqual({
      reports: { data: [] },
      filters: { data: [] },
      sql_snippets: { data: [] },
      dashboard_groups: { data: [] },
      dashboard_sharing_links: { data: [] },
      user: { data: null },
      user_groups: { data: [] },
    });
  });

  it('round-trips every writable attribute', async () => {
    const attributes = {
      name: 'Everything',
      description: 'All of it',
      time_zone_config: { type: 'input', allowed_time_zones: ['Europe/Berlin', 'UTC'] },
      automatic_update_enabled: false,
      thumbnail_enabled: false,
      prewarm: true,
      data_refresh_rate: 90.5,
      data_refresh_anchor_time: '15:42:10Z',
      is_locked: false,
      default_page_width: 1200,
      color_scheme: 'scheme_2',
      filters_configuration: {
        apply_immediately: true,
        aggregation_options: ['day', 'week', 'all_time'],
        filter_sorting: ['country'],
        hidden_parameters: ['x'],
      },
    };
    const res = await api.post('/dashboards', { data: { attributes } });
    expect(res.status).toBe(201);
    expect(res.body.data.attributes).toMatchObject({ ...attributes, data_refresh_anchor_time: '15:42' });
    const id = res.body.data.id as string;
    const got = await api.get(`/dashboards/${id}`);
    expect(got.body.data.attributes).toEqual(res.body.data.attributes);

    const upd = await api.patch(`/dashboards/${id}`, {
      data: {
        type: 'dashboards',
        id,
        attributes: {
          name: 'Renamed',
          description: null,
          time_zone_config: { type: 'fixed', fixed_time_zone: 'America/New_York' },
          data_refresh_anchor_time: '06:05',
          default_parameters: {
            timerange: '1712233090~1712237090',
            aggregation: 'week',
            tz: 'Europe/Berlin',
            filters: [{ variable_name: 'country', selected_values: ['DE', 1, true, null] }],
          },
        },
      },
    });
    expect(upd.status).toBe(200);
    expect(upd.body.data.attributes).toMatchObject({
      name: 'Renamed',
      description: null,
      time_zone_config: { type: 'fixed', fixed_time_zone: 'America/New_York' },
      data_refresh_anchor_time: '06:05',
      default_parameters: {
        timerange: '1712233090~1712237090',
        aggregation: 'week',
        tz: 'Europe/Berlin',
        filters: [{ variable_name: 'country', selected_values: ['DE', 1, true, null] }],
      },
      prewarm: true,
      color_scheme: 'scheme_2',
    });
    const cleared = await api.patch(`/dashboards/${id}`, {
      data: { attributes: { default_parameters: null, data_refresh_anchor_time: null, time_zone_config: { type: 'organization' } } },
    });
    expect(cleared.body.data.attributes).toMatchObject({
      default_parameters: null,
      data_refresh_anchor_time: null,
      time_zone_config: { type: 'organization' },
    });

    const list = await api.get('/dashboards');
    expect(list.status).toBe(200);
    expect(list.body.data.map((d: { id: string }) => d.id)).toContain(id);
    expect(list.body.included).toBeUndefined();

    expect((await api.delete(`/dashboards/${id}`)).status).toBe(204);
    expect((await api.get(`/dashboards/${id}`)).status).toBe(404);
    expect((await api.delete(`/dashboards/${id}`)).status).toBe(404);
  });

  it('rejects default_parameters on create and invalid values (422)', async () => {
    const bad = async (attributes: Record<string, unknown>, pointer: string) => {
      const res = await api.post('/dashboards', { data: { attributes: { name: 'x', ...attributes } } });
      expect(res.status).toBe(422);
      expect(res.body.errors.map((e: { source?: { pointer?: string } }) => e.source?.pointer)).toContain(pointer);
    };
    await bad({ default_parameters: { timerange: '~' } }, '/data/attributes/default_parameters');
    await bad({ color_scheme: 'scheme_9' }, '/data/attributes/color_scheme');
    await bad({ data_refresh_rate: 0 }, '/data/attributes/data_refresh_rate');
    await bad({ data_refresh_rate: '60' }, '/data/attributes/data_refresh_rate');
    await bad({ data_refresh_anchor_time: '25:00' }, '/data/attributes/data_refresh_anchor_time');
    await bad({ data_refresh_anchor_time: '3pm' }, '/data/attributes/data_refresh_anchor_time');
    await bad({ time_zone_config: { type: 'fixed' } }, '/data/attributes/time_zone_config/fixed_time_zone');
    await bad({ time_zone_config: { type: 'fixed', fixed_time_zone: 'Mars/Olympus' } }, '/data/attributes/time_zone_config/fixed_time_zone');
    await bad({ time_zone_config: { type: 'disabled', allowed_time_zones: ['UTC'] } }, '/data/attributes/time_zone_config/allowed_time_zones');
    await bad({ time_zone_config: { type: 'sometimes' } }, '/data/attributes/time_zone_config/type');
    await bad({ filters_configuration: { aggregation_options: ['fortnight'] } }, '/data/attributes/filters_configuration/aggregation_options/0');
    await bad({ filters_configuration: { unknown: 1 } }, '/data/attributes/filters_configuration/unknown');
    await bad({ filters_configuration: { filter_sorting: ['a\u0000'] } }, '/data/attributes/filters_configuration/filter_sorting/0');
    await bad({ name: '' }, '/data/attributes/name');
    await bad({ name: 'a\u0000b' }, '/data/attributes/name');
    await bad({ surprise: true }, '/data/attributes/surprise');
    const noName = await api.post('/dashboards', { data: { attributes: {} } });
    expect(noName.status).toBe(422);
    const id = await api.dashboard();
    for (const default_parameters of [
      { timerange: 'yesterday-ish' },
      { tz: 'Nowhere/Land' },
      { aggregation: 'fortnight' },
      { filters: [{ variable_name: 'bad name', selected_values: [] }] },
      {
        filters: [
          { variable_name: 'a', selected_values: [] },
          { variable_name: 'a', selected_values: [] },
        ],
      },
      { unknown: 1 },
      { filters: [{ variable_name: 'a', selected_values: [{ nested: true }] }] },
      { filters: [{ variable_name: 'a', selected_values: ['x\u0000y'] }] },
    ]) {
      const res = await api.patch(`/dashboards/${id}`, { data: { attributes: { default_parameters } } });
      expect(res.status).toBe(422);
    }
    // dashboards have no writable relationships
    const rel = await api.patch(`/dashboards/${id}`, { data: { attributes: {}, relationships: { reports: { data: [] } } } });
    expect(rel.status).toBe(422);
    for (const [path, body] of [
      ['/reports', api.reportBody('a\u0000', ds)],
      [
        '/filters',
        api.filterBody(
          { variable_name: 'nul_rel', control_type: 'dropdown', value_type: 'TEXT', sql_query: 'SELECT 1' },
          { datasource: { data: { type: 'datasources', id: 'a\u0000' } } },
        ),
      ],
      ['/dashboard_groups', { data: { attributes: { name: 'g' }, relationships: { dashboards: { data: [{ type: 'dashboards', id: 'a\u0000' }] } } } }],
    ] as const) {
      expect((await api.post(path, body)).status).toBe(422);
    }
    expect((await api.post('/dashboard_groups/sort', { dashboard_group_ids: ['a\u0000'] })).status).toBe(422);
  });

  it('answers hostile and malformed requests with 4xx JSON:API errors', async () => {
    const id = await api.dashboard();
    const cases = [
      await api.post('/dashboards', 'not json'),
      await api.post('/dashboards', []),
      await api.post('/dashboards', { data: { type: 'reports', attributes: { name: 'x' } } }),
      await api.post('/dashboards', { data: { id: 'abcd-efgh-ijkl', attributes: { name: 'x' } } }),
      await api.patch(`/dashboards/${id}`, { data: { id: 'zzzz-zzzz-zzzz', attributes: { name: 'x' } } }),
      await api.patch(`/dashboards/${id}`, { data: { attributes: { name: { $gt: '' } } } }),
      await api.get(`/dashboards/${id}?include=everything`),
      await api.get(`/dashboards/${id}?sort=name`),
      await api.get('/dashboards?include=reports'),
      await api.get(`/dashboards/${encodeURIComponent("' OR 1=1 --")}`),
      await api.get(`/dashboards/${'x'.repeat(5000)}`),
      await api.get('/dashboards/a%00b'),
      await api.patch('/dashboards/a%00b', { data: { attributes: { name: 'x' } } }),
      await api.post('/dashboards/a%00b/lock'),
      await api.get('/reports/a%00b'),
      await api.get('/filters/a%00b'),
      await api.get('/dashboard_groups/a%00b'),
      await api.get('/dashboards/%E0%A4%A'),
    ];
    for (const res of cases) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.body.errors.length).toBeGreaterThan(0);
    }
    expect(cases.map((r) => r.status)).toEqual([415, 400, 409, 403, 409, 422, 400, 400, 400, 404, 404, 404, 404, 404, 404, 404, 404, 404]);
    const huge = await t.api
      .post('/dashboards')
      .set('Authorization', `Api ${t.adminSecret}`)
      .send({ data: { attributes: { name: 'x'.repeat(70 * 1024) } } });
    expect(huge.status).toBe(413);
  });
});

describe('dashboards: relationships and includes', () => {
  it('derives filters and snippets from report SQL and includes everything on request', async () => {
    const id = await api.dashboard({ name: 'Derived' });
    const snippet = await api.post('/sql_snippets', {
      data: {
        attributes: { name: 'paid_only_d', text: "status = 'paid' AND {region=region_d}" },
        relationships: { datasource: { data: { type: 'datasources', id: ds } } },
      },
    });
    expect(snippet.status).toBe(201);
    const country = await api.filter({ variable_name: 'country_d', control_type: 'input', value_type: 'TEXT' });
    const region = await api.filter({ variable_name: 'region_d', control_type: 'input_multi', value_type: 'TEXT' });
    const unused = await api.filter({ variable_name: 'unused_d', control_type: 'checkbox', value_type: 'BOOLEAN' });
    const r1 = await api.report(id, ds, { sql_query: 'SELECT * FROM orders WHERE {country=country_d} AND [paid_only_d] AND {created_at=timerange}' });
    const r2 = await api.report(id, ds, { sql_query: "SELECT '{not_a=unused_d}' -- {c=unused_d}\n, {[x]:aggregation}" });
    const got = await api.get(`/dashboards/${id}?include=reports,filters,sql_snippets,dashboard_groups,dashboard_sharing_links,user,user_groups`);
    expect(got.status).toBe(200);
    const rel = got.body.data.relationships;
    expect(rel.reports.data.map((r: { id: string }) => r.id)).toEqual([r1, r2]);
    expect(rel.filters.data.map((r: { id: string }) => r.id).sort()).toEqual([country, region].sort());
    expect(rel.filters.data.map((r: { id: string }) => r.id)).not.toContain(unused);
    expect(rel.sql_snippets.data).toEqual([{ type: 'sql_snippets', id: snippet.body.data.id }]);
    const included = got.body.included.map((i: { type: string; id: string }) => `${i.type}:${i.id}`).sort();
    expect(included).toEqual([`reports:${r1}`, `reports:${r2}`, `filters:${country}`, `filters:${region}`, `sql_snippets:${snippet.body.data.id}`].sort());
    expect(got.body.data.attributes.layout).toEqual([
      { type: 'report', id: r1, row: 1, column: 1, width: 6, height: 6 },
      { type: 'report', id: r2, row: 1, column: 7, width: 6, height: 6 },
    ]);
    // a renamed filter no longer belongs to the dashboard (its references become ad hoc)
    await api.patch(`/filters/${country}`, { data: { attributes: { variable_name: 'country_d2' } } });
    const after = await api.get(`/dashboards/${id}`);
    expect(after.body.data.relationships.filters.data.map((r: { id: string }) => r.id)).toEqual([region]);
  });

  it('shows user, user_groups and dashboard_sharing_links only to keys allowed to see them', async () => {
    const id = await api.dashboard();
    const viewer = await api.key([{ name: 'View Dashboards' }]);
    const viewerUsers = await api.key([{ name: 'View Dashboards' }, { name: 'View Users' }]);
    const asViewer = await api.as(viewer).get(`/dashboards/${id}`);
    expect(asViewer.status).toBe(200);
    expect(Object.keys(asViewer.body.data.relationships).sort()).toEqual(['dashboard_groups', 'filters', 'reports', 'sql_snippets']);
    const list = await api.as(viewer).get('/dashboards');
    expect(Object.keys(list.body.data[0].relationships).sort()).toEqual(['dashboard_groups', 'filters', 'reports', 'sql_snippets']);
    expect((await api.as(viewer).get(`/dashboards/${id}?include=user`)).status).toBe(403);
    expect((await api.as(viewer).get(`/dashboards/${id}?include=user_groups`)).status).toBe(403);
    expect((await api.as(viewer).get(`/dashboards/${id}?include=dashboard_sharing_links`)).status).toBe(403);
    const withUsers = await api.as(viewerUsers).get(`/dashboards/${id}?include=user,user_groups`);
    expect(withUsers.status).toBe(200);
    expect(Object.keys(withUsers.body.data.relationships).sort()).toEqual(['dashboard_groups', 'filters', 'reports', 'sql_snippets', 'user', 'user_groups']);
    expect((await api.as(viewerUsers).get(`/dashboards/${id}?include=dashboard_sharing_links`)).status).toBe(403);
    // writes need Manage Dashboards
    expect((await api.as(viewer).post('/dashboards', { data: { attributes: { name: 'x' } } })).status).toBe(403);
    expect((await api.as(viewer).patch(`/dashboards/${id}`, { data: { attributes: { name: 'x' } } })).status).toBe(403);
    expect((await api.as(viewer).delete(`/dashboards/${id}`)).status).toBe(403);
    expect((await api.as(viewer).post(`/dashboards/${id}/lock`)).status).toBe(403);
    expect((await api.as(viewer).post(`/dashboards/${id}/duplicate`)).status).toBe(403);
    expect((await api.as(viewer).post(`/dashboards/${id}/backup`)).status).toBe(403);
    expect((await api.as(viewer).put(`/dashboards/${id}/layout`, { layout: [] })).status).toBe(403);
    const none = await api.key([{ name: 'View Datasources' }]);
    expect((await api.as(none).get('/dashboards')).status).toBe(403);
    expect((await api.as(none).get(`/dashboards/${id}`)).status).toBe(403);
  });

  it('reports sharing as published and user_groups (stored by Share Dashboard)', async () => {
    const id = await api.dashboard({ name: 'Shared' });
    const groups = await api.get('/user_groups');
    const allUsers = groups.body.data.find((g: { attributes: { built_in_behavior: string | null } }) => g.attributes.built_in_behavior === 'all_users')
      .id as string;
    await t.database.db('dashboards').where({ id }).update({ share_mode: 'custom' });
    await t.database.db('dashboard_user_groups').insert([
      { organization_id: t.organization.id, dashboard_id: id, user_group_id: allUsers },
      { organization_id: t.organization.id, dashboard_id: id, user_group_id: 'gone-grou-p000' },
    ]);
    const got = await api.get(`/dashboards/${id}?include=user_groups`);
    expect(got.body.data.attributes.published).toBe(true);
    expect(got.body.data.relationships.user_groups.data).toEqual([{ type: 'user_groups', id: allUsers }]);
    expect(got.body.included.map((i: { type: string; id: string }) => `${i.type}:${i.id}`)).toEqual([`user_groups:${allUsers}`]);
    const copy = await api.post(`/dashboards/${id}/duplicate`);
    expect(copy.body.data.attributes.published).toBe(false);
    expect(copy.body.data.relationships.user_groups.data).toEqual([]);
  });

  it('lists only reports on datasources a limited key can use', async () => {
    const other = await api.datasource('Other');
    const id = await api.dashboard();
    const mine = await api.report(id, ds);
    const hidden = await api.report(id, other);
    const limited = await api.key([{ name: 'View Dashboards', datasource_ids: [ds] }]);
    const got = await api.as(limited).get(`/dashboards/${id}?include=reports`);
    expect(got.body.data.relationships.reports.data.map((r: { id: string }) => r.id)).toEqual([mine]);
    expect(got.body.included.map((r: { id: string }) => r.id)).toEqual([mine]);
    expect(got.body.data.attributes.layout.map((l: { id: string }) => l.id)).toEqual([mine]);
    expect((await api.as(limited).get(`/reports/${hidden}`)).status).toBe(404);
    const list = await api.as(limited).get('/reports');
    expect(list.body.data.map((r: { id: string }) => r.id)).not.toContain(hidden);
  });
});

describe('dashboards: lock and unlock', () => {
  it('refuses changes to a locked dashboard and its reports and filters until unlocked', async () => {
    const id = await api.dashboard({ name: 'Locked' });
    const report = await api.report(id, ds, { sql_query: 'SELECT {x=lock_f}' });
    const filter = await api.filter({ variable_name: 'lock_f', control_type: 'input', value_type: 'TEXT' });
    expect((await api.post(`/dashboards/${id}/lock`)).status).toBe(204);
    expect((await api.post(`/dashboards/${id}/lock`)).status).toBe(204);
    expect((await api.get(`/dashboards/${id}`)).body.data.attributes.is_locked).toBe(true);

    const refused = [
      await api.patch(`/dashboards/${id}`, { data: { attributes: { name: 'x' } } }),
      await api.patch(`/dashboards/${id}`, { data: { attributes: { is_locked: true, name: 'x' } } }),
      await api.put(`/dashboards/${id}/layout`, { layout: [{ type: 'report', id: report, row: 1, column: 1, width: 3, height: 3 }] }),
      await api.delete(`/dashboards/${id}`),
      await api.post('/reports', api.reportBody(id, ds)),
      await api.patch(`/reports/${report}`, { data: { attributes: { name: 'x' } } }),
      await api.delete(`/reports/${report}`),
      await api.post(`/reports/${report}/duplicate`),
      await api.patch(`/filters/${filter}`, { data: { attributes: { display_name: 'x' } } }),
      await api.delete(`/filters/${filter}`),
    ];
    expect(refused.map((r) => r.status)).toEqual(refused.map(() => 422));
    expect(refused.map((r) => r.body.errors[0].meta.error_code)).toEqual(refused.map(() => 'dashboard_locked'));
    // reads are unaffected; duplicate and backup work
    expect((await api.get(`/reports/${report}`)).status).toBe(200);
    expect((await api.get(`/filters/${filter}`)).status).toBe(200);
    expect((await api.post(`/dashboards/${id}/backup`)).status).toBe(200);
    const copy = await api.post(`/dashboards/${id}/duplicate`);
    expect(copy.status).toBe(201);
    expect(copy.body.data.attributes.is_locked).toBe(false);
    // unlocking through Update works while locked (and may change other attributes at once)
    const unlocked = await api.patch(`/dashboards/${id}`, { data: { attributes: { is_locked: false, name: 'Unlocked' } } });
    expect(unlocked.status).toBe(200);
    expect(unlocked.body.data.attributes).toMatchObject({ is_locked: false, name: 'Unlocked' });
    expect((await api.patch(`/reports/${report}`, { data: { attributes: { name: 'ok' } } })).status).toBe(200);
    expect((await api.patch(`/dashboards/${id}`, { data: { attributes: { is_locked: true } } })).body.data.attributes.is_locked).toBe(true);
    expect((await api.post(`/dashboards/${id}/unlock`)).status).toBe(204);
    expect((await api.patch(`/filters/${filter}`, { data: { attributes: { display_name: 'ok' } } })).status).toBe(200);
    expect((await api.post(`/dashboards/zzzz-zzzz-zzzz/lock`)).status).toBe(404);
  });
});

describe('dashboards: layout', () => {
  it('places new reports first-fit and replaces the layout', async () => {
    const id = await api.dashboard({ name: 'Grid' });
    const a = await api.report(id, ds, { width: 8, height: 4 });
    const b = await api.report(id, ds, { width: 6, height: 2 });
    const c = await api.report(id, ds, { width: 4, height: 2 });
    const layout = (await api.get(`/dashboards/${id}`)).body.data.attributes.layout;
    expect(layout).toEqual([
      { type: 'report', id: a, row: 1, column: 1, width: 8, height: 4 },
      { type: 'report', id: c, row: 1, column: 9, width: 4, height: 2 },
      { type: 'report', id: b, row: 5, column: 1, width: 6, height: 2 },
    ]);
    const next = [
      { type: 'report', id: a, row: 1, column: 1, width: 12, height: 3 },
      { type: 'report', id: b, row: 4, column: 1, width: 6, height: 3 },
      { type: 'report', id: c, row: 4, column: 7, width: 6, height: 3 },
    ];
    expect((await api.put(`/dashboards/${id}/layout`, { layout: next, floating_enabled: true })).status).toBe(204);
    const got = await api.get(`/dashboards/${id}`);
    expect(got.body.data.attributes.layout).toEqual(next);
    expect(got.body.data.attributes.floating_enabled).toBe(true);
    expect((await api.get(`/reports/${b}`)).body.data.attributes).toMatchObject({ row: 4, column: 1, width: 6, height: 3 });
    // floating_enabled defaults to the current setting
    expect((await api.put(`/dashboards/${id}/layout`, { layout: next })).status).toBe(204);
    expect((await api.get(`/dashboards/${id}`)).body.data.attributes.floating_enabled).toBe(true);
    // a new report fills the first free area
    const d = await api.report(id, ds, { width: 12, height: 1 });
    expect((await api.get(`/reports/${d}`)).body.data.attributes).toMatchObject({ row: 7, column: 1, width: 12, height: 1 });
  });

  it('rejects incomplete, overlapping and off-grid layouts naming the element', async () => {
    const id = await api.dashboard({ name: 'Bad grid' });
    const a = await api.report(id, ds);
    const b = await api.report(id, ds);
    const other = await api.dashboard();
    const foreign = await api.report(other, ds);
    const el = (rid: string, row: number, column: number, width: number, height: number) => ({ type: 'report', id: rid, row, column, width, height });
    const cases: Array<[unknown, number, string]> = [
      [{ layout: [el(a, 1, 1, 6, 6)] }, 422, '/layout'],
      [{ layout: [el(a, 1, 1, 6, 6), el(b, 3, 4, 6, 6)] }, 422, '/layout/1'],
      [{ layout: [el(a, 1, 1, 6, 6), el(b, 1, 8, 6, 6)] }, 422, '/layout/1'],
      [{ layout: [el(a, 0, 1, 6, 6), el(b, 1, 7, 6, 6)] }, 422, '/layout/0'],
      [{ layout: [el(a, 1, 13, 1, 6), el(b, 1, 7, 6, 6)] }, 422, '/layout/0'],
      [{ layout: [el(a, 1, 1, 13, 6), el(b, 8, 1, 6, 6)] }, 422, '/layout/0'],
      [{ layout: [el(a, 1, 1, 6, 0), el(b, 1, 7, 6, 6)] }, 422, '/layout/0'],
      [{ layout: [el(a, 1, 1, 6, 6), el(a, 7, 1, 6, 6), el(b, 1, 7, 6, 6)] }, 422, '/layout/1/id'],
      [{ layout: [el(a, 1, 1, 6, 6), el(b, 1, 7, 6, 6), el(foreign, 9, 1, 1, 1)] }, 422, '/layout/2/id'],
      [{ layout: [el(a, 1, 1, 6, 6), el(b, 1, 7, 6, 6), el('zzzz-zzzz-zzzz', 9, 1, 1, 1)] }, 422, '/layout/2/id'],
      [{ layout: [el(a, 1.5, 1, 6, 6), el(b, 1, 7, 6, 6)] }, 422, '/layout/0/row'],
      [{ layout: [{ ...el(a, 1, 1, 6, 6), type: 'text' }, el(b, 1, 7, 6, 6)] }, 422, '/layout/0/type'],
      [{ layout: [{ ...el(a, 1, 1, 6, 6), extra: 1 }, el(b, 1, 7, 6, 6)] }, 422, '/layout/0/extra'],
      [{ layout: 'all' }, 422, '/layout'],
      [{ layout: [el('a\u0000', 1, 1, 6, 6), el(b, 1, 7, 6, 6)] }, 422, '/layout/0/id'],
      [{}, 422, '/layout'],
    ];
    for (const [body, status, pointer] of cases) {
      const res = await api.put(`/dashboards/${id}/layout`, body);
      expect([res.status, body]).toEqual([status, body]);
      expect(res.body.errors.map((e: { source?: { pointer?: string } }) => e.source?.pointer)).toContain(pointer);
    }
    const jsonapi = await t.api.put(`/dashboards/${id}/layout`).set('Authorization', `Api ${t.adminSecret}`).set('Content-Type', 'text/plain').send('{}');
    expect(jsonapi.status).toBe(415);
    // unchanged
    expect((await api.get(`/reports/${a}`)).body.data.attributes).toMatchObject({ row: 1, column: 1, width: 6, height: 6 });
    expect((await api.put('/dashboards/zzzz-zzzz-zzzz/layout', { layout: [] })).status).toBe(404);
    // an empty dashboard takes an empty layout
    expect((await api.put(`/dashboards/${other}/layout`, { layout: [el(foreign, 2, 2, 2, 2)] })).status).toBe(204);
  });
});

describe('dashboards: duplicate and backup', () => {
  it('duplicates attributes, reports with their layout, and group memberships', async () => {
    const id = await api.dashboard({ name: 'Original', description: 'd', color_scheme: 'scheme_3', data_refresh_rate: 30 });
    await api.patch(`/dashboards/${id}`, { data: { attributes: { default_parameters: { aggregation: 'month' } } } });
    const a = await api.report(id, ds, { name: 'A', sql_query: 'SELECT 1', width: 4, height: 3, attribution: '(c)' });
    const b = await api.report(id, ds, { name: 'B', sql_query: 'SELECT 2' });
    await api.put(`/dashboards/${id}/layout`, {
      layout: [
        { type: 'report', id: a, row: 2, column: 3, width: 4, height: 3 },
        { type: 'report', id: b, row: 5, column: 1, width: 12, height: 2 },
      ],
      floating_enabled: true,
    });
    const group = await api.post('/dashboard_groups', {
      data: { attributes: { name: 'G-dup' }, relationships: { dashboards: { data: [{ type: 'dashboards', id }] } } },
    });
    await api.post(`/dashboards/${id}/lock`);

    const res = await api.post(`/dashboards/${id}/duplicate`);
    expect(res.status).toBe(201);
    const copy = res.body.data;
    expect(copy.id).not.toBe(id);
    expect(copy.attributes).toMatchObject({
      name: 'Original (copy)',
      description: 'd',
      color_scheme: 'scheme_3',
      data_refresh_rate: 30,
      default_parameters: { aggregation: 'month' },
      floating_enabled: true,
      is_locked: false,
      published: false,
    });
    expect(copy.relationships.dashboard_groups.data).toEqual([{ type: 'dashboard_groups', id: group.body.data.id }]);
    const copies = copy.relationships.reports.data.map((r: { id: string }) => r.id);
    expect(copies).toHaveLength(2);
    expect(copies).not.toContain(a);
    expect(copy.attributes.layout.map((l: { row: number; column: number; width: number; height: number }) => [l.row, l.column, l.width, l.height])).toEqual([
      [2, 3, 4, 3],
      [5, 1, 12, 2],
    ]);
    const first = await api.get(`/reports/${copies[0]}?include=dashboard`);
    expect(first.body.data.attributes).toMatchObject({ name: 'A', sql_query: 'SELECT 1', attribution: '(c)' });
    expect(first.body.data.relationships.dashboard.data.id).toBe(copy.id);
    // the original is untouched
    expect((await api.get(`/dashboards/${id}`)).body.data.relationships.reports.data.map((r: { id: string }) => r.id)).toEqual([a, b]);
    expect((await api.post('/dashboards/zzzz-zzzz-zzzz/duplicate')).status).toBe(404);
  });

  it('backs up a self-contained document', async () => {
    const id = await api.dashboard({ name: 'Backed up' });
    const snippet = await api.post('/sql_snippets', {
      data: { attributes: { name: 'bk_snip', text: '1 = 1' }, relationships: { datasource: { data: { type: 'datasources', id: ds } } } },
    });
    const filter = await api.filter({ variable_name: 'bk_f', control_type: 'dropdown_manual', value_type: 'TEXT', values: ['a', 'b'], value_names: ['A'] });
    const r = await api.report(id, ds, { sql_query: 'SELECT 1 WHERE [bk_snip] AND {x=bk_f}' });
    const res = await api.post(`/dashboards/${id}/backup`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('application/json');
    const doc = res.body;
    expect(doc.format_version).toBe(1);
    expect(doc.dashboard).toMatchObject({ id, name: 'Backed up', data_refresh_rate: 1440, color_scheme: 'scheme_6' });
    expect(doc.reports).toEqual([
      expect.objectContaining({
        id: r,
        sql_query: 'SELECT 1 WHERE [bk_snip] AND {x=bk_f}',
        datasource_id: ds,
        row: 1,
        column: 1,
        width: 6,
        height: 6,
        chart_configuration: {},
      }),
    ]);
    expect(doc.filters).toEqual([expect.objectContaining({ id: filter, variable_name: 'bk_f', values: ['a', 'b'], value_names: ['A'] })]);
    expect(doc.sql_snippets).toEqual([expect.objectContaining({ id: snippet.body.data.id, name: 'bk_snip', text: '1 = 1' })]);
    expect(doc.datasources).toEqual([{ id: ds, name: 'PG', database_type: 'postgres' }]);
    expect(JSON.stringify(doc)).not.toContain('password');
  });
});

describe('dashboards: tenant isolation', () => {
  it("never exposes or changes another organization's dashboards", async () => {
    const id = await api.dashboard({ name: 'Mine' });
    const report = await api.report(id, ds);
    const other = await t.services.organizations.create('Other org');
    const them = api.as(other.adminKey.secret);
    expect((await them.get('/dashboards')).body.data.map((d: { id: string }) => d.id)).not.toContain(id);
    const statuses = [
      await them.get(`/dashboards/${id}`),
      await them.patch(`/dashboards/${id}`, { data: { attributes: { name: 'x' } } }),
      await them.delete(`/dashboards/${id}`),
      await them.post(`/dashboards/${id}/lock`),
      await them.post(`/dashboards/${id}/unlock`),
      await them.post(`/dashboards/${id}/duplicate`),
      await them.post(`/dashboards/${id}/backup`),
      await them.put(`/dashboards/${id}/layout`, { layout: [{ type: 'report', id: report, row: 1, column: 1, width: 1, height: 1 }] }),
    ].map((r) => r.status);
    expect(statuses).toEqual(statuses.map(() => 404));
    expect((await api.get(`/dashboards/${id}`)).body.data.attributes).toMatchObject({ name: 'Mine', is_locked: false });
  });
});
