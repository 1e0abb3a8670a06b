import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createPlatformTestContext, waitForExecution, type PlatformTestContext } from '../../../test/support/platform.js';
import { expectValidJsonApi } from '../../../test/support/jsonapi-schema.js';

let t: PlatformTestContext;
let admin: pg.Client;
let datasourceId: string;
let dashboardId: string;
let byStatus: string;
let byDay: string;
let statusFilter: string;

const auth = () => `Api ${t.adminSecret}`;
const post = (path: string, body: unknown) => t.api.post(path).set('Authorization', auth()).set('Content-Type', 'application/json').send(JSON.stringify(body));
const executionCount = async () => Number((await admin.query('SELECT count(*) FROM executions')).rows[0].count);
const T0 = 1_700_000_000; // 2023-11-14T22:13:20Z

interface StatusDoc {
  reports: Record<string, { data_key?: string; error?: string; updated_at: string }>;
  filters: Record<string, { data_key?: string; error?: string; updated_at: string }>;
  data_keys: Record<
    string,
    { result_status: string; data_timestamp?: number; data_current?: boolean; data_access_token?: string; execution_id: string | null; running: boolean }
  >;
  status_check_delay: number;
  updated_at: string;
}

async function poll(refresh: boolean, parameters?: unknown): Promise<StatusDoc> {
  const res = await post(`/dashboards/${dashboardId}/status`, { refresh_data: refresh, ...(parameters ? { parameters } : {}) });
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toContain('application/json');
  return res.body as StatusDoc;
}

