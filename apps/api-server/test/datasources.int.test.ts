import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { auth, createApiTestContext, type ApiTestContext } from '../../../test/support/context.js';
import { expectValidJsonApi } from '../../../test/support/jsonapi-schema.js';

let t: ApiTestContext;
const JSONAPI = 'application/vnd.api+json';

beforeAll(async () => {
  t = await createApiTestContext();
});
afterAll(async () => {
  await t.close();
});

const pgAttributes = (overrides: Record<string, unknown> = {}) => ({
  name: 'Local PG',
  database_type: 'postgres',
  connection_mode: 'direct',
  host: '127.0.0.1',
  port: 5432,
  username: 'postgres',
  password: 's3cr3t-pw',
  database: 'postgres',
  require_ssl: false,
  data_time_zone: 'Europe/Berlin',
  ...overrides,
});
const createDs = (attributes: Record<string, unknown>, secret = t.adminSecret) =>
  t.api
    .post('/datasources')
    .set('Authorization', auth(secret))
    .set('Content-Type', JSONAPI)
    .send(JSON.stringify({ data: { type: 'datasources', attributes } }));
const newKey = async (permissions: Array<{ name: string; datasource_ids?: string[] | null }>) => {
  const res = await t.api
    .post('/api_keys')
    .set('Authorization', auth(t.adminSecret))
    .send({ data: { attributes: { name: 'k', permissions } } });
  expect(res.status).toBe(201);
  return res.body.data.attributes.secret as string;
};

