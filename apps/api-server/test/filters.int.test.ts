import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createApiTestContext, type ApiTestContext } from '../../../test/support/context.js';
import { DashboardApi, ref, refs } from './dashboards-helpers.js';

let t: ApiTestContext;
let api: DashboardApi;
let ds: string;
let ds2: string;

beforeAll(async () => {
  t = await createApiTestContext();
  api = new DashboardApi(t, t.adminSecret);
  ds = await api.datasource('Main');
  ds2 = await api.datasource('Second');
});
afterAll(async () => {
  await t.close();
});

const pointers = (res: { body: { errors?: Array<{ source?: { pointer?: string } }> } }) => (res.body.errors ?? []).map((e) => e.source?.pointer);

describe('filters: create and read', () => {
  it('creates with defaults', async () => {
    const res = await api.post('/filters', api.filterBody({ variable_name: 'plain', control_type: 'input', value_type: 'TEXT' }));
    expect(res.status).toBe(201);
    expect(res.body.data.type).toBe('filters');
    expect(res.body.data.attributes).toEqual({
      display_name: null,
      variable_name: 'plain',
      control_type: 'input',
      value_type: 'TEXT',
      sql_query: null,
      data_refresh_rate: null,
      default_values: null,
      required: false,
      dropdown_validate: false,
      relative_range_enabled: true,
      before_range_enabled: true,
      after_range_enabled: true,
      from_to_range_enabled: true,
      allowed_aggregations: null,
      last_query_success: null,
      last_query_error_message: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(res.body.data.relationships).toEqual({ datasource: { data: null }, sql_snippets: { data: [] }, parent_filter: { data: null } });
  });

  it('accepts every control type with a fitting value type', async () => {
    const cases: Array<[string, string, Record<string, unknown>?, Record<string, unknown>?]> = [
      ['input', 'NUMBER', { default_values: [3.5] }],
      ['input_multi', 'TEXT', { default_values: ['a', 'b'] }],
      ['checkbox', 'BOOLEAN', { default_values: [true] }],
      ['checkbox_two_way', 'BOOLEAN', { default_values: [false] }],
      ['date_time', 'DATE_TIME', { default_values: ['2024-01-02T03:04:05'] }],
      ['date_time_range', 'DATE_TIME', { relative_range_enabled: false, before_range_enabled: false, after_range_enabled: false, from_to_range_enabled: true }],
      ['date', 'DATE', { default_values: ['2024-02-29'] }],
      ['date_range', 'DATE'],
      ['time', 'TIME', { default_values: ['12:30'] }],
      ['time_range', 'TIME'],
      ['date_time_aggregation', 'TEXT', { allowed_aggregations: ['day', 'week', 'all_time'], default_values: ['all_time'] }],
      ['dropdown', 'NUMBER', { sql_query: 'SELECT 1', data_refresh_rate: 60, dropdown_validate: true }, { datasource: ref('datasources', ds) }],
      ['dropdown_multi', 'DATE', { sql_query: 'SELECT current_date' }, { datasource: ref('datasources', ds) }],
      ['dropdown_dynamic', 'TEXT', { sql_query: 'SELECT name FROM t WHERE {country=ctl_input}' }, { datasource: ref('datasources', ds) }],
      ['dropdown_multi_dynamic', 'TIME', { sql_query: 'SELECT now()::time', data_refresh_rate: 5 }, { datasource: ref('datasources', ds) }],
      ['dropdown_manual', 'TEXT', { values: ['a', 'b', 'c'], value_names: ['A', 'B'], default_values: ['a'], dropdown_validate: true }],
      ['dropdown_multi_manual', 'NUMBER', { values: ['1', '2.5'], default_values: [1, '2.5'] }],
    ];
    for (const [control_type, value_type, extra, relationships] of cases) {
      const res = await api.post(
        '/filters',
        api.filterBody({ variable_name: `ctl_${control_type}`, display_name: control_type, control_type, value_type, ...extra }, relationships),
      );
      expect([control_type, res.status, res.body.errors]).toEqual([control_type, 201, undefined]);
      const { values: _v, value_names: _n, ...visible } = extra ?? {};
      expect(res.body.data.attributes).toMatchObject({ control_type, value_type, ...visible });
      // manual options are write-only
      expect(res.body.data.attributes).not.toHaveProperty('values');
      expect(res.body.data.attributes).not.toHaveProperty('value_names');
      const got = await api.get(`/filters/${res.body.data.id}`);
      expect(got.body.data).toEqual(res.body.data);
    }
    const list = await api.get('/filters');
    expect(list.status).toBe(200);
    for (const f of list.body.data) {
      expect(f.attributes).not.toHaveProperty('values');
      expect(f.attributes).not.toHaveProperty('value_names');
    }
    expect(JSON.stringify(list.body)).not.toContain('"B"');
  });

  it('includes datasource, snippets (derived from the SQL) and the parent filter', async () => {
    const snippet = await api.post('/sql_snippets', {
      data: { attributes: { name: 'f_snip', text: "country <> ''" }, relationships: { datasource: ref('datasources', ds) } },
    });
    const parent = await api.filter(
      { variable_name: 'inc_parent', control_type: 'dropdown', value_type: 'TEXT', sql_query: 'SELECT 1' },
      { datasource: ref('datasources', ds) },
    );
    const res = await api.post(
      '/filters',
      api.filterBody(
        { variable_name: 'inc_child', control_type: 'dropdown_multi', value_type: 'TEXT', sql_query: 'SELECT c FROM x WHERE [f_snip]' },
        { datasource: ref('datasources', ds), parent_filter: ref('filters', parent) },
      ),
    );
    expect(res.status).toBe(201);
    expect(res.body.data.relationships).toEqual({
      datasource: { data: { type: 'datasources', id: ds } },
      sql_snippets: { data: [{ type: 'sql_snippets', id: snippet.body.data.id }] },
      parent_filter: { data: { type: 'filters', id: parent } },
    });
    const got = await api.get(`/filters/${res.body.data.id}?include=datasource,sql_snippets,parent_filter`);
    expect(got.body.included.map((i: { type: string; id: string }) => `${i.type}:${i.id}`).sort()).toEqual(
      [`datasources:${ds}`, `filters:${parent}`, `sql_snippets:${snippet.body.data.id}`].sort(),
    );
    const viewer = await api.key([{ name: 'View Dashboards' }]);
    expect((await api.as(viewer).get(`/filters/${res.body.data.id}?include=datasource`)).status).toBe(403);
    expect((await api.as(viewer).get(`/filters/${res.body.data.id}?include=parent_filter`)).status).toBe(200);
    expect((await api.get(`/filters/${res.body.data.id}?include=dashboards`)).status).toBe(400);
    // explicit snippet linkage is accepted, unknown ids are not
    const explicit = await api.patch(`/filters/${res.body.data.id}`, { data: { relationships: { sql_snippets: refs('sql_snippets', []) } } });
    expect(explicit.body.data.relationships.sql_snippets.data).toEqual([]);
    expect(
      (await api.patch(`/filters/${res.body.data.id}`, { data: { relationships: { sql_snippets: refs('sql_snippets', ['zzzz-zzzz-zzzz']) } } })).status,
    ).toBe(422);
  });
});

describe('filters: rules', () => {
  it('rejects mismatches and invalid values with 422 naming the attribute', async () => {
    const sql = { datasource: ref('datasources', ds) };
    const cases: Array<[Record<string, unknown>, Record<string, unknown>, string]> = [
      [{ control_type: 'date_time_range', value_type: 'DATE' }, {}, '/data/attributes/value_type'],
      [{ control_type: 'checkbox', value_type: 'TEXT' }, {}, '/data/attributes/value_type'],
      [{ control_type: 'checkbox_two_way', value_type: 'NUMBER' }, {}, '/data/attributes/value_type'],
      [{ control_type: 'date_time_aggregation', value_type: 'DATE_TIME' }, {}, '/data/attributes/value_type'],
      [{ control_type: 'date', value_type: 'DATE_TIME' }, {}, '/data/attributes/value_type'],
      [{ control_type: 'time_range', value_type: 'TEXT' }, {}, '/data/attributes/value_type'],
      [{ control_type: 'input', value_type: 'BOOLEAN' }, {}, '/data/attributes/value_type'],
      [{ control_type: 'slider', value_type: 'NUMBER' }, {}, '/data/attributes/control_type'],
      [{ control_type: 'input', value_type: 'MONEY' }, {}, '/data/attributes/value_type'],
      [{ control_type: 'dropdown', value_type: 'TEXT' }, sql, '/data/attributes/sql_query'],
      [{ control_type: 'dropdown_dynamic', value_type: 'TEXT', sql_query: 'SELECT 1' }, {}, '/data/relationships/datasource'],
      [{ control_type: 'input', value_type: 'TEXT', sql_query: 'SELECT 1' }, {}, '/data/attributes/sql_query'],
      [{ control_type: 'input', value_type: 'TEXT' }, sql, '/data/relationships/datasource'],
      [{ control_type: 'input', value_type: 'TEXT', data_refresh_rate: 5 }, {}, '/data/attributes/data_refresh_rate'],
      [
        { control_type: 'dropdown_dynamic', value_type: 'TEXT', sql_query: 'SELECT 1' },
        { ...sql, parent_filter: ref('filters', 'zzzz-zzzz-zzzz') },
        '/data/relationships/parent_filter',
      ],
      [
        { control_type: 'dropdown', value_type: 'TEXT', sql_query: 'SELECT 1' },
        { ...sql, parent_filter: ref('filters', 'zzzz-zzzz-zzzz') },
        '/data/relationships/parent_filter',
      ],
      [{ control_type: 'input', value_type: 'TEXT', values: ['a'] }, {}, '/data/attributes/values'],
      [{ control_type: 'dropdown_manual', value_type: 'TEXT', values: ['a'], value_names: ['A', 'B'] }, {}, '/data/attributes/value_names'],
      [{ control_type: 'dropdown_manual', value_type: 'TEXT', values: ['a\u0000'] }, {}, '/data/attributes/values/0'],
      [{ control_type: 'dropdown_manual', value_type: 'TEXT', values: ['a'], value_names: ['\u0000'] }, {}, '/data/attributes/value_names/0'],
      [{ control_type: 'dropdown_manual', value_type: 'NUMBER', values: ['one'] }, {}, '/data/attributes/values'],
      [{ control_type: 'dropdown_manual', value_type: 'TEXT', values: ['a', 'a'] }, {}, '/data/attributes/values'],
      [{ control_type: 'dropdown_manual', value_type: 'TEXT', values: [1] }, {}, '/data/attributes/values/0'],
      [
        { control_type: 'dropdown_manual', value_type: 'TEXT', values: ['a'], default_values: ['b'], dropdown_validate: true },
        {},
        '/data/attributes/default_values',
      ],
      [{ control_type: 'input', value_type: 'NUMBER', default_values: ['abc'] }, {}, '/data/attributes/default_values'],
      [{ control_type: 'input', value_type: 'TEXT', default_values: ['a', 'b'] }, {}, '/data/attributes/default_values'],
      [{ control_type: 'checkbox', value_type: 'BOOLEAN', default_values: [true, false] }, {}, '/data/attributes/default_values'],
      [{ control_type: 'date_time_range', value_type: 'DATE_TIME', default_values: ['not a range'] }, {}, '/data/attributes/default_values'],
      [{ control_type: 'date', value_type: 'DATE', default_values: ['2023-02-30'] }, {}, '/data/attributes/default_values'],
      [{ control_type: 'time', value_type: 'TIME', default_values: ['25:00'] }, {}, '/data/attributes/default_values'],
      [{ control_type: 'checkbox', value_type: 'BOOLEAN', default_values: ['maybe'] }, {}, '/data/attributes/default_values'],
      [{ control_type: 'input', value_type: 'TEXT', default_values: [{ a: 1 }] }, {}, '/data/attributes/default_values/0'],
      [{ control_type: 'input', value_type: 'TEXT', default_values: 'a' }, {}, '/data/attributes/default_values'],
      [{ control_type: 'date_time_aggregation', value_type: 'TEXT', default_values: ['all_time'] }, {}, '/data/attributes/default_values'],
      [
        { control_type: 'date_time_aggregation', value_type: 'TEXT', allowed_aggregations: ['day'], default_values: ['week'] },
        {},
        '/data/attributes/default_values',
      ],
      [{ control_type: 'date_time_aggregation', value_type: 'TEXT', allowed_aggregations: ['fortnight'] }, {}, '/data/attributes/allowed_aggregations/0'],
      [{ control_type: 'date_time_aggregation', value_type: 'TEXT', allowed_aggregations: [] }, {}, '/data/attributes/allowed_aggregations'],
      [{ control_type: 'input', value_type: 'TEXT', allowed_aggregations: ['day'] }, {}, '/data/attributes/allowed_aggregations'],
      [{ control_type: 'input', value_type: 'TEXT', dropdown_validate: true }, {}, '/data/attributes/dropdown_validate'],
      [{ control_type: 'input', value_type: 'TEXT', required: 'yes' }, {}, '/data/attributes/required'],
      [{ control_type: 'input', value_type: 'TEXT', values_extra: 1 }, {}, '/data/attributes/values_extra'],
    ];
    for (const [attributes, relationships, pointer] of cases) {
      const res = await api.post('/filters', api.filterBody({ variable_name: 'rule_check', ...attributes }, relationships));
      expect([res.status, attributes, pointers(res)]).toEqual([422, attributes, expect.arrayContaining([pointer])]);
    }
    expect((await api.get('/filters')).body.data.map((f: { attributes: { variable_name: string } }) => f.attributes.variable_name)).not.toContain('rule_check');
  });

  it('checks variable names: charset, reserved names, uniqueness (409)', async () => {
    for (const variable_name of ['timerange', 'aggregation', 'tz', 'week', 'week_sunday', 'second', 'quarter', 'year', 'TimeRange', 'TZ']) {
      const res = await api.post('/filters', api.filterBody({ variable_name, control_type: 'input', value_type: 'TEXT' }));
      expect([variable_name, res.status]).toEqual([variable_name, 422]);
      expect(pointers(res)).toContain('/data/attributes/variable_name');
    }
    for (const variable_name of ['has space', 'dot.ted', 'brace}', '', 'x'.repeat(101), 'ü']) {
      const res = await api.post('/filters', api.filterBody({ variable_name, control_type: 'input', value_type: 'TEXT' }));
      expect([variable_name, res.status]).toEqual([variable_name, 422]);
    }
    expect((await api.post('/filters', api.filterBody({ control_type: 'input', value_type: 'TEXT' }))).status).toBe(422);
    const ok = await api.filter({ variable_name: 'Dup-name_1', control_type: 'input', value_type: 'TEXT' });
    const dup = await api.post('/filters', api.filterBody({ variable_name: 'Dup-name_1', control_type: 'checkbox', value_type: 'BOOLEAN' }));
    expect(dup.status).toBe(409);
    expect(pointers(dup)).toContain('/data/attributes/variable_name');
    // variable names are case-sensitive, like the compiler
    expect((await api.post('/filters', api.filterBody({ variable_name: 'dup-name_1', control_type: 'input', value_type: 'TEXT' }))).status).toBe(201);
    const other = await api.filter({ variable_name: 'rename_me', control_type: 'input', value_type: 'TEXT' });
    expect((await api.patch(`/filters/${other}`, { data: { attributes: { variable_name: 'Dup-name_1' } } })).status).toBe(409);
    expect((await api.patch(`/filters/${ok}`, { data: { attributes: { variable_name: 'Dup-name_1' } } })).status).toBe(200);
    expect((await api.patch(`/filters/${other}`, { data: { attributes: { variable_name: 'aggregation' } } })).status).toBe(422);
  });

  it('updates by merging into the stored filter and checks the result', async () => {
    const id = await api.filter({ variable_name: 'merge_me', control_type: 'dropdown_manual', value_type: 'TEXT', values: ['x', 'y'], default_values: ['x'] });
    // switching to checkbox keeps TEXT → mismatch
    expect((await api.patch(`/filters/${id}`, { data: { attributes: { control_type: 'checkbox' } } })).status).toBe(422);
    // values remain from before → still a mismatch unless cleared
    const stillValues = await api.patch(`/filters/${id}`, { data: { attributes: { control_type: 'input', value_type: 'TEXT', default_values: null } } });
    expect(stillValues.status).toBe(422);
    expect(pointers(stillValues)).toContain('/data/attributes/values');
    const ok = await api.patch(`/filters/${id}`, {
      data: { attributes: { control_type: 'input', value_type: 'NUMBER', default_values: [5], values: null, value_names: null, display_name: 'Now a number' } },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.data.attributes).toMatchObject({
      control_type: 'input',
      value_type: 'NUMBER',
      default_values: [5],
      display_name: 'Now a number',
      variable_name: 'merge_me',
    });
    const sqlRes = await api.patch(`/filters/${id}`, {
      data: {
        attributes: { control_type: 'dropdown_dynamic', value_type: 'TEXT', default_values: null, sql_query: 'SELECT 1' },
        relationships: { datasource: ref('datasources', ds2) },
      },
    });
    expect(sqlRes.status).toBe(200);
    expect(sqlRes.body.data.relationships.datasource.data.id).toBe(ds2);
    const back = await api.patch(`/filters/${id}`, {
      data: { attributes: { control_type: 'input', sql_query: null }, relationships: { datasource: { data: null } } },
    });
    expect(back.status).toBe(200);
    expect(back.body.data.relationships.datasource.data).toBeNull();
  });

  it('rejects parent filter cycles and self-parents', async () => {
    const a = await api.filter(
      { variable_name: 'cyc_a', control_type: 'dropdown', value_type: 'TEXT', sql_query: 'SELECT 1' },
      { datasource: ref('datasources', ds) },
    );
    const b = await api.filter(
      { variable_name: 'cyc_b', control_type: 'dropdown', value_type: 'TEXT', sql_query: 'SELECT 1' },
      { datasource: ref('datasources', ds), parent_filter: ref('filters', a) },
    );
    expect((await api.patch(`/filters/${a}`, { data: { relationships: { parent_filter: ref('filters', b) } } })).status).toBe(422);
    expect((await api.patch(`/filters/${a}`, { data: { relationships: { parent_filter: ref('filters', a) } } })).status).toBe(422);
    // deleting the parent leaves the child without one
    expect((await api.delete(`/filters/${a}`)).status).toBe(204);
    expect((await api.get(`/filters/${b}`)).body.data.relationships.parent_filter.data).toBeNull();
  });
});

describe('filters: permissions, scopes and isolation', () => {
  it('requires Manage Dashboards to write and datasource access for SQL drop-downs', async () => {
    const viewer = await api.key([{ name: 'View Dashboards' }]);
    const id = await api.filter({ variable_name: 'perm_f', control_type: 'input', value_type: 'TEXT' });
    expect((await api.as(viewer).get(`/filters/${id}`)).status).toBe(200);
    expect((await api.as(viewer).get('/filters')).status).toBe(200);
    expect((await api.as(viewer).post('/filters', api.filterBody({ variable_name: 'v', control_type: 'input', value_type: 'TEXT' }))).status).toBe(403);
    expect((await api.as(viewer).patch(`/filters/${id}`, { data: { attributes: { display_name: 'x' } } })).status).toBe(403);
    expect((await api.as(viewer).delete(`/filters/${id}`)).status).toBe(403);
    const nothing = await api.key([{ name: 'View Users' }]);
    expect((await api.as(nothing).get('/filters')).status).toBe(403);

    const sqlOnDs = await api.filter(
      { variable_name: 'scoped_sql', control_type: 'dropdown', value_type: 'TEXT', sql_query: 'SELECT 1' },
      { datasource: ref('datasources', ds) },
    );
    const limited = await api.key([{ name: 'Manage Dashboards', datasource_ids: [ds2] }]);
    expect((await api.as(limited).get(`/filters/${sqlOnDs}`)).status).toBe(404);
    expect((await api.as(limited).get('/filters')).body.data.map((f: { id: string }) => f.id)).not.toContain(sqlOnDs);
    expect((await api.as(limited).get(`/filters/${id}`)).status).toBe(200);
    expect((await api.as(limited).patch(`/filters/${sqlOnDs}`, { data: { attributes: { display_name: 'x' } } })).status).toBe(404);
    const denied = await api
      .as(limited)
      .post(
        '/filters',
        api.filterBody(
          { variable_name: 'lim_sql', control_type: 'dropdown', value_type: 'TEXT', sql_query: 'SELECT 1' },
          { datasource: ref('datasources', ds) },
        ),
      );
    expect(denied.status).toBe(422);
    expect(
      (
        await api
          .as(limited)
          .post(
            '/filters',
            api.filterBody(
              { variable_name: 'lim_sql', control_type: 'dropdown', value_type: 'TEXT', sql_query: 'SELECT 1' },
              { datasource: ref('datasources', ds2) },
            ),
          )
      ).status,
    ).toBe(201);
    // a datasource used by a filter cannot be deleted
    expect((await api.delete(`/datasources/${ds}`)).status).toBe(422);
  });

  it('isolates organizations (404 by id, 422 in relationships)', async () => {
    const id = await api.filter(
      { variable_name: 'iso_f', control_type: 'dropdown', value_type: 'TEXT', sql_query: 'SELECT 1' },
      { datasource: ref('datasources', ds) },
    );
    const other = await t.services.organizations.create('Filter foreigners');
    const them = api.as(other.adminKey.secret);
    for (const res of [
      await them.get(`/filters/${id}`),
      await them.patch(`/filters/${id}`, { data: { attributes: { display_name: 'x' } } }),
      await them.delete(`/filters/${id}`),
    ]) {
      expect(res.status).toBe(404);
    }
    expect((await them.get('/filters')).body.data).toEqual([]);
    const theirDs = await them.datasource();
    expect(
      (
        await them.post(
          '/filters',
          api.filterBody(
            { variable_name: 'iso_f', control_type: 'dropdown', value_type: 'TEXT', sql_query: 'SELECT 1' },
            { datasource: ref('datasources', ds) },
          ),
        )
      ).status,
    ).toBe(422);
    expect(
      (
        await them.post(
          '/filters',
          api.filterBody(
            { variable_name: 'iso_g', control_type: 'dropdown', value_type: 'TEXT', sql_query: 'SELECT 1' },
            { datasource: ref('datasources', theirDs), parent_filter: ref('filters', id) },
          ),
        )
      ).status,
    ).toBe(422);
    // the same variable name is free in another organization
    expect((await them.post('/filters', api.filterBody({ variable_name: 'iso_f', control_type: 'input', value_type: 'TEXT' }))).status).toBe(201);
  });

  it('exposes definitions to the compiler through listAll and listByDashboard', async () => {
    const id = await api.filter({
      variable_name: 'svc_f',
      control_type: 'dropdown_manual',
      value_type: 'NUMBER',
      values: ['1', '2'],
      dropdown_validate: true,
      default_values: [1],
    });
    const defs = await t.services.filters.listAll(t.organization.id);
    expect(defs.find((d) => d.variableName === 'svc_f')).toEqual(
      expect.objectContaining({ controlType: 'dropdown_manual', valueType: 'NUMBER', defaultValues: [1], validValues: ['1', '2'] }),
    );
    const dash = await api.dashboard();
    const dyn = await api.filter(
      { variable_name: 'svc_dyn', control_type: 'dropdown_dynamic', value_type: 'TEXT', sql_query: 'SELECT x FROM t WHERE {y=svc_f}' },
      { datasource: ref('datasources', ds2) },
    );
    await api.report(dash, ds2, { sql_query: 'SELECT 1 WHERE {a=svc_dyn}' });
    const used = await t.services.filters.listByDashboard(t.organization.id, dash);
    expect(used.map((f) => f.id).sort()).toEqual([dyn, id].sort());
    expect(used.find((f) => f.id === id)?.values).toEqual(['1', '2']);
    await api.post('/sql_snippets', { data: { attributes: { name: 'content_snip', text: '1' }, relationships: { datasource: ref('datasources', ds2) } } });
    const content = await t.services.dashboards.getContent(t.organization.id, dash);
    expect(content.dashboard.id).toBe(dash);
    expect(content.reports.map((r) => r.sqlQuery)).toEqual(['SELECT 1 WHERE {a=svc_dyn}']);
    expect(content.filters.map((f) => f.id).sort()).toEqual([dyn, id].sort());
    expect(content.filterDefinitions.map((d) => d.variableName).sort()).toEqual(['svc_dyn', 'svc_f']);
    expect(content.snippets.map((sn) => sn.name)).toContain('content_snip');
    await expect(t.services.dashboards.getContent(t.organization.id, 'zzzz-zzzz-zzzz')).rejects.toMatchObject({ status: 404 });
  });

  it('feeds its definitions to ad hoc executions (a required filter without a value is a 422)', async () => {
    await api.filter({ variable_name: 'exec_required', control_type: 'input', value_type: 'NUMBER', required: true });
    const run = (sql_query: string, parameters: unknown = {}) => api.post(`/datasources/${ds2}/executions`, { sql_query, parameters });
    const missing = await run('SELECT 1 WHERE {x=exec_required}');
    expect(missing.status).toBe(422);
    expect(JSON.stringify(missing.body.errors)).toContain('exec_required');
    const notNumber = await run('SELECT 1 WHERE {x=exec_required}', { filters: [{ variable_name: 'exec_required', selected_values: ['abc'] }] });
    expect(notNumber.status).toBe(422);
  });
});
