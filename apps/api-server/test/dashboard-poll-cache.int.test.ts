// The compiled-dashboard cache behind Poll Dashboard Status (issue 15): whatever changes what a
// dashboard's queries compile from (report, filter, snippet, datasource, dashboard, organization),
// through the API or straight in the database by another process, is seen by the very next poll.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { Clock } from '@sightline/domain';
import { createPlatformTestContext, type PlatformTestContext } from '../../../test/support/platform.js';

let t: PlatformTestContext;
let admin: pg.Client;
let datasourceId: string;
let dashboardId: string;
let reportId: string;
let filterId: string;
let snippetId: string;
let nowMs = Date.UTC(2026, 0, 15, 12, 0, 0);
const clock: Clock = { now: () => new Date(nowMs) };

const auth = () => `Api ${t.adminSecret}`;
const send = (method: 'post' | 'patch', path: string, body: unknown) =>
  t.api[method](path).set('Authorization', auth()).set('Content-Type', 'application/json').send(JSON.stringify(body));

interface StatusDoc {
  reports: Record<string, { data_key?: string; error?: string; updated_at: string }>;
  filters: Record<string, { data_key?: string; error?: string; updated_at: string }>;
  data_keys: Record<string, unknown>;
}

async function poll(parameters?: unknown): Promise<StatusDoc> {
  const res = await send('post', `/dashboards/${dashboardId}/status`, { refresh_data: false, ...(parameters ? { parameters } : {}) });
  expect(res.status).toBe(200);
  return res.body as StatusDoc;
}
const reportKey = async (parameters?: unknown) => (await poll(parameters)).reports[reportId]!.data_key!;