async function pollUntilSettled(parameters?: unknown): Promise<StatusDoc> {
  for (let i = 0; i < 200; i++) {
    const s = await poll(true, parameters);
    if (Object.values(s.data_keys).every((k) => !k.running) && Object.values(s.data_keys).every((k) => k.result_status === 'success')) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('dashboard did not settle');
}

async function fetchResult(
  dataKey: string,
  token: string,
  accept = 'application/json',
): Promise<{ text: string; body: { fields: Array<{ name: string }>; rows: unknown[][] } }> {
  const res = await t.data.get(`/results/${dataKey}`).set('Authorization', `Data ${token}`).set('Accept', accept);
  expect(res.status).toBe(200);
  return { text: res.text, body: res.headers['content-type']?.includes('json') ? JSON.parse(res.text) : undefined };
}

beforeAll(async () => {
  t = await createPlatformTestContext();
  admin = new pg.Client({ connectionString: t.database.url });
  await admin.connect();
  await admin.query(`CREATE TABLE shop_orders (id int PRIMARY KEY, status text, amount numeric(10,2), created_at timestamptz)`);
  await admin.query(
    `INSERT INTO shop_orders SELECT g, (ARRAY['paid','open','refunded'])[1 + g % 3], g * 1.25, to_timestamp(${T0} + g * 3600) FROM generate_series(1, 500) g`,
  );
  const ds = await t.api
    .post('/datasources')
    .set('Authorization', auth())
    .send({
      data: {
        attributes: {
          name: 'Shop',
          database_type: 'postgres',
          connection_mode: 'direct',
          host: '127.0.0.1',
          port: 5432,
          username: 'postgres',
          database: t.database.name,
          require_ssl: false,
        },
      },
    });
  datasourceId = ds.body.data.id;
  const dash = await t.api
    .post('/dashboards')
    .set('Authorization', auth())
    .send({ data: { attributes: { name: 'Sales', data_refresh_rate: 60 } } });
  expect(dash.status).toBe(201);
  dashboardId = dash.body.data.id;
  const filter = await t.api
    .post('/filters')
    .set('Authorization', auth())
    .send({
      data: {
        attributes: {
          variable_name: 'status_filter',
          display_name: 'Status',
          control_type: 'dropdown_multi_dynamic',
          value_type: 'TEXT',
          sql_query: 'SELECT DISTINCT status FROM shop_orders ORDER BY 1',
        },
        relationships: { datasource: { data: { type: 'datasources', id: datasourceId } } },
      },
    });
  expect(filter.status).toBe(201);
  statusFilter = filter.body.data.id;
  const report = async (name: string, sql: string) => {
    const res = await t.api
      .post('/reports')
      .set('Authorization', auth())
      .send({
        data: {
          attributes: { name, sql_query: sql, width: 6, height: 4 },
          relationships: { dashboard: { data: { type: 'dashboards', id: dashboardId } }, datasource: { data: { type: 'datasources', id: datasourceId } } },
        },
      });
    expect(res.status).toBe(201);
    return res.body.data.id as string;
  };
  byStatus = await report(
    'By status',
    'SELECT status, count(*) AS orders, sum(amount) AS revenue FROM shop_orders WHERE {created_at=timerange} AND {status=status_filter} GROUP BY 1 ORDER BY 1',
  );
  byDay = await report('By day', 'SELECT {created_at:aggregation} AS bucket, count(*) AS orders FROM shop_orders GROUP BY 1 ORDER BY 1');
});

afterAll(async () => {
  await admin?.end();
  await t?.close();
});

describe('Poll Dashboard Status', () => {
  it('reports no data and starts nothing without refresh_data', async () => {
    const before = await executionCount();
    const s = await poll(false);
    expect(Object.keys(s.reports).sort()).toEqual([byDay, byStatus].sort());
    expect(Object.keys(s.filters)).toEqual([statusFilter]);
    for (const key of Object.values(s.data_keys)) {
      expect(key).toEqual({ result_status: 'no-data', execution_id: null, execution_status: null, running: false });
    }
    for (const r of Object.values(s.reports)) expect(r.data_key!.split('/').length).toBeGreaterThan(2);
    expect(s.status_check_delay).toBe(60);
    expect(await executionCount()).toBe(before);
  });

  it('runs stale data when asked, then serves it current with tokens; a current poll runs no query', async () => {
    const first = await poll(true);
    expect(Object.values(first.data_keys).some((k) => k.running)).toBe(true);
    expect(first.status_check_delay).toBeLessThan(60);
    const settled = await pollUntilSettled();
    const key = settled.reports[byStatus]!.data_key!;
    const entry = settled.data_keys[key]!;
    expect(entry).toMatchObject({ result_status: 'success', data_current: true, running: false, execution_status: 'success' });
    expect(typeof entry.data_timestamp).toBe('number');
    expect(settled.status_check_delay).toBe(60);
    const { body } = await fetchResult(key, entry.data_access_token!);
    const direct = await admin.query({
      text: 'SELECT status, count(*)::int AS orders, sum(amount)::text AS revenue FROM shop_orders GROUP BY 1 ORDER BY 1',
      rowMode: 'array',
    });
    expect(body.rows.map((r) => [r[0], r[1], Number(r[2])])).toEqual(direct.rows.map((r) => [r[0], r[1], Number(r[2])]));

    const count = await executionCount();
    const again = await poll(true);
    expect(await executionCount()).toBe(count);
    expect(again.data_keys[key]!.data_current).toBe(true);
  });

  it('gives new data keys for new parameters and filters exactly as the SQL does', async () => {
    const base = await poll(false);
    const parameters = { timerange: `${T0 + 3600}~${T0 + 100 * 3600}`, filters: [{ variable_name: 'status_filter', selected_values: ['paid', 'open'] }] };
    const changed = await pollUntilSettled(parameters);
    const key = changed.reports[byStatus]!.data_key!;
    expect(key).not.toBe(base.reports[byStatus]!.data_key);
    expect(changed.reports[byDay]!.data_key).toBe(base.reports[byDay]!.data_key);
    const { body } = await fetchResult(key, changed.data_keys[key]!.data_access_token!);
    const direct = await admin.query({
      text: `SELECT status, count(*)::int FROM shop_orders WHERE created_at >= to_timestamp($1) AND created_at < to_timestamp($2) AND status IN ('paid','open') GROUP BY 1 ORDER BY 1`,
      values: [T0 + 3600, T0 + 100 * 3600 + 1],
      rowMode: 'array',
    });
    expect(body.rows.map((r) => [r[0], r[1]])).toEqual(direct.rows);
  });

  it('treats data older than the refresh rate as stale', async () => {
    const s = await poll(false);
    const key = s.reports[byDay]!.data_key!;
    await admin.query(`UPDATE results SET data_timestamp = now() - interval '2 hours' WHERE data_key = $1`, [key]);
    const stale = await poll(false);
    expect(stale.data_keys[key]!.data_current).toBe(false);
    const count = await executionCount();
    await poll(true);
    expect(await executionCount()).toBe(count + 1);
    const fresh = await pollUntilSettled();
    expect(fresh.data_keys[key]!.data_current).toBe(true);
  });

  it('reports SQL that does not compile as a per-report error', async () => {
    const broken = await t.api
      .post('/reports')
      .set('Authorization', auth())
      .send({
        data: {
          attributes: { name: 'Broken', sql_query: 'SELECT {x:nonsense_transform}' },
          relationships: { dashboard: { data: { type: 'dashboards', id: dashboardId } }, datasource: { data: { type: 'datasources', id: datasourceId } } },
        },
      });
    expect(broken.status).toBe(201);
    const s = await poll(false);
    expect(s.reports[broken.body.data.id]).toEqual({ error: expect.stringMatching(/nonsense_transform/), updated_at: expect.any(String) });
    await t.api.delete(`/reports/${broken.body.data.id}`).set('Authorization', auth());
  });

  it('rejects malformed polls with clear errors', async () => {
    for (const [body, status] of [
      [{ refresh_data: 'yes' }, 422],
      [{ parameters: { aggregation: 'eon' } }, 422],
      [{ parameters: { timerange: 'soon' } }, 422],
      [{ extra: 1 }, 422],
    ] as Array<[unknown, number]>) {
      const res = await post(`/dashboards/${dashboardId}/status`, body);
      expect(res.status).toBe(status);
      expectValidJsonApi(res.body);
    }
    expect((await post('/dashboards/zzzz-zzzz-zzzz/status', {})).status).toBe(404);
    const other = await t.services.organizations.create('Other');
    const foreign = await t.api.post(`/dashboards/${dashboardId}/status`).set('Authorization', `Api ${other.adminKey.secret}`).send({});
    expect(foreign.status).toBe(404);
  });
});

describe('Refresh, Get Report Data, drop-down options', () => {
  it('Refresh Dashboard starts fresh executions regardless of age', async () => {
    await pollUntilSettled();
    const count = await executionCount();
    const res = await post(`/dashboards/${dashboardId}/refresh`, {});
    expect(res.status).toBe(204);
    expect(await executionCount()).toBe(count + 3);
    await pollUntilSettled();
  });

  it('Refresh Report returns its execution', async () => {
    const res = await post(`/reports/${byStatus}/refresh`, {});
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ execution_id: expect.any(String) });
    expect(await waitForExecution(t, t.adminSecret, res.body.execution_id)).toMatchObject({ execution_status: 'success' });
  });

  it('Get Report Data never starts a query: 204 without cache, JSON or CSV with it', async () => {
    const count = await executionCount();
    const none = await post(`/reports/${byStatus}/data`, { parameters: { filters: [{ variable_name: 'status_filter', selected_values: ['never-seen'] }] } });
    expect(none.status).toBe(204);
    expect(await executionCount()).toBe(count);
    const json = await post(`/reports/${byStatus}/data`, {});
    expect(json.status).toBe(200);
    expect(json.body).toEqual({ data_key: expect.any(String), data_access_token: expect.any(String) });
    const csv = await post(`/reports/${byStatus}/data`, { data_format: 'csv', csv_column_separator: ';', csv_decimal_separator: ',' });
    const res = await t.data.get(`/results/${csv.body.data_key}`).set('Authorization', `Data ${csv.body.data_access_token}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/csv');
    const lines = res.text.trim().split(/\r?\n/);
    expect(lines[0]).toBe('status;orders;revenue');
    expect(lines[1]).toMatch(/^open;167;\d+,\d+$/);
  });

  it("drop-down options come from the filter's stored run; manual ones from their values", async () => {
    const empty = await post(`/filters/${statusFilter}/options`, { dashboard_id: dashboardId });
    expect(empty.status).toBe(200);
    const refresh = await post(`/filters/${statusFilter}/refresh_options`, { dashboard_id: dashboardId });
    expect(refresh.status).toBe(200);
    await waitForExecution(t, t.adminSecret, refresh.body.execution_id);
    const options = await post(`/filters/${statusFilter}/options`, { dashboard_id: dashboardId });
    expect(options.body).toEqual({
      data_timestamp: expect.any(Number),
      options: { values: ['open', 'paid', 'refunded'], value_names: ['open', 'paid', 'refunded'] },
    });
    const missing = await post(`/filters/${statusFilter}/options`, {});
    expect(missing.status).toBe(422);

    const manual = await t.api
      .post('/filters')
      .set('Authorization', auth())
      .send({
        data: { attributes: { variable_name: 'region', control_type: 'dropdown_manual', value_type: 'TEXT', values: ['eu', 'us'], value_names: ['Europe'] } },
      });
    expect(manual.status).toBe(201);
    const manualOptions = await post(`/filters/${manual.body.data.id}/options`, {});
    // data_timestamp is a member of SQL drop-down options only (contract §3.14)
    expect(manualOptions.body).toEqual({ options: { values: ['eu', 'us'], value_names: ['Europe', 'us'] } });
    expect((await post(`/filters/${manual.body.data.id}/refresh_options`, {})).status).toBe(204);
  });

  it('locked dashboards still answer polls', async () => {
    expect((await t.api.post(`/dashboards/${dashboardId}/lock`).set('Authorization', auth())).status).toBe(204);
    const s = await poll(true);
    expect(Object.keys(s.reports).length).toBe(2);
    expect((await t.api.post(`/dashboards/${dashboardId}/unlock`).set('Authorization', auth())).status).toBe(204);
  });
});

describe('Poll Dashboard Status lists every report and filter of the dashboard', () => {
  it('with a status for manual drop-downs and other filters without a query, SQL drop-downs and broken ones', async () => {
    const filter = async (attributes: Record<string, unknown>, withDatasource = false) => {
      const res = await t.api
        .post('/filters')
        .set('Authorization', auth())
        .send({
          data: { attributes, ...(withDatasource ? { relationships: { datasource: { data: { type: 'datasources', id: datasourceId } } } } : {}) },
        });
      expect([res.status, res.body.errors]).toEqual([201, undefined]);
      return res.body.data as { id: string; attributes: { updated_at: string } };
    };
    const manual = await filter({ variable_name: 'region_pick', control_type: 'dropdown_multi_manual', value_type: 'TEXT', values: ['open', 'paid'] });
    const range = await filter({ variable_name: 'day_range', control_type: 'date_range', value_type: 'DATE' });
    const staticSql = await filter(
      { variable_name: 'static_status', control_type: 'dropdown', value_type: 'TEXT', sql_query: 'SELECT DISTINCT status FROM shop_orders' },
      true,
    );
    const brokenSql = await filter(
      { variable_name: 'broken_pick', control_type: 'dropdown_dynamic', value_type: 'TEXT', sql_query: 'SELECT {x:nonsense_transform}' },
      true,
    );
    const dash = await t.api
      .post('/dashboards')
      .set('Authorization', auth())
      .send({ data: { attributes: { name: 'Every filter' } } });
    const report = async (name: string, sql: string | null) => {
      const res = await t.api
        .post('/reports')
        .set('Authorization', auth())
        .send({
          data: {
            attributes: { name, sql_query: sql },
            relationships: {
              dashboard: { data: { type: 'dashboards', id: dash.body.data.id } },
              datasource: { data: { type: 'datasources', id: datasourceId } },
            },
          },
        });
      expect(res.status).toBe(201);
      return res.body.data as { id: string; attributes: { updated_at: string } };
    };
    const uses = await report(
      'Uses every filter',
      `SELECT count(*) FROM shop_orders WHERE {status=region_pick} AND {created_at=day_range}
      AND {status=static_status} AND {status=status_filter} AND {status=broken_pick}`,
    );
    const empty = await report('No SQL yet', null);
    const res = await post(`/dashboards/${dash.body.data.id}/status`, { refresh_data: false });
    expect(res.status).toBe(200);
    const s = res.body as StatusDoc;
    expect(Object.keys(s.reports).sort()).toEqual([uses.id, empty.id].sort());
    expect(s.reports[uses.id]).toEqual({ data_key: expect.any(String), updated_at: uses.attributes.updated_at });
    expect(s.reports[empty.id]).toEqual({ error: expect.stringMatching(/no SQL/), updated_at: empty.attributes.updated_at });
    expect(Object.keys(s.filters).sort()).toEqual([manual.id, range.id, staticSql.id, statusFilter, brokenSql.id].sort());
    // ManualFilterStatus (and every filter without a query): only updated_at
    expect(s.filters[manual.id]).toEqual({ updated_at: manual.attributes.updated_at });
    expect(s.filters[range.id]).toEqual({ updated_at: range.attributes.updated_at });
    expect(s.filters[staticSql.id]).toEqual({ data_key: expect.any(String), updated_at: staticSql.attributes.updated_at });
    expect(s.filters[statusFilter]).toEqual({ data_key: expect.any(String), updated_at: expect.any(String) });
    expect(s.filters[brokenSql.id]).toEqual({ error: expect.stringMatching(/nonsense_transform/), updated_at: brokenSql.attributes.updated_at });
    expect(s.data_keys[s.filters[staticSql.id]!.data_key!]).toMatchObject({ result_status: 'no-data', running: false });
    expect(s.data_keys[s.filters[statusFilter]!.data_key!]).toMatchObject({ running: false });
  });
});
