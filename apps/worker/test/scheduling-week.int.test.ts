// A week of schedules replayed with an injected clock, one tick per minute, in an organization in
// Europe/Berlin whose week contains the spring-forward night (2027-03-28, 02:00 → 03:00): every
// schedule sends exactly the mails it should, with the right attachments.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MAIL_SEND_QUEUE, SQL_ALERT_RUN_QUEUE, type Principal } from '@sightline/domain';
import type { PlatformTestContext } from '../../../test/support/platform.js';
import type { TestSmtpServer } from '../../../test/support/smtp-server.js';
import {
  TestClock,
  createTestDatasource,
  openJobs,
  openScheduleRuns,
  parseMail,
  startSchedulingTestContext,
  tickScheduling,
  waitUntil,
  type SchedulingTestContext,
} from '../../../test/support/scheduling.js';

const auth = (secret: string) => `Api ${secret}`;
const MINUTE = 60_000;

let t: PlatformTestContext;
let smtp: TestSmtpServer;
let context: SchedulingTestContext;
let clock: TestClock;
let berlin: Principal;
let secret: string;
let organizationId: string;

beforeAll(async () => {
  // Monday 2027-03-22 00:00 in Berlin (CET, UTC+1)
  clock = new TestClock('2027-03-21T23:00:00Z');
  context = await startSchedulingTestContext({ clock });
  ({ t, smtp } = context);
  const created = await t.services.organizations.create('Berlin GmbH', { timeZone: 'Europe/Berlin' });
  organizationId = created.organization.id;
  secret = created.adminKey.secret;
  berlin = await t.services.apiKeys.authenticate(auth(secret));
});

afterAll(async () => {
  await context?.close();
});

