// Executions and dashboard data through the typed client over real HTTP, with the worker running the
// queries: run → poll (waitForExecution) → data reference → download from the data server with the
// data token; Poll Dashboard Status until nothing runs (waitForDashboard) → download each report's data.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createSightlineClient, SightlineApiError, unwrap, type SightlineClient } from '@sightline/client';
import { createApiApp } from '@sightline/api-server';
import { createDataApp } from '@sightline/data-server';
import { createLogger } from '@sightline/domain';
import { listen, type RunningServer } from '@sightline/http';
import { createPlatformTestContext, type PlatformTestContext } from '../../../test/support/platform.js';

let t: PlatformTestContext;
let apiServer: RunningServer;
let dataServer: RunningServer;
let client: SightlineClient;
let datasourceId: string;

const SQL = "SELECT g AS n, 'row ' || g AS label FROM generate_series(1, 300) AS g ORDER BY g";

beforeAll(async () => {
  t = await createPlatformTestContext();
  const logger = createLogger('silent', 'test');
  dataServer = await listen(createDataApp({ db: t.database.db, logger, resultStore: t.services.resultStore, tokens: t.services.tokens }), '127.0.0.1', 0);
  apiServer = await listen(
    createApiApp({ db: t.database.db, logger, services: t.services, maxBodyBytes: t.config.maxBodyBytes, dataBaseUrl: dataServer.url }),
    '127.0.0.1',
    0,
  );
  client = createSightlineClient({ baseUrl: apiServer.url, apiKey: t.adminSecret, dataBaseUrl: dataServer.url });
  datasourceId = unwrap(
    await client.api.POST('/datasources', {
      body: {
        data: {
          type: 'datasources',
          attributes: {
            name: 'PG',
            database_type: 'postgres',
            connection_mode: 'direct',
            host: '127.0.0.1',
            port: 5432,
            username: 'postgres',
            database: t.database.name,
            require_ssl: false,
          },
        },
      },
    }),
  ).data.id;
});

afterAll(async () => {
  await apiServer?.close();
  await dataServer?.close();
  await t?.close();
});

describe('executions through the typed client', () => {
  it('runs SQL, waits for it and downloads the rows as JSON and CSV', async () => {
    const started = await client.api.POST('/datasources/{id}/executions', { params: { path: { id: datasourceId } }, body: { sql_query: SQL } });
    expect(started.response.status).toBe(201);
    const id = unwrap(started).data.id;
    const finished = await client.waitForExecution(id, { intervalMs: 25, timeoutMs: 60_000 });
    expect(finished.data.attributes.execution_status).toBe('success');

    const ref = unwrap(await client.api.GET('/executions/{id}/data', { params: { path: { id } } }));
    expect(ref).toEqual({ data_key: expect.any(String), data_access_token: expect.any(String), data_timestamp: expect.any(Number) });
    expect(ref!.data_key).toContain('/');

    const json = await client.downloadResult(ref!.data_key, ref!.data_access_token);
    expect(json.fields.map((f) => f.name)).toEqual(['n', 'label']);
    expect(json.rows).toHaveLength(300);
    expect(json.rows[299]).toEqual([300, 'row 300']);

    const page = await client.downloadResult(ref!.data_key, ref!.data_access_token, { offset: 10, limit: 2 });
    expect(page.rows).toEqual([
      [11, 'row 11'],
      [12, 'row 12'],
    ]);

    const csv = await client.downloadResult(ref!.data_key, ref!.data_access_token, { format: 'csv' });
    expect(csv.split('\r\n').slice(0, 3)).toEqual(['n,label', '1,row 1', '2,row 2']);

    // the one-call helper does all of the above
    expect((await client.query(datasourceId, 'SELECT 41 + 1 AS answer', { intervalMs: 25 })).rows).toEqual([[42]]);
  });

  it('reports a failed query, a wrong token and an unknown execution as errors', async () => {
    await expect(client.query(datasourceId, 'SELECT * FROM no_such_table_here', { intervalMs: 25 })).rejects.toThrow(/query_error/);
    await expect(client.downloadResult('org/no-such-key', 'forged.token.value')).rejects.toMatchObject({ status: 401 });
    const missing = await client.api.GET('/executions/{id}', { params: { path: { id: '00000000-0000-4000-8000-000000000000' } } });
    expect(missing.response.status).toBe(404);
    expect(() => unwrap(missing)).toThrow(SightlineApiError);
  });
});

describe('dashboard status through the typed client', () => {
  it('polls until the report data is ready and downloads it with the data token', async () => {
    const dashboardId = unwrap(await client.api.POST('/dashboards', { body: { data: { type: 'dashboards', attributes: { name: 'Polled' } } } })).data.id;
    const reportId = unwrap(
      await client.api.POST('/reports', {
        body: {
          data: {
            type: 'reports',
            attributes: { name: 'Numbers', sql_query: 'SELECT g AS n FROM generate_series(1, 5) AS g ORDER BY g' },
            relationships: { dashboard: { data: { type: 'dashboards', id: dashboardId } }, datasource: { data: { type: 'datasources', id: datasourceId } } },
          },
        },
      }),
    ).data.id;

    const status = await client.waitForDashboard(dashboardId, { refresh_data: true }, { intervalMs: 25, timeoutMs: 60_000 });
    const entry = status.reports[reportId];
    expect(entry?.data_key).toEqual(expect.any(String));
    const key = status.data_keys[entry!.data_key!]!;
    expect(key).toMatchObject({ running: false, result_status: 'success', data_access_token: expect.any(String) });
    const data = await client.downloadResult(entry!.data_key!, key.data_access_token!);
    expect(data.rows).toEqual([[1], [2], [3], [4], [5]]);
  });
});
