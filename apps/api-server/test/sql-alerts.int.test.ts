import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { MAIL_SEND_QUEUE, SQL_ALERT_RUN_QUEUE, SqlAlertRepository, sqlAlertFields, type SqlAlertResultStatus } from '@sightline/domain';
import { waitForExecution, type PlatformTestContext } from '../../../test/support/platform.js';
import { expectValidJsonApi } from '../../../test/support/jsonapi-schema.js';
import type { TestSmtpServer } from '../../../test/support/smtp-server.js';
import {
  createTestDatasource,
  openJobs,
  parseMail,
  startSchedulingTestContext,
  waitUntil,
  type SchedulingTestContext,
} from '../../../test/support/scheduling.js';

const auth = (secret: string) => `Api ${secret}`;

let t: PlatformTestContext;
let smtp: TestSmtpServer;
let context: SchedulingTestContext;
let dsA: string;
let dsB: string;
let other: { secret: string; datasource: string };

const body = (attributes: Record<string, unknown>, datasource: string | null = dsA) => ({
  data: { type: 'sql_alerts', attributes, relationships: datasource ? { datasource: { data: { type: 'datasources', id: datasource } } } : {} },
});
const valid = { name: 'Big orders', sql_query: 'SELECT 42 AS n', run_schedule: 'disabled', email_condition: 'triggered' };
const send = (method: 'post' | 'patch' | 'get' | 'delete', path: string, payload?: object, secret = t.adminSecret) => {
  const req = t.api[method](path).set('Authorization', auth(secret));
  return payload ? req.send(payload) : req;
};
async function key(permissions: Array<{ name: string; datasource_ids?: string[] | null }>): Promise<string> {
  const res = await send('post', '/api_keys', { data: { attributes: { name: `k${Math.random()}`, permissions } } });
  expect(res.status).toBe(201);
  return res.body.data.attributes.secret as string;
}
async function createAlert(attributes: Record<string, unknown> = {}, datasource = dsA): Promise<string> {
  const res = await send('post', '/sql_alerts', body({ ...valid, ...attributes }, datasource));
  if (res.status !== 201) throw new Error(`${res.status} ${res.text}`);
  return res.body.data.id as string;
}

/** Results written through the repository (as the runner writes them), `ageDays` old. */
async function seedResults(
  alertId: string,
  n: number,
  evaluatedAt: (i: number) => Date,
  status: (i: number) => SqlAlertResultStatus = () => 'ok',
): Promise<void> {
  const repo = new SqlAlertRepository(t.database.db);
  for (let i = 0; i < n; i++) {
    const run = await repo.insertRun({
      id: randomUUID(),
      organization_id: t.organization.id,
      sql_alert_id: alertId,
      run_key: `seed:${randomUUID()}`,
      due_at: null,
      status: 'running',
      created_at: evaluatedAt(i),
    });
    await repo.evaluateRun(run!.id, {
      result_status: status(i),
      error_message: `#${i}`,
      sql_query: 'SELECT 42 AS n',
      sql_query_duration: i,
      mail_audience: null,
      mail_reason: null,
      first_value: i,
      row_count: 1,
      evaluated_at: evaluatedAt(i),
    });
  }
}

beforeAll(async () => {
  context = await startSchedulingTestContext();
  ({ t, smtp } = context);
  const ds = (name: string, secret?: string) => createTestDatasource(t, name, secret);
  dsA = await ds('A');
  dsB = await ds('B');
  const org = await t.services.organizations.create('Other Org');
  other = { secret: org.adminKey.secret, datasource: await ds('Theirs', org.adminKey.secret) };
});

afterAll(async () => {
  await context?.close();
});