describe('a week of schedules', () => {
  it('sends exactly the mails it should, across the spring-forward night', async () => {
    const post = async (path: string, body: object) => {
      const res = await t.api.post(path).set('Authorization', auth(secret)).send(body);
      if (res.status !== 201) throw new Error(`${path}: ${res.status} ${res.text}`);
      return res.body.data.id as string;
    };
    const datasourceId = await createTestDatasource(t, 'PG', secret);
    const dashboardId = await post('/dashboards', { data: { attributes: { name: 'Weekly numbers' } } });
    const reportId = await post('/reports', {
      data: {
        attributes: { name: 'Orders', sql_query: "SELECT 'a' AS region, 3 AS orders UNION ALL SELECT 'b', 4" },
        relationships: { dashboard: { data: { type: 'dashboards', id: dashboardId } }, datasource: { data: { type: 'datasources', id: datasourceId } } },
      },
    });
    const schedules = t.services.dashboardSchedules;
    const mk = (name: string, schedule: string, attachAs: string, target: { dashboardId?: string; reportId?: string }) =>
      schedules.create(berlin, { name, emails: `${name}@example.com`, attachAs, schedule, ...target });
    const daily = await mk('daily', 'daily;02:30', 'csv', { dashboardId });
    await mk('weekly', 'weekly;0,2,4;9:00am,5:30pm', 'excel', { reportId });
    await mk('monthly', 'monthly;25,31;18:00', 'pdf', { dashboardId });
    const disabled = await mk('disabled', 'disabled', 'csv', { reportId });
    const changed = await mk('changed', 'daily;12:00', '', { dashboardId });
    const deleted = await mk('deleted', 'daily;06:00', '', { dashboardId });
    const alert = await t.services.sqlAlerts.create(berlin, {
      name: 'Morning check',
      sqlQuery: 'SELECT 1 AS one',
      runSchedule: 'at',
      runAt: '8:00am',
      emailCondition: 'all',
      emails: 'alert@example.com',
      attachAs: 'csv',
      datasourceId,
    });
    // what happens during the week, besides ticking
    const events = new Map<number, () => Promise<unknown>>([
      [Date.parse('2027-03-24T11:00:00Z'), () => schedules.trigger(berlin, disabled.id)], // Wed 12:00
      [Date.parse('2027-03-24T09:00:00Z'), () => schedules.delete(berlin, deleted.id)], // Wed 10:00
      [Date.parse('2027-03-24T23:00:00Z'), () => schedules.update(berlin, changed.id, { schedule: 'daily;20:00' })], // Thu 00:00
    ]);
    // Hours pass between a due time and the next event; the replayed clock does not wait, so before
    // an event the test lets the platform finish what it started (as it would have in those hours).
    const settle = () =>
      waitUntil(
        'every run to be sent',
        async () => ({
          runs: await openScheduleRuns(t.database.db),
          alerts: await openJobs(t.database.db, SQL_ALERT_RUN_QUEUE),
          mails: await openJobs(t.database.db, MAIL_SEND_QUEUE),
        }),
        (v) => v.runs === 0 && v.alerts === 0 && v.mails === 0,
        240_000,
      );
    const end = Date.parse('2027-03-28T22:00:00Z'); // Monday 2027-03-29 00:00 CEST
    for (let now = clock.now().getTime(); now < end; now += MINUTE) {
      clock.set(new Date(now));
      const event = events.get(now);
      if (event) {
        await settle();
        await event();
      }
      await tickScheduling(t);
    }
    await settle();

    const received = await Promise.all(smtp.received.map(async (m) => ({ to: m.recipients[0]!, mail: await parseMail(m) })));
    const asOf = (name: string) =>
      received
        .filter((r) => r.to === `${name}@example.com`)
        .map((r) => /as of (\S+ \S+) \(Europe\/Berlin\)/.exec(r.mail.text ?? '')?.[1] ?? r.mail.text)
        .sort();
    const days = (time: string, from = 22, to = 28) => Array.from({ length: to - from + 1 }, (_, i) => `2027-03-${from + i} ${time}`);
    // 02:30 does not exist on Sunday the 28th: it fires once, at 03:00
    expect(asOf('daily')).toEqual([...days('02:30', 22, 27), '2027-03-28 03:00']);
    expect(asOf('weekly')).toEqual(['2027-03-22 09:00', '2027-03-22 17:30', '2027-03-24 09:00', '2027-03-24 17:30', '2027-03-26 09:00', '2027-03-26 17:30']);
    expect(asOf('monthly')).toEqual(['2027-03-25 18:00']);
    expect(asOf('disabled')).toEqual(['2027-03-24 12:00']);
    expect(asOf('changed')).toEqual([...days('12:00', 22, 24), ...days('20:00', 25, 28)]);
    expect(asOf('deleted')).toEqual(days('06:00', 22, 24));
    const alertRuns: Array<{ run_key: string }> = await t.database.db('sql_alert_runs').where({ sql_alert_id: alert.id }).orderBy('due_at').select('run_key');
    // 08:00 in Berlin: 07:00Z in CET, 06:00Z on Sunday (CEST)
    expect(alertRuns.map((r) => r.run_key)).toEqual([...[22, 23, 24, 25, 26, 27].map((d) => `due:2027-03-${d}T07:00:00.000Z`), 'due:2027-03-28T06:00:00.000Z']);
    expect(received.filter((r) => r.to === 'alert@example.com')).toHaveLength(7);
    expect(received).toHaveLength(7 + 6 + 1 + 1 + 7 + 3 + 7);

    // attachments, as a mail client sees them
    for (const r of received) {
      const files = r.mail.attachments.map((a) => `${a.filename}:${a.contentType}`);
      const expected: Record<string, string[]> = {
        'daily@example.com': ['weekly-numbers-orders.csv:text/csv'],
        'weekly@example.com': ['orders.xlsx:application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
        'monthly@example.com': ['weekly-numbers.pdf:application/pdf'],
        'disabled@example.com': ['orders.csv:text/csv'],
        'changed@example.com': [],
        'deleted@example.com': [],
        'alert@example.com': ['morning-check.csv:text/csv'],
      };
      expect(files).toEqual(expected[r.to]);
    }
    const csv = received.find((r) => r.to === 'daily@example.com')!.mail.attachments[0]!.content.toString('utf8');
    expect(csv).toBe('region,orders\r\na,3\r\nb,4\r\n');
    const pdf = received.find((r) => r.to === 'monthly@example.com')!.mail.attachments[0]!.content;
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const last = await schedules.get(berlin, daily.id);
    expect(last.lastSentAt).not.toBeNull();
    expect(last.nextDueAt?.toISOString()).toBe('2027-03-29T00:30:00.000Z');
    expect(organizationId).toBe(berlin.organizationId);
  }, 600_000);
});
