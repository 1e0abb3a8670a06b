// Reports through the typed client (packages/client) over real HTTP: the generated types and the
// OpenAPI document cannot drift from what the server accepts and answers without this failing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createSightlineClient, SightlineApiError, unwrap, type SightlineClient } from '@sightline/client';
import { createApiApp } from '@sightline/api-server';
import { createDomainServices, createLogger } from '@sightline/domain';
import { listen, type RunningServer } from '@sightline/http';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { TEST_ENCRYPTION_KEY } from '../../../test/support/context.js';
import { expectValidJsonApi } from '../../../test/support/jsonapi-schema.js';

let database: TestDatabase;
let server: RunningServer;
let client: SightlineClient;
let datasourceId: string;
let dashboardId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  const services = createDomainServices({ db: database.db, encryptionKey: TEST_ENCRYPTION_KEY });
  const { adminKey } = await services.organizations.create('Client Org');
  server = await listen(createApiApp({ db: database.db, logger: createLogger('silent', 'test'), services, maxBodyBytes: 64 * 1024 }), '127.0.0.1', 0);
  client = createSightlineClient({ baseUrl: server.url, apiKey: adminKey.secret });
  const ds = unwrap(
    await client.api.POST('/datasources', {
      body: {
        data: {
          type: 'datasources',
          attributes: {
            name: 'Main',
            database_type: 'postgres',
            connection_mode: 'direct',
            host: '127.0.0.1',
            port: 5432,
            username: 'postgres',
            database: 'postgres',
            require_ssl: false,
          },
        },
      },
    }),
  );
  datasourceId = ds.data.id;
  dashboardId = unwrap(await client.api.POST('/dashboards', { body: { data: { type: 'dashboards', attributes: { name: 'Client home' } } } })).data.id;
});

afterAll(async () => {
  await server?.close();
  await database?.drop();
});

describe('reports through the typed client', () => {
  it('creates, reads, updates, lists, duplicates and deletes', async () => {
    const created = await client.api.POST('/reports', {
      body: {
        data: {
          type: 'reports',
          attributes: { name: 'Revenue', sql_query: 'SELECT 1', data_refresh_rate: 15, width: 12 },
          relationships: { dashboard: { data: { type: 'dashboards', id: dashboardId } }, datasource: { data: { type: 'datasources', id: datasourceId } } },
        },
      },
    });
    expect(created.response.status).toBe(201);
    expect(created.response.headers.get('content-type')).toMatch(/^application\/vnd\.api\+json/);
    const report = unwrap(created);
    expectValidJsonApi(report);
    // typed attributes straight from the field table: a number is a number, a nullable is nullable
    const width: number = report.data.attributes.width;
    const description: string | null = report.data.attributes.description;
    expect({ width, description, name: report.data.attributes.name, rate: report.data.attributes.data_refresh_rate }).toEqual({
      width: 12,
      description: null,
      name: 'Revenue',
      rate: 15,
    });
    expect(report.data.relationships?.dashboard?.data).toEqual({ type: 'dashboards', id: dashboardId });

    const id = report.data.id;
    const got = unwrap(await client.api.GET('/reports/{id}', { params: { path: { id }, query: { include: 'dashboard,datasource' } } }));
    expect(got.data).toEqual(report.data);
    expect(got.included?.map((r) => r.type).sort()).toEqual(['dashboards', 'datasources']);

    const updated = unwrap(
      await client.api.PATCH('/reports/{id}', {
        params: { path: { id } },
        body: { data: { type: 'reports', id, attributes: { name: 'Revenue (net)', description: 'after refunds' } } },
      }),
    );
    expect(updated.data.attributes).toMatchObject({ name: 'Revenue (net)', description: 'after refunds', width: 12 });

    const copy = unwrap(await client.api.POST('/reports/{id}/duplicate', { params: { path: { id } } }));
    expect(copy.data.id).not.toBe(id);
    const list = unwrap(await client.api.GET('/reports'));
    expect(list.data.map((r) => r.id).sort()).toEqual([id, copy.data.id].sort());

    const deleted = await client.api.DELETE('/reports/{id}', { params: { path: { id } } });
    expect(deleted.response.status).toBe(204);
    const gone = await client.api.GET('/reports/{id}', { params: { path: { id } } });
    expect(gone.response.status).toBe(404);
    expect(() => unwrap(gone)).toThrow(SightlineApiError);
  });

  it('surfaces JSON:API errors as typed error documents', async () => {
    const bad = await client.api.POST('/reports', {
      // a wrong type on purpose: the server's answer, not the compiler, is under test
      body: {
        data: {
          type: 'reports',
          attributes: { name: 'x', width: 'wide' as unknown as number },
          relationships: { dashboard: { data: { type: 'dashboards', id: dashboardId } } },
        },
      },
    });
    expect(bad.response.status).toBe(422);
    expect(bad.error?.errors.some((e) => e.source?.pointer === '/data/attributes/width')).toBe(true);
    try {
      unwrap(bad);
      throw new Error('unwrap did not throw');
    } catch (err) {
      expect(err).toBeInstanceOf(SightlineApiError);
      expect((err as SightlineApiError).status).toBe(422);
    }

    const unauthorized = createSightlineClient({ baseUrl: server.url, apiKey: 'not-a-key' });
    const denied = await unauthorized.api.GET('/reports');
    expect(denied.response.status).toBe(401);
    expect(denied.error?.errors[0]?.status).toBe('401');
  });
});