describe('sql_alerts: CRUD (rows 68–72)', () => {
  it('creates with defaults, reads with include, updates partially and deletes', async () => {
    const created = await send('post', '/sql_alerts', body({ ...valid, last_result_status: 'ok' }));
    expect(created.status).toBe(201);
    expectValidJsonApi(created.body);
    const { id, attributes, relationships } = created.body.data;
    expect(Object.keys(attributes)).toEqual([...sqlAlertFields.attributes]);
    expect(attributes).toMatchObject({
      ...valid,
      description: null,
      run_at: null,
      run_every: null,
      trigger_condition: 'has_results',
      trigger_value: null,
      emails: null,
      cc_emails: null,
      bcc_emails: null,
      error_emails: null,
      attach_as: null,
      running_execution_id: null,
      last_result_status: null,
      last_error_message: null,
      last_query_run: null,
      last_query_success: null,
      last_query_error_message: null,
    });
    expect(relationships).toEqual({ datasource: { data: { type: 'datasources', id: dsA } } });
    const all = {
      name: 'Renamed',
      description: 'Orders over 10',
      sql_query: 'SELECT count(*) FROM generate_series(1, 20)',
      run_schedule: 'at',
      run_at: '06:00,6:30pm',
      trigger_condition: 'greater_than',
      trigger_value: 10.5,
      email_condition: 'changed',
      emails: 'a@example.com',
      cc_emails: 'b@example.com',
      bcc_emails: 'c@example.com',
      error_emails: 'dba@example.com',
      attach_as: 'excel',
    };
    const updated = await send('patch', `/sql_alerts/${id}`, {
      data: { id, type: 'sql_alerts', attributes: all, relationships: { datasource: { data: { type: 'datasources', id: dsB } } } },
    });
    expect(updated.status).toBe(200);
    expectValidJsonApi(updated.body);
    expect(updated.body.data.attributes).toMatchObject(all);
    expect(updated.body.data.relationships.datasource.data.id).toBe(dsB);
    const every = await send('patch', `/sql_alerts/${id}`, { data: { attributes: { run_schedule: 'every', run_every: 15 } } });
    expect(every.body.data.attributes).toMatchObject({ run_schedule: 'every', run_every: 15, run_at: '06:00,6:30pm', name: 'Renamed' });
    const got = await send('get', `/sql_alerts/${id}?include=datasource`);
    expect(got.status).toBe(200);
    expectValidJsonApi(got.body);
    expect(got.body.included.map((i: { type: string; id: string }) => `${i.type}:${i.id}`)).toEqual([`datasources:${dsB}`]);
    expect((await send('get', '/sql_alerts')).body.data.map((a: { id: string }) => a.id)).toContain(id);
    expect((await send('delete', `/sql_alerts/${id}`)).status).toBe(204);
    expect((await send('get', `/sql_alerts/${id}`)).status).toBe(404);
  });

  it.each([
    ['at without run_at', { run_schedule: 'at' }, '/data/attributes/run_at', /run_at is required when run_schedule is "at"/],
    ['a bad run_at time', { run_schedule: 'at', run_at: '06:00,13:00pm' }, '/data/attributes/run_at', /time of day "13:00pm" \(item 2\)/],
    ['every without run_every', { run_schedule: 'every' }, '/data/attributes/run_every', /run_every is required/],
    ['run_every out of range', { run_schedule: 'every', run_every: 0 }, '/data/attributes/run_every', /.+/],
    ['an unknown run_schedule', { run_schedule: 'hourly' }, '/data/attributes/run_schedule', /.+/],
    ['a comparison without trigger_value', { trigger_condition: 'equal' }, '/data/attributes/trigger_value', /trigger_value is required/],
    ['an unknown trigger_condition', { trigger_condition: 'bigger' }, '/data/attributes/trigger_condition', /.+/],
    ['an unknown email_condition', { email_condition: 'sometimes' }, '/data/attributes/email_condition', /.+/],
    ['a bad error address', { error_emails: 'dba@example.com,oops' }, '/data/attributes/error_emails', /"oops" \(address 2\)/],
    ['a picture attachment', { attach_as: 'pdf' }, '/data/attributes/attach_as', /"pdf" \(item 1\) is not a format; use a comma-separated list of csv, excel/],
    ['two attachments', { attach_as: 'csv,excel' }, '/data/attributes/attach_as', /one format/],
    ['an empty query', { sql_query: '' }, '/data/attributes/sql_query', /.+/],
    ['an unknown attribute', { send_when: 'always' }, '/data/attributes/send_when', /`send_when` is not a known attribute/],
  ])('422 for %s', async (_label, change, pointer, detail) => {
    const res = await send('post', '/sql_alerts', body({ ...valid, ...change }));
    expect(res.status).toBe(422);
    expectValidJsonApi(res.body);
    const error = res.body.errors.find((e: { source?: { pointer?: string } }) => e.source?.pointer === pointer);
    expect(error).toBeDefined();
    expect(error.detail).toMatch(detail);
  });

  it('422 without a datasource, or with one of another organization', async () => {
    expect((await send('post', '/sql_alerts', body(valid, null))).status).toBe(422);
    const foreign = await send('post', '/sql_alerts', body(valid, other.datasource));
    expect(foreign.status).toBe(422);
    expect(foreign.body.errors[0].source.pointer).toBe('/data/relationships/datasource');
  });

  it('a datasource used by an alert cannot be deleted (422)', async () => {
    await createAlert({}, dsB);
    const res = await send('delete', `/datasources/${dsB}`);
    expect(res.status).toBe(422);
    expectValidJsonApi(res.body);
  });
});

