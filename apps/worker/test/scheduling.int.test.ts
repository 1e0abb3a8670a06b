import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MAIL_SEND_QUEUE, type Principal } from '@sightline/domain';
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

let t: PlatformTestContext;
let smtp: TestSmtpServer;
let context: SchedulingTestContext;
let clock: TestClock;
let admin: Principal;
let datasourceId: string;
let dashboardId: string;
let reportId: string;

const tick = () => tickScheduling(t);

/** Waits until every run is sent and no mail job is left: then the mail count is final. */
async function settle(): Promise<void> {
  await waitUntil(
    'schedule runs to be sent',
    async () => ({ runs: await openScheduleRuns(t.database.db), mails: await openJobs(t.database.db, MAIL_SEND_QUEUE) }),
    (v) => v.runs === 0 && v.mails === 0,
  );
}

beforeAll(async () => {
  clock = new TestClock('2027-03-22T08:00:00Z');
  context = await startSchedulingTestContext({ clock });
  ({ t, smtp } = context);
  admin = await t.services.apiKeys.authenticate(auth(t.adminSecret));
  const post = async (path: string, body: object) => {
    const res = await t.api.post(path).set('Authorization', auth(t.adminSecret)).send(body);
    if (res.status !== 201) throw new Error(`${path}: ${res.status} ${res.text}`);
    return res.body.data.id as string;
  };
  datasourceId = await createTestDatasource(t);
  dashboardId = await post('/dashboards', { data: { attributes: { name: 'Sales overview' } } });
  reportId = await post('/reports', {
    data: {
      attributes: { name: 'Revenue', sql_query: 'SELECT g AS day, g * 10 AS revenue FROM generate_series(1, 5) g' },
      relationships: { dashboard: { data: { type: 'dashboards', id: dashboardId } }, datasource: { data: { type: 'datasources', id: datasourceId } } },
    },
  });
});

afterAll(async () => {
  await context?.close();
});

describe('firing', () => {
  it('a due time fires once: one run, one mail, last_sent_at set when handed to SMTP', async () => {
    clock.set('2027-03-22T08:00:00Z');
    const schedule = await t.services.dashboardSchedules.create(admin, {
      name: 'Morning mail',
      emails: 'ada@example.com, bob@example.com',
      ccEmails: 'cc@example.com',
      bccEmails: 'bcc@example.com',
      attachAs: '',
      schedule: 'daily;09:00',
      dashboardId,
    });
    expect(schedule.nextDueAt?.toISOString()).toBe('2027-03-22T09:00:00.000Z');
    clock.set('2027-03-22T08:59:59Z');
    await tick();
    expect(await t.services.dashboardSchedules.listRuns(t.organization.id, schedule.id)).toEqual([]);
    clock.set('2027-03-22T09:00:00Z');
    const before = smtp.received.length;
    // several ticks at once and again later (the worker's cron tick may join in): one run
    await Promise.all([tick(), tick(), tick()]);
    clock.set('2027-03-22T09:00:40Z');
    await tick();
    await settle();
    expect(smtp.received.length - before).toBe(1);
    const mail = smtp.received[smtp.received.length - 1]!;
    expect(mail.recipients.sort()).toEqual(['ada@example.com', 'bcc@example.com', 'bob@example.com', 'cc@example.com']);
    const parsed = await parseMail(mail);
    expect(parsed.subject).toBe('Sales overview – Morning mail');
    expect(parsed.text).toContain('The dashboard "Sales overview" as of 2027-03-22 09:00 (UTC).');
    expect(parsed.headers.get('bcc')).toBeUndefined();
    const runs = await t.services.dashboardSchedules.listRuns(t.organization.id, schedule.id);
    expect(runs.map((r) => [r.runKey, r.status])).toEqual([['due:2027-03-22T09:00:00.000Z', 'sent']]);
    const after = await t.services.dashboardSchedules.get(admin, schedule.id);
    expect(after.lastSentAt?.toISOString()).toBe(runs[0]!.sentAt!.toISOString());
    expect(after.nextDueAt?.toISOString()).toBe('2027-03-23T09:00:00.000Z');
    await t.services.dashboardSchedules.delete(admin, schedule.id);
  });
});

