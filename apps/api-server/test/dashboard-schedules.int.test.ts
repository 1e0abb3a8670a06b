import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MAIL_SEND_QUEUE, dashboardScheduleFields } from '@sightline/domain';
import type { PlatformTestContext } from '../../../test/support/platform.js';
import { expectValidJsonApi } from '../../../test/support/jsonapi-schema.js';
import type { TestSmtpServer } from '../../../test/support/smtp-server.js';
import {
  createTestDatasource,
  openJobs,
  openScheduleRuns,
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
let dashboard: string;
let reportA: string;
let reportB: string;
let other: { secret: string; dashboard: string };

const body = (
  attributes: Record<string, unknown>,
  relationships: Record<string, unknown> = { dashboard: { data: { type: 'dashboards', id: dashboard } } },
) => ({ data: { type: 'dashboard_schedules', attributes, relationships } });
const valid = { name: 'Weekly sales', emails: 'ada@example.com', attach_as: 'csv,pdf,excel', schedule: 'weekly;0,2,4;06:00' };
const send = (method: 'post' | 'patch' | 'get' | 'delete', path: string, payload?: object, secret = t.adminSecret) => {
  const req = t.api[method](path).set('Authorization', auth(secret));
  return payload ? req.send(payload) : req;
};
async function key(permissions: Array<{ name: string; datasource_ids?: string[] | null }>): Promise<string> {
  const res = await send('post', '/api_keys', { data: { attributes: { name: `k${Math.random()}`, permissions } } });
  expect(res.status).toBe(201);
  return res.body.data.attributes.secret as string;
}

beforeAll(async () => {
  context = await startSchedulingTestContext();
  ({ t, smtp } = context);
  const mk = async (path: string, payload: object, secret = t.adminSecret) => {
    const res = await send('post', path, payload, secret);
    if (res.status !== 201) throw new Error(`${path}: ${res.status} ${res.text}`);
    return res.body.data.id as string;
  };
  const ds = (name: string, secret?: string) => createTestDatasource(t, name, secret);
  dsA = await ds('A');
  dsB = await ds('B');
  dashboard = await mk('/dashboards', { data: { attributes: { name: 'Sales' } } });
  const report = (name: string, datasource: string) =>
    mk('/reports', {
      data: {
        attributes: { name, sql_query: 'SELECT 1 AS one' },
        relationships: { dashboard: { data: { type: 'dashboards', id: dashboard } }, datasource: { data: { type: 'datasources', id: datasource } } },
      },
    });
  reportA = await report('On A', dsA);
  reportB = await report('On B', dsB);
  const org = await t.services.organizations.create('Other Org');
  other = { secret: org.adminKey.secret, dashboard: await mk('/dashboards', { data: { attributes: { name: 'Theirs' } } }, org.adminKey.secret) };
});

afterAll(async () => {
  await context?.close();
});

describe('dashboard_schedules: CRUD (rows 39–43)', () => {
  it('creates with defaults, reads, updates partially, lists and deletes', async () => {
    const created = await send('post', '/dashboard_schedules', body(valid));
    expect(created.status).toBe(201);
    expectValidJsonApi(created.body);
    const { id, type, attributes, relationships } = created.body.data;
    expect(type).toBe('dashboard_schedules');
    expect(Object.keys(attributes)).toEqual([...dashboardScheduleFields.attributes]);
    expect(attributes).toMatchObject({
      ...valid,
      cc_emails: null,
      bcc_emails: null,
      subject_text: null,
      body_text: null,
      send_via: null,
      page_width: null,
      parameters: null,
      last_sent_at: null,
    });
    expect(relationships).toEqual({ dashboard: { data: { type: 'dashboards', id: dashboard } }, report: { data: null } });

    const all = {
      ...valid,
      cc_emails: 'cc@example.com, cc2@example.com',
      bcc_emails: 'bcc@example.com',
      subject_text: 'Numbers',
      body_text: 'Hello',
      send_via: 'email',
      page_width: 1200,
      parameters: { timerange: '~', aggregation: 'week', filters: [{ variable_name: 'region', selected_values: ['EU', 1, true, null] }] },
    };
    const updated = await send('patch', `/dashboard_schedules/${id}`, body({ ...all, name: 'Renamed', schedule: 'daily;9:00am,9:00pm' }, {}));
    expect(updated.status).toBe(200);
    expectValidJsonApi(updated.body);
    expect(updated.body.data.attributes).toMatchObject({ ...all, name: 'Renamed', schedule: 'daily;9:00am,9:00pm' });
    const partial = await send('patch', `/dashboard_schedules/${id}`, { data: { id, type: 'dashboard_schedules', attributes: { subject_text: null } } });
    expect(partial.status).toBe(200);
    expect(partial.body.data.attributes).toMatchObject({ name: 'Renamed', subject_text: null, cc_emails: all.cc_emails });
    // read-only attributes echoed from a GET are accepted and ignored
    const echoed = await send('patch', `/dashboard_schedules/${id}`, {
      data: { attributes: { ...partial.body.data.attributes, last_sent_at: '2020-01-01T00:00:00Z' } },
    });
    expect(echoed.status).toBe(200);
    expect(echoed.body.data.attributes.last_sent_at).toBeNull();

    const got = await send('get', `/dashboard_schedules/${id}?include=dashboard,report`);
    expect(got.status).toBe(200);
    expectValidJsonApi(got.body);
    expect(got.body.included.map((i: { type: string; id: string }) => `${i.type}:${i.id}`)).toEqual([`dashboards:${dashboard}`]);
    const list = await send('get', '/dashboard_schedules');
    expect(list.status).toBe(200);
    expectValidJsonApi(list.body);
    expect(list.body.data.map((d: { id: string }) => d.id)).toContain(id);
    expect((await send('delete', `/dashboard_schedules/${id}`)).status).toBe(204);
    const gone = await send('get', `/dashboard_schedules/${id}`);
    expect(gone.status).toBe(404);
    expectValidJsonApi(gone.body);
  });

  it('targets a report when given: the report wins over the dashboard', async () => {
    const res = await send(
      'post',
      '/dashboard_schedules',
      body(valid, { dashboard: { data: { type: 'dashboards', id: dashboard } }, report: { data: { type: 'reports', id: reportA } } }),
    );
    expect(res.status).toBe(201);
    expect(res.body.data.relationships).toEqual({ dashboard: { data: null }, report: { data: { type: 'reports', id: reportA } } });
    const got = await send('get', `/dashboard_schedules/${res.body.data.id}?include=report`);
    expect(got.body.included.map((i: { type: string; id: string }) => `${i.type}:${i.id}`)).toEqual([`reports:${reportA}`]);
    // a new dashboard alone switches the schedule back to the dashboard
    const back = await send('patch', `/dashboard_schedules/${res.body.data.id}`, {
      data: { relationships: { dashboard: { data: { type: 'dashboards', id: dashboard } } } },
    });
    expect(back.body.data.relationships).toEqual({ dashboard: { data: { type: 'dashboards', id: dashboard } }, report: { data: null } });
    // clearing the only target is a 422
    const none = await send('patch', `/dashboard_schedules/${res.body.data.id}`, { data: { relationships: { dashboard: { data: null } } } });
    expect(none.status).toBe(422);
  });

  it.each([
    [
      'a schedule with a wrong day',
      { schedule: 'weekly;0,7;06:00' },
      '/data/attributes/schedule',
      /day of week "7" \(part 2, item 2\) must be a whole number from 0 \(Monday\) to 6 \(Sunday\)/,
    ],
    ['a schedule with a wrong time', { schedule: 'daily;9:00am,25:00' }, '/data/attributes/schedule', /time of day "25:00" \(part 2, item 2\)/],
    ['an unknown frequency', { schedule: 'hourly;06:00' }, '/data/attributes/schedule', /part 1 "hourly" is not a frequency/],
    ['a bad address', { emails: 'ada@example.com, nope' }, '/data/attributes/emails', /"nope" \(address 2\) is not a valid e-mail address/],
    ['no address', { emails: ' ' }, '/data/attributes/emails', /needs at least one address/],
    ['a bad cc address', { cc_emails: 'x@' }, '/data/attributes/cc_emails', /"x@" \(address 1\)/],
    ['an unknown format', { attach_as: 'csv,docx' }, '/data/attributes/attach_as', /"docx" \(item 2\) is not a format/],
    ['a wrong type', { page_width: 'wide' }, '/data/attributes/page_width', /.+/],
    ['bad parameters', { parameters: { aggregation: 'fortnight' } }, '/data/attributes/parameters/aggregation', /.+/],
    ['an unknown attribute', { colour: 'red' }, '/data/attributes/colour', /`colour` is not a known attribute/],
  ])('422 for %s, pointing at it', async (_label, change, pointer, detail) => {
    const res = await send('post', '/dashboard_schedules', body({ ...valid, ...change }));
    expect(res.status).toBe(422);
    expectValidJsonApi(res.body);
    const error = res.body.errors.find((e: { source?: { pointer?: string } }) => e.source?.pointer === pointer);
    expect(error).toBeDefined();
    expect(error.detail).toMatch(detail);
  });

  it('422 for missing attributes, a missing target, and targets of other organizations', async () => {
    const missing = await send('post', '/dashboard_schedules', body({ name: 'x' }));
    expect(missing.status).toBe(422);
    expect(missing.body.errors.map((e: { source: { pointer: string } }) => e.source.pointer).sort()).toEqual([
      '/data/attributes/attach_as',
      '/data/attributes/emails',
      '/data/attributes/schedule',
    ]);
    expect((await send('post', '/dashboard_schedules', body(valid, {}))).status).toBe(422);
    const foreign = await send('post', '/dashboard_schedules', body(valid, { dashboard: { data: { type: 'dashboards', id: other.dashboard } } }));
    expect(foreign.status).toBe(422);
    expect(foreign.body.errors[0].source.pointer).toBe('/data/relationships/dashboard');
  });

  it('409 for a type or id that does not match, 400 for unknown include paths', async () => {
    const created = await send('post', '/dashboard_schedules', body(valid));
    const id = created.body.data.id;
    expect((await send('post', '/dashboard_schedules', { data: { ...body(valid).data, type: 'reports' } })).status).toBe(409);
    expect((await send('patch', `/dashboard_schedules/${id}`, { data: { id: 'aaaa-bbbb-cccc', type: 'dashboard_schedules', attributes: {} } })).status).toBe(
      409,
    );
    const bad = await send('get', `/dashboard_schedules/${id}?include=datasource`);
    expect(bad.status).toBe(400);
    expectValidJsonApi(bad.body);
  });
});

describe('permissions and tenant isolation', () => {
  it('View Dashboards reads, Manage Dashboards writes, others get 403', async () => {
    const created = await send('post', '/dashboard_schedules', body(valid));
    const id = created.body.data.id;
    const viewer = await key([{ name: 'View Dashboards' }]);
    expect((await send('get', '/dashboard_schedules', undefined, viewer)).status).toBe(200);
    expect((await send('get', `/dashboard_schedules/${id}`, undefined, viewer)).status).toBe(200);
    for (const res of [
      await send('post', '/dashboard_schedules', body(valid), viewer),
      await send('patch', `/dashboard_schedules/${id}`, { data: { attributes: { name: 'x' } } }, viewer),
      await send('delete', `/dashboard_schedules/${id}`, undefined, viewer),
      await t.api.post(`/dashboard_schedules/${id}/trigger`).set('Authorization', auth(viewer)),
    ]) {
      expect(res.status).toBe(403);
      expectValidJsonApi(res.body);
    }
    const alerts = await key([{ name: 'Manage Alerts' }]);
    expect((await send('get', '/dashboard_schedules', undefined, alerts)).status).toBe(403);
    expect((await send('get', `/dashboard_schedules/${id}`, undefined, alerts)).status).toBe(403);
  });

  it('a key scoped to datasource A neither sees nor targets reports on B', async () => {
    const onB = await send('post', '/dashboard_schedules', body(valid, { report: { data: { type: 'reports', id: reportB } } }));
    expect(onB.status).toBe(201);
    const scoped = await key([{ name: 'Manage Dashboards', datasource_ids: [dsA] }]);
    expect((await send('get', `/dashboard_schedules/${onB.body.data.id}`, undefined, scoped)).status).toBe(404);
    expect((await send('get', '/dashboard_schedules', undefined, scoped)).body.data.map((d: { id: string }) => d.id)).not.toContain(onB.body.data.id);
    expect((await send('patch', `/dashboard_schedules/${onB.body.data.id}`, { data: { attributes: { name: 'x' } } }, scoped)).status).toBe(404);
    const target = await send('post', '/dashboard_schedules', body(valid, { report: { data: { type: 'reports', id: reportB } } }), scoped);
    expect(target.status).toBe(422);
    expect(target.body.errors[0].source.pointer).toBe('/data/relationships/report');
    expect((await send('post', '/dashboard_schedules', body(valid, { report: { data: { type: 'reports', id: reportA } } }), scoped)).status).toBe(201);
  });

  it('another organization sees nothing: 404 on every route', async () => {
    const id = (await send('post', '/dashboard_schedules', body(valid))).body.data.id;
    expect((await send('get', '/dashboard_schedules', undefined, other.secret)).body.data.map((d: { id: string }) => d.id)).not.toContain(id);
    for (const res of [
      await send('get', `/dashboard_schedules/${id}`, undefined, other.secret),
      await send('patch', `/dashboard_schedules/${id}`, { data: { attributes: { name: 'x' } } }, other.secret),
      await send('delete', `/dashboard_schedules/${id}`, undefined, other.secret),
      await t.api.post(`/dashboard_schedules/${id}/trigger`).set('Authorization', auth(other.secret)),
    ]) {
      expect(res.status).toBe(404);
      expectValidJsonApi(res.body);
    }
    expect((await send('get', `/dashboard_schedules/${id}`)).status).toBe(200);
  });
});

describe('Trigger Dashboard Schedule (row 44)', () => {
  it('runs a disabled schedule now: 204, one mail, last_sent_at set', async () => {
    const created = await send(
      'post',
      '/dashboard_schedules',
      body({ ...valid, schedule: 'disabled', attach_as: 'csv', emails: 'trigger@example.com', subject_text: 'Triggered by hand' }),
    );
    const id = created.body.data.id;
    const res = await t.api.post(`/dashboard_schedules/${id}/trigger`).set('Authorization', auth(t.adminSecret));
    expect(res.status).toBe(204);
    await waitUntil(
      'the run to be sent',
      async () => ({ runs: await openScheduleRuns(t.database.db), mails: await openJobs(t.database.db, MAIL_SEND_QUEUE) }),
      (v) => v.runs === 0 && v.mails === 0,
    );
    const mails = smtp.received.filter((m) => m.recipients.includes('trigger@example.com'));
    expect(mails).toHaveLength(1);
    const parsed = await parseMail(mails[0]!);
    expect(parsed.subject).toBe('Triggered by hand');
    expect(parsed.attachments.map((a) => a.filename).sort()).toEqual(['sales-on-a.csv', 'sales-on-b.csv']);
    const got = await send('get', `/dashboard_schedules/${id}`);
    expect(Date.parse(got.body.data.attributes.last_sent_at)).toBeGreaterThan(Date.parse(got.body.data.attributes.created_at) - 1);
  });
});