describe('Run SQL Alert Query (row 73) and List SQL Alert Results (row 74)', () => {
  it('runs through the execution engine, evaluates, mails, and lists the result', async () => {
    const id = await createAlert({ emails: 'run@example.com', attach_as: 'csv', trigger_condition: 'greater_than', trigger_value: 40 });
    const res = await t.api.post(`/sql_alerts/${id}/run`).set('Authorization', auth(t.adminSecret));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('application/json');
    expect(Object.keys(res.body)).toEqual(['execution_id']);
    const execution = await waitForExecution(t, t.adminSecret, res.body.execution_id);
    expect(execution).toMatchObject({ execution_status: 'success', execution_type: 'sql_alert' });
    await waitUntil(
      'the alert run',
      async () => ({ runs: await openJobs(t.database.db, SQL_ALERT_RUN_QUEUE), mails: await openJobs(t.database.db, MAIL_SEND_QUEUE) }),
      (v) => v.runs === 0 && v.mails === 0,
    );
    const alert = await send('get', `/sql_alerts/${id}`);
    expect(alert.body.data.attributes).toMatchObject({
      last_result_status: 'alert_triggered',
      running_execution_id: null,
      last_error_message: null,
      last_query_error_message: null,
    });
    expect(alert.body.data.attributes.last_query_success).not.toBeNull();
    const mails = smtp.received.filter((m) => m.recipients.includes('run@example.com'));
    expect(mails).toHaveLength(1);
    const parsed = await parseMail(mails[0]!);
    expect(parsed.subject).toBe('Alert triggered: Big orders');
    expect(parsed.attachments.map((a) => [a.filename, a.content.toString('utf8')])).toEqual([['big-orders.csv', 'n\r\n42\r\n']]);
    const results = await send('get', `/sql_alerts/${id}/results`);
    expect(results.status).toBe(200);
    expect(results.body).toEqual({
      cursor: null,
      count: 1,
      items: [
        {
          result_status: 'alert_triggered',
          error_message: null,
          sql_query: 'SELECT 42 AS n',
          sql_query_duration: expect.any(Number),
          created_at: expect.any(String),
        },
      ],
    });
    // without Include SQL Details, no SQL
    const viewer = await key([{ name: 'View Alerts' }]);
    expect((await send('get', `/sql_alerts/${id}/results`, undefined, viewer)).body.items).toEqual([
      { result_status: 'alert_triggered', error_message: null, created_at: expect.any(String) },
    ]);
    const details = await key([{ name: 'View Alerts' }, { name: 'Include SQL Details' }]);
    expect((await send('get', `/sql_alerts/${id}/results`, undefined, details)).body.items[0].sql_query).toBe('SELECT 42 AS n');
  });

  it('a query that cannot start (disabled datasource) is a 422 at Run', async () => {
    const ds = await send('post', '/datasources', {
      data: {
        attributes: {
          name: 'Off',
          enabled: false,
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
    const id = await createAlert({}, ds.body.data.id);
    const res = await t.api.post(`/sql_alerts/${id}/run`).set('Authorization', auth(t.adminSecret));
    expect(res.status).toBe(422);
    expectValidJsonApi(res.body);
    expect(res.body.errors[0].detail).toMatch(/disabled/);
  });

  it('pages 250 results newest first with a cursor that stays put while new results arrive; 30-day window', async () => {
    const id = await createAlert();
    const base = Date.now() - 3 * 86_400_000;
    await seedResults(id, 250, (i) => new Date(base + i * 60_000));
    await seedResults(id, 7, (i) => new Date(Date.now() - (31 + i) * 86_400_000));
    const first = await send('get', `/sql_alerts/${id}/results`);
    expect(first.status).toBe(200);
    expect(first.body.count).toBe(250);
    expect(first.body.items).toHaveLength(100);
    expect(first.body.items[0].error_message).toBe('#249');
    expect(typeof first.body.cursor).toBe('string');
    // new results arrive between pages
    await seedResults(id, 5, () => new Date());
    const seen = first.body.items.map((r: { error_message: string }) => r.error_message);
    let cursor: string | null = first.body.cursor;
    while (cursor) {
      const page = await send('get', `/sql_alerts/${id}/results?cursor=${encodeURIComponent(cursor)}&limit=60`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(60);
      seen.push(...page.body.items.map((r: { error_message: string }) => r.error_message));
      cursor = page.body.cursor;
    }
    expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => `#${249 - i}`));
    const fresh = await send('get', `/sql_alerts/${id}/results?limit=1000`);
    expect(fresh.body.count).toBe(255);
    expect(fresh.body.items).toHaveLength(255);
    expect(fresh.body.cursor).toBeNull();
    const times = fresh.body.items.map((r: { created_at: string }) => Date.parse(r.created_at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('400 for a bad limit or cursor, and a cursor of another alert', async () => {
    const a = await createAlert();
    const b = await createAlert();
    await seedResults(a, 3, (i) => new Date(Date.now() - i * 1000));
    const page = await send('get', `/sql_alerts/${a}/results?limit=1`);
    for (const query of ['limit=0', 'limit=1001', 'limit=ten', 'limit=1&limit=2', 'cursor=abc', 'cursor=', 'offset=5', `cursor=${page.body.cursor}x`]) {
      const res = await send('get', `/sql_alerts/${a}/results?${query}`);
      expect([query, res.status]).toEqual([query, 400]);
      expectValidJsonApi(res.body);
    }
    expect((await send('get', `/sql_alerts/${b}/results?cursor=${page.body.cursor}`)).status).toBe(400);
    expect((await send('get', `/sql_alerts/${a}/results?limit=1000`)).status).toBe(200);
  });
});

describe('permissions and tenant isolation', () => {
  it('View Alerts reads, Manage Alerts writes and runs, others get 403', async () => {
    const id = await createAlert();
    const viewer = await key([{ name: 'View Alerts' }]);
    expect((await send('get', '/sql_alerts', undefined, viewer)).status).toBe(200);
    expect((await send('get', `/sql_alerts/${id}`, undefined, viewer)).status).toBe(200);
    expect((await send('get', `/sql_alerts/${id}/results`, undefined, viewer)).status).toBe(200);
    // include=datasource needs View/Manage Datasources or Manage Alerts
    expect((await send('get', `/sql_alerts/${id}?include=datasource`, undefined, viewer)).status).toBe(403);
    for (const res of [
      await send('post', '/sql_alerts', body(valid), viewer),
      await send('patch', `/sql_alerts/${id}`, { data: { attributes: { name: 'x' } } }, viewer),
      await send('delete', `/sql_alerts/${id}`, undefined, viewer),
      await t.api.post(`/sql_alerts/${id}/run`).set('Authorization', auth(viewer)),
    ]) {
      expect(res.status).toBe(403);
      expectValidJsonApi(res.body);
    }
    const dashboards = await key([{ name: 'Manage Dashboards' }]);
    expect((await send('get', '/sql_alerts', undefined, dashboards)).status).toBe(403);
    expect((await send('get', `/sql_alerts/${id}/results`, undefined, dashboards)).status).toBe(403);
    const manager = await key([{ name: 'Manage Alerts' }]);
    expect((await send('get', `/sql_alerts/${id}?include=datasource`, undefined, manager)).status).toBe(200);
  });

  it('a key scoped to datasource A neither sees nor creates alerts on B', async () => {
    const onB = await createAlert({}, dsB);
    const scoped = await key([{ name: 'Manage Alerts', datasource_ids: [dsA] }]);
    expect((await send('get', '/sql_alerts', undefined, scoped)).body.data.map((a: { id: string }) => a.id)).not.toContain(onB);
    for (const res of [
      await send('get', `/sql_alerts/${onB}`, undefined, scoped),
      await send('patch', `/sql_alerts/${onB}`, { data: { attributes: { name: 'x' } } }, scoped),
      await send('delete', `/sql_alerts/${onB}`, undefined, scoped),
      await t.api.post(`/sql_alerts/${onB}/run`).set('Authorization', auth(scoped)),
      await send('get', `/sql_alerts/${onB}/results`, undefined, scoped),
    ])
      expect(res.status).toBe(404);
    expect((await send('post', '/sql_alerts', body(valid, dsB), scoped)).status).toBe(422);
    const onA = await send('post', '/sql_alerts', body(valid, dsA), scoped);
    expect(onA.status).toBe(201);
    // moving it to B is refused
    expect(
      (await send('patch', `/sql_alerts/${onA.body.data.id}`, { data: { relationships: { datasource: { data: { type: 'datasources', id: dsB } } } } }, scoped))
        .status,
    ).toBe(422);
  });

  it('another organization sees nothing: 404 on every route', async () => {
    const id = await createAlert();
    expect((await send('get', '/sql_alerts', undefined, other.secret)).body.data.map((a: { id: string }) => a.id)).not.toContain(id);
    for (const res of [
      await send('get', `/sql_alerts/${id}`, undefined, other.secret),
      await send('patch', `/sql_alerts/${id}`, { data: { attributes: { name: 'x' } } }, other.secret),
      await send('delete', `/sql_alerts/${id}`, undefined, other.secret),
      await t.api.post(`/sql_alerts/${id}/run`).set('Authorization', auth(other.secret)),
      await send('get', `/sql_alerts/${id}/results`, undefined, other.secret),
    ]) {
      expect(res.status).toBe(404);
      expectValidJsonApi(res.body);
    }
    expect((await send('get', `/sql_alerts/${id}`)).status).toBe(200);
  });
});