describe('attachments', () => {
  it('every attach_as format of a dashboard arrives, rendered by @sightline/render; inline PNGs are in the body', async () => {
    clock.set('2027-03-22T10:00:00Z');
    const schedule = await t.services.dashboardSchedules.create(admin, {
      name: 'All formats',
      emails: 'formats@example.com',
      attachAs: 'excel,csv,png,dark_png,inline_png,dark_inline_png,pdf,dark_pdf',
      schedule: 'disabled',
      dashboardId,
    });
    const before = smtp.received.length;
    await t.services.dashboardSchedules.trigger(admin, schedule.id);
    await settle();
    expect(smtp.received.length - before).toBe(1);
    const parsed = await parseMail(smtp.received[smtp.received.length - 1]!);
    const byName = new Map(parsed.attachments.map((a) => [a.filename ?? a.cid, a]));
    const regular = parsed.attachments
      .filter((a) => a.contentDisposition === 'attachment')
      .map((a) => a.filename)
      .sort();
    expect(regular).toEqual([
      'sales-overview-dark.pdf',
      'sales-overview-dark.png',
      'sales-overview-revenue.csv',
      'sales-overview.pdf',
      'sales-overview.png',
      'sales-overview.xlsx',
    ]);
    expect(byName.get('sales-overview.pdf')!.content.subarray(0, 5).toString()).toBe('%PDF-');
    expect(byName.get('sales-overview.pdf')!.contentType).toBe('application/pdf');
    const png = byName.get('sales-overview.png')!.content;
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(byName.get('sales-overview-dark.png')!.content.equals(png)).toBe(false);
    // inline variants: referenced from the HTML by Content-ID
    const inline = parsed.attachments.filter((a) => a.contentDisposition === 'inline');
    expect(inline).toHaveLength(2);
    for (const a of inline) {
      expect(a.contentType).toBe('image/png');
      expect(parsed.html).toContain(`src="cid:${a.cid}"`);
    }
    // CSV: exactly what PostgreSQL returns
    const direct = await t.database.db.raw('SELECT g AS day, g * 10 AS revenue FROM generate_series(1, 5) g');
    const csv = byName.get('sales-overview-revenue.csv')!.content.toString('utf8');
    expect(csv).toBe(['day,revenue', ...direct.rows.map((r: { day: number; revenue: number }) => `${r.day},${r.revenue}`), ''].join('\r\n'));
    // Excel: one sheet per report with the same values
    const ExcelJS = (await import('exceljs')).default;
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(byName.get('sales-overview.xlsx')!.content as unknown as ArrayBuffer);
    const sheet = book.worksheets[0]!;
    expect(sheet.name).toBe('Revenue');
    const values = sheet
      .getSheetValues()
      .slice(1)
      .map((row) => (row as unknown[]).slice(1));
    expect(values).toEqual([['day', 'revenue'], ...direct.rows.map((r: { day: number; revenue: number }) => [r.day, r.revenue])]);
    await t.services.dashboardSchedules.delete(admin, schedule.id);
  });

  it('a report schedule attaches that report only, the report wins over the dashboard', async () => {
    const schedule = await t.services.dashboardSchedules.create(admin, {
      name: 'Revenue only',
      emails: 'report@example.com',
      attachAs: 'csv,png',
      schedule: 'disabled',
      dashboardId,
      reportId,
    });
    expect(schedule).toMatchObject({ reportId, dashboardId: null });
    const before = smtp.received.length;
    await t.services.dashboardSchedules.trigger(admin, schedule.id);
    await settle();
    expect(smtp.received.length - before).toBe(1);
    const parsed = await parseMail(smtp.received[smtp.received.length - 1]!);
    expect(parsed.subject).toBe('Revenue – Revenue only');
    expect(parsed.attachments.map((a) => a.filename).sort()).toEqual(['revenue.csv', 'revenue.png']);
    await t.services.dashboardSchedules.delete(admin, schedule.id);
  });
});