describe('datasources', () => {
  it('creates with defaults and round-trips every attribute', async () => {
    const res = await createDs(pgAttributes({ max_concurrent_executions: 5, query_timeout_seconds: 30, athena_region: null, update_schema_nightly: false }));
    expect(res.status).toBe(201);
    expectValidJsonApi(res.body);
    const a = res.body.data.attributes;
    expect(a).toMatchObject({
      name: 'Local PG',
      database_type: 'postgres',
      connection_mode: 'direct',
      host: '127.0.0.1',
      port: 5432,
      username: 'postgres',
      password: 's3cr3t-pw',
      database: 'postgres',
      require_ssl: false,
      verify_ssl: false,
      enabled: true,
      data_time_zone: 'Europe/Berlin',
      max_concurrent_executions: 5,
      query_timeout_seconds: 30,
      update_schema_nightly: false,
      update_schema_row_counts: true,
    });
    expect(res.body.data.relationships).toEqual({ agents: { data: [] } });
    const row = await t.database.db('datasources').where({ id: res.body.data.id }).first();
    expect(row.password_enc).not.toContain('s3cr3t-pw');

    const got = await t.api.get(`/datasources/${res.body.data.id}?include=agents`).set('Authorization', auth(t.adminSecret));
    expect(got.status).toBe(200);
    expect(got.body.data.attributes).toEqual(a);
    expect(got.body.included).toEqual([]);
    expectValidJsonApi(got.body);
  });

  it('defaults require_ssl to true for direct connections and forces SSL rules per type', async () => {
    const direct = await createDs({ name: 'd', database_type: 'mysql', connection_mode: 'direct' });
    expect(direct.body.data.attributes).toMatchObject({ require_ssl: true, verify_ssl: false, max_concurrent_executions: 20, data_time_zone: 'UTC' });
    const redshift = await createDs({ name: 'r', database_type: 'redshift', connection_mode: 'direct', require_ssl: false });
    expect(redshift.body.data.attributes.require_ssl).toBe(true);
    const snowflake = await createDs({ name: 's', database_type: 'snowflake', connection_mode: 'direct', verify_ssl: false });
    expect(snowflake.body.data.attributes).toMatchObject({ require_ssl: true, verify_ssl: true });
  });

  it('updates partially and deletes', async () => {
    const created = await createDs(pgAttributes());
    const id = created.body.data.id;
    const upd = await t.api
      .patch(`/datasources/${id}`)
      .set('Authorization', auth(t.adminSecret))
      .send({ data: { type: 'datasources', id, attributes: { name: 'Renamed', port: 5433, password: null } } });
    expect(upd.status).toBe(200);
    expect(upd.body.data.attributes).toMatchObject({ name: 'Renamed', port: 5433, password: null, host: '127.0.0.1' });
    expect((await t.api.delete(`/datasources/${id}`).set('Authorization', auth(t.adminSecret))).status).toBe(204);
    expect((await t.api.get(`/datasources/${id}`).set('Authorization', auth(t.adminSecret))).status).toBe(404);
  });

  it('refuses to delete a datasource used by a snippet (422)', async () => {
    const ds = await createDs(pgAttributes());
    const snippet = await t.api
      .post('/sql_snippets')
      .set('Authorization', auth(t.adminSecret))
      .send({
        data: { attributes: { name: 'uses_ds', text: 'SELECT 1' }, relationships: { datasource: { data: { type: 'datasources', id: ds.body.data.id } } } },
      });
    expect(snippet.status).toBe(201);
    const del = await t.api.delete(`/datasources/${ds.body.data.id}`).set('Authorization', auth(t.adminSecret));
    expect(del.status).toBe(422);
    expect(del.body.errors[0].detail).toMatch(/used by/);
    expectValidJsonApi(del.body);
  });

  it('refuses to delete a datasource used by a report or a filter (422 naming them), and deletes it once unused', async () => {
    const ds = await createDs(pgAttributes());
    const dsId = ds.body.data.id as string;
    const dashboard = await t.api
      .post('/dashboards')
      .set('Authorization', auth(t.adminSecret))
      .send({ data: { attributes: { name: 'Uses it' } } });
    const report = await t.api
      .post('/reports')
      .set('Authorization', auth(t.adminSecret))
      .send({
        data: {
          attributes: { name: 'Revenue by month', sql_query: 'SELECT 1' },
          relationships: {
            dashboard: { data: { type: 'dashboards', id: dashboard.body.data.id } },
            datasource: { data: { type: 'datasources', id: dsId } },
          },
        },
      });
    expect(report.status).toBe(201);
    const filter = await t.api
      .post('/filters')
      .set('Authorization', auth(t.adminSecret))
      .send({
        data: {
          attributes: { variable_name: 'region_pick', display_name: 'Region', control_type: 'dropdown', value_type: 'TEXT', sql_query: 'SELECT 1' },
          relationships: { datasource: { data: { type: 'datasources', id: dsId } } },
        },
      });
    expect(filter.status).toBe(201);
    const del = await t.api.delete(`/datasources/${dsId}`).set('Authorization', auth(t.adminSecret));
    expect(del.status).toBe(422);
    expectValidJsonApi(del.body);
    expect(del.body.errors[0].meta.error_code).toBe('datasource_in_use');
    expect(del.body.errors[0].detail).toContain('Revenue by month');
    expect(del.body.errors[0].detail).toContain(report.body.data.id);
    expect(del.body.errors[0].detail).toContain('region_pick');
    expect((await t.api.delete(`/reports/${report.body.data.id}`).set('Authorization', auth(t.adminSecret))).status).toBe(204);
    expect((await t.api.delete(`/filters/${filter.body.data.id}`).set('Authorization', auth(t.adminSecret))).status).toBe(204);
    expect((await t.api.delete(`/datasources/${dsId}`).set('Authorization', auth(t.adminSecret))).status).toBe(204);
  });

  it.each([
    [{ name: 'x' }, 422],
    [{ ...pgAttributes(), database_type: 'sqlite' }, 422],
    [{ ...pgAttributes(), port: 70000 }, 422],
    [{ ...pgAttributes(), port: '5432' }, 422],
    [{ ...pgAttributes(), data_time_zone: "Europe/Berlin'; DROP TABLE x; --" }, 422],
    [{ ...pgAttributes(), bogus: 1 }, 422],
    [{ ...pgAttributes(), bigquery_service_key: 'not json' }, 422],
    [{ ...pgAttributes(), name: 'a\u0000b' }, 422],
  ])('rejects invalid attributes %#', async (attributes, status) => {
    const res = await createDs(attributes);
    expect(res.status).toBe(status);
    expectValidJsonApi(res.body);
  });

  it('explains invalid attributes in sentences for a person', async () => {
    const res = await createDs({ name: 'x', database_type: 'postgres' });
    expect(res.status).toBe(422);
    expectValidJsonApi(res.body);
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        detail: '`connection_mode` is required; one of direct, ssh_tunnel, agent',
        source: { pointer: '/data/attributes/connection_mode' },
      }),
    ]);
    const port = await createDs({ ...pgAttributes(), port: '5432' });
    expect(port.body.errors[0].detail).toBe('`port` must be a number, not text');
  });

  it('hides credentials from keys without Manage Datasources and scopes visibility', async () => {
    const a = await createDs(pgAttributes({ name: 'A' }));
    const b = await createDs(pgAttributes({ name: 'B' }));
    const viewer = await newKey([{ name: 'View Datasources', datasource_ids: [a.body.data.id] }]);
    const list = await t.api.get('/datasources').set('Authorization', auth(viewer));
    expect(list.status).toBe(200);
    expect(list.body.data.map((d: { id: string }) => d.id)).toEqual([a.body.data.id]);
    expect(list.body.data[0].attributes.password).toBeUndefined();
    expect(list.body.data[0].attributes).not.toHaveProperty('bigquery_service_key');
    expectValidJsonApi(list.body);
    expect((await t.api.get(`/datasources/${b.body.data.id}`).set('Authorization', auth(viewer))).status).toBe(404);
    expect((await createDs(pgAttributes(), viewer)).status).toBe(403);
    expect(
      (
        await t.api
          .patch(`/datasources/${a.body.data.id}`)
          .set('Authorization', auth(viewer))
          .send({ data: { attributes: { name: 'x' } } })
      ).status,
    ).toBe(403);
    expect((await t.api.post(`/datasources/${a.body.data.id}/test_connection`).set('Authorization', auth(viewer))).status).toBe(403);
    const noPerm = await newKey([{ name: 'View Users' }]);
    expect((await t.api.get('/datasources').set('Authorization', auth(noPerm))).status).toBe(403);
  });

  it("never shows another organization's datasources", async () => {
    const mine = await createDs(pgAttributes());
    const other = await t.services.organizations.create('Other');
    const otherSecret = other.adminKey.secret;
    const list = await t.api.get('/datasources').set('Authorization', auth(otherSecret));
    expect(list.body.data.map((d: { id: string }) => d.id)).not.toContain(mine.body.data.id);
    for (const res of [
      await t.api.get(`/datasources/${mine.body.data.id}`).set('Authorization', auth(otherSecret)),
      await t.api
        .patch(`/datasources/${mine.body.data.id}`)
        .set('Authorization', auth(otherSecret))
        .send({ data: { attributes: { name: 'x' } } }),
      await t.api.delete(`/datasources/${mine.body.data.id}`).set('Authorization', auth(otherSecret)),
      await t.api.post(`/datasources/${mine.body.data.id}/test_connection`).set('Authorization', auth(otherSecret)),
    ])
      expect(res.status).toBe(404);
    const perm = await t.api
      .post('/api_keys')
      .set('Authorization', auth(otherSecret))
      .send({ data: { attributes: { name: 'k', permissions: [{ name: 'View Datasources', datasource_ids: [mine.body.data.id] }] } } });
    expect(perm.status).toBe(422);
  });
});