beforeAll(async () => {
  t = await createPlatformTestContext({ clock, worker: false });
  admin = new pg.Client({ connectionString: t.database.url });
  await admin.connect();
  const ds = await send('post', '/datasources', {
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
  expect(ds.status).toBe(201);
  datasourceId = ds.body.data.id;
  const snippet = await send('post', '/sql_snippets', {
    data: {
      type: 'sql_snippets',
      attributes: { name: 'paid', text: "status = 'paid'" },
      relationships: { datasource: { data: { type: 'datasources', id: datasourceId } } },
    },
  });
  expect(snippet.status).toBe(201);
  snippetId = snippet.body.data.id;
  const dash = await send('post', '/dashboards', { data: { attributes: { name: 'Cache', data_refresh_rate: 60 } } });
  dashboardId = dash.body.data.id;
  const filter = await send('post', '/filters', {
    data: {
      attributes: {
        variable_name: 'region',
        display_name: 'Region',
        control_type: 'dropdown_multi_dynamic',
        value_type: 'TEXT',
        sql_query: "SELECT 'north' UNION SELECT 'south'",
      },
      relationships: { datasource: { data: { type: 'datasources', id: datasourceId } } },
    },
  });
  expect(filter.status).toBe(201);
  filterId = filter.body.data.id;
  const report = await send('post', '/reports', {
    data: {
      attributes: {
        name: 'Orders',
        sql_query:
          "SELECT count(*) FROM (SELECT 'paid'::text AS status, 'north'::text AS region, now() AS at) o WHERE [paid] AND {region=region} AND {at=timerange}",
        width: 6,
        height: 4,
      },
      relationships: { dashboard: { data: { type: 'dashboards', id: dashboardId } }, datasource: { data: { type: 'datasources', id: datasourceId } } },
    },
  });
  expect(report.status).toBe(201);
  reportId = report.body.data.id;
});

afterAll(async () => {
  await admin?.end();
  await t?.close();
});

describe('Poll Dashboard Status cache', () => {
  it('answers repeated polls with the same keys, a current one in one statement (version and data state) besides the API key lookup', async () => {
    const first = await poll();
    expect(first.reports[reportId]!.data_key).toBeDefined();
    const statements: string[] = [];
    const onQuery = (q: { sql: string }) => statements.push(q.sql);
    t.database.db.on('query', onQuery);
    try {
      expect(await poll()).toEqual(first);
    } finally {
      t.database.db.off('query', onQuery);
    }
    // the API key's lookup is itself cached for 2 s (so 0 or 1 of it, by the clock); the poll's own
    // work is the one statement reading the version and the data state
    const own = statements.filter((sql) => !/\bapi_keys\b/.test(sql));
    expect(statements.length - own.length).toBeLessThanOrEqual(1);
    expect(own).toHaveLength(1);
    expect(own[0]).toContain('content_versions');
  });

  it('sees a changed report at the next poll', async () => {
    const before = await poll();
    const res = await send('patch', `/reports/${reportId}`, {
      data: {
        type: 'reports',
        id: reportId,
        attributes: {
          sql_query:
            "SELECT count(*) AS n FROM (SELECT 'paid'::text AS status, 'north'::text AS region, now() AS at) o WHERE [paid] AND {region=region} AND {at=timerange}",
        },
      },
    });
    expect(res.status).toBe(200);
    const after = await poll();
    expect(after.reports[reportId]!.data_key).not.toBe(before.reports[reportId]!.data_key);
    expect(after.reports[reportId]!.updated_at).not.toBe(before.reports[reportId]!.updated_at);
  });

  it('sees a changed SQL snippet at the next poll', async () => {
    const before = await reportKey();
    const res = await send('patch', `/sql_snippets/${snippetId}`, { data: { type: 'sql_snippets', id: snippetId, attributes: { text: "status <> 'open'" } } });
    expect(res.status).toBe(200);
    expect(await reportKey()).not.toBe(before);
  });

  it('sees a changed filter at the next poll', async () => {
    const before = await poll();
    const res = await send('patch', `/filters/${filterId}`, {
      data: { type: 'filters', id: filterId, attributes: { sql_query: "SELECT 'east' UNION SELECT 'west'" } },
    });
    expect(res.status).toBe(200);
    const after = await poll();
    expect(after.filters[filterId]!.data_key).not.toBe(before.filters[filterId]!.data_key);
  });

  it('sees a changed datasource at the next poll', async () => {
    const before = await reportKey();
    const res = await send('patch', `/datasources/${datasourceId}`, {
      data: { type: 'datasources', id: datasourceId, attributes: { data_time_zone: 'Europe/Berlin' } },
    });
    expect(res.status).toBe(200);
    expect(await reportKey()).not.toBe(before);
  });

  it('sees a changed dashboard at the next poll', async () => {
    const before = await reportKey();
    const res = await send('patch', `/dashboards/${dashboardId}`, {
      data: { type: 'dashboards', id: dashboardId, attributes: { default_parameters: { timerange: '1700000000~1700003600' } } },
    });
    expect(res.status).toBe(200);
    expect(await reportKey()).not.toBe(before);
  });

  it('sees changes written straight to the database by another process', async () => {
    const before = await reportKey();
    await admin.query("UPDATE reports SET sql_query = replace(sql_query, 'count(*) AS n', 'count(*) AS orders') WHERE id = $1", [reportId]);
    const afterReport = await reportKey();
    expect(afterReport).not.toBe(before);
    await admin.query("UPDATE sql_snippets SET text = 'true' WHERE id = $1", [snippetId]);
    expect(await reportKey()).not.toBe(afterReport);
  });

  it('sees a deleted report at the next poll', async () => {
    await poll();
    const res = await t.api.delete(`/reports/${reportId}`).set('Authorization', auth());
    expect(res.status).toBe(204);
    expect((await poll()).reports[reportId]).toBeUndefined();
  });

  it('recompiles relative time ranges when the second changes, not absolute ones', async () => {
    const report = await send('post', '/reports', {
      data: {
        attributes: { name: 'Recent', sql_query: 'SELECT count(*) FROM (SELECT now() AS at) o WHERE {at=timerange}', width: 6, height: 4 },
        relationships: { dashboard: { data: { type: 'dashboards', id: dashboardId } }, datasource: { data: { type: 'datasources', id: datasourceId } } },
      },
    });
    expect(report.status).toBe(201);
    const recent = report.body.data.id as string;
    const keyOf = async (parameters: unknown) => (await poll(parameters)).reports[recent]!.data_key!;
    const relative = { timerange: '7_day' };
    const absolute = { timerange: '1700000000~1700086400' };
    const [r1, a1] = [await keyOf(relative), await keyOf(absolute)];
    expect(await keyOf(relative)).toBe(r1);
    nowMs += 1000;
    expect(await keyOf(relative)).not.toBe(r1);
    expect(await keyOf(absolute)).toBe(a1);
  });
});