describe('test connection', () => {
  it('reports ok for the local PostgreSQL and MariaDB', async () => {
    const pg = await createDs(pgAttributes({ password: null }));
    const res = await t.api.post(`/datasources/${pg.body.data.id}/test_connection`).set('Authorization', auth(t.adminSecret));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('application/json');
    expect(res.body).toEqual({ status: 'ok', error_message: null });
    const after = await t.api.get(`/datasources/${pg.body.data.id}`).set('Authorization', auth(t.adminSecret));
    expect(after.body.data.attributes.server_version).toMatch(/\d+/);

    const maria = await createDs({
      name: 'Maria',
      database_type: 'mariadb',
      connection_mode: 'direct',
      host: '127.0.0.1',
      port: 3306,
      username: 'root',
      database: 'test',
      require_ssl: false,
    });
    const mres = await t.api.post(`/datasources/${maria.body.data.id}/test_connection`).set('Authorization', auth(t.adminSecret));
    expect(mres.body).toEqual({ status: 'ok', error_message: null });
  });

  it('reports the driver error without credentials, in bounded time', async () => {
    const wrong = await createDs(pgAttributes({ username: 'nobody_here', password: 'hunter2-secret', database: 'nope' }));
    const res = await t.api.post(`/datasources/${wrong.body.data.id}/test_connection`).set('Authorization', auth(t.adminSecret));
    expect(res.body.status).toBe('error');
    expect(res.body.error_message).toMatch(/nobody_here|does not exist|authentication|role/i);
    expect(res.body.error_message).not.toContain('hunter2-secret');

    // bounded by the connect timeout (the driver tests prove it against a server that never answers)
    const closed = await createDs(pgAttributes({ port: 1 }));
    const cres = await t.api.post(`/datasources/${closed.body.data.id}/test_connection`).set('Authorization', auth(t.adminSecret));
    expect(cres.body.status).toBe('error');

    const ssl = await createDs(pgAttributes({ require_ssl: true }));
    const sres = await t.api.post(`/datasources/${ssl.body.data.id}/test_connection`).set('Authorization', auth(t.adminSecret));
    expect(sres.body.status).toBe('error');
    expect(sres.body.error_message).toMatch(/ssl/i);
  });

  it('masks the password only where it stands alone, never inside other words of the message', async () => {
    for (const attributes of [
      pgAttributes({ password: 'e', database: 'expected_here_never' }),
      {
        name: 'm',
        database_type: 'mariadb',
        connection_mode: 'direct',
        host: '127.0.0.1',
        port: 3306,
        username: 'root',
        password: 'e',
        database: 'test',
        require_ssl: false,
      },
    ]) {
      const ds = await createDs(attributes);
      const res = await t.api.post(`/datasources/${ds.body.data.id}/test_connection`).set('Authorization', auth(t.adminSecret));
      expect(res.body.status).toBe('error');
      // the database's own words arrive unchanged (no "***xpected", no "nob***dy")
      expect(res.body.error_message).not.toContain('***');
      expect(res.body.error_message).toMatch(
        attributes.database_type === 'postgres' ? /database "expected_here_never" does not exist/ : /Access denied for user 'root'/,
      );
    }
  });

  it('answers 200 {status: "error"} for types and modes this build cannot connect to', async () => {
    const oracle = await createDs({ name: 'o', database_type: 'oracle', connection_mode: 'direct', host: 'h' });
    expect(oracle.status).toBe(201);
    const res = await t.api.post(`/datasources/${oracle.body.data.id}/test_connection`).set('Authorization', auth(t.adminSecret));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'error', error_message: expect.stringMatching(/oracle/) });
    const tunnel = await createDs(pgAttributes({ connection_mode: 'ssh_tunnel', ssh_tunnel_host: 'bastion', ssh_tunnel_port: 22 }));
    const tres = await t.api.post(`/datasources/${tunnel.body.data.id}/test_connection`).set('Authorization', auth(t.adminSecret));
    expect(tres.status).toBe(200);
    expect(tres.body).toEqual({ status: 'error', error_message: expect.stringMatching(/ssh_tunnel/) });
  });
});
