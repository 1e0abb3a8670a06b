import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { MAIL_SEND_QUEUE, type Principal, type SqlAlert, type CreateSqlAlertInput } from '@sightline/domain';
import type { PlatformTestContext } from '../../../test/support/platform.js';
import type { TestSmtpServer } from '../../../test/support/smtp-server.js';
import {
  TestClock,
  createTestDatasource,
  openJobs,
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
let direct: pg.Client;
const TABLE = `alert_values_${process.pid}`;

async function setValues(values: Array<string | null>): Promise<void> {
  await direct.query(`TRUNCATE ${TABLE}`);
  for (const v of values) await direct.query(`INSERT INTO ${TABLE} (v) VALUES ($1)`, [v]);
}

interface RunRow {
  id: string;
  status: string;
  result_status: string | null;
  mail_audience: string | null;
  mail_job_id: string | null;
  execution_id: string | null;
}

/** Waits until every run of the alert is evaluated and its mail (if any) handed over; returns the runs, oldest first. */
async function settledRuns(alertId: string): Promise<RunRow[]> {
  await waitUntil(
    'alert runs to settle',
    async () => {
      const rows: RunRow[] = await t.database.db('sql_alert_runs').where({ sql_alert_id: alertId });
      const open = rows.filter((r) => r.status !== 'evaluated' || (r.mail_audience !== null && r.mail_job_id === null)).length;
      return { open, mails: await openJobs(t.database.db, MAIL_SEND_QUEUE) };
    },
    (v) => v.open === 0 && v.mails === 0,
  );
  return t.database.db('sql_alert_runs').where({ sql_alert_id: alertId }).orderBy('result_seq');
}

/** Run SQL Alert Query, then wait for its evaluation; returns the new run and the mails it sent. */
async function runOnce(alert: SqlAlert): Promise<{ run: RunRow; mails: typeof smtp.received }> {
  const before = smtp.received.length;
  const execution = await t.services.sqlAlerts.run(admin, alert.id);
  const runs = await settledRuns(alert.id);
  const run = runs.find((r) => r.execution_id === execution.id)!;
  expect(run).toBeDefined();
  return { run, mails: smtp.received.slice(before) };
}

const create = (input: Partial<CreateSqlAlertInput>) =>
  t.services.sqlAlerts.create(admin, {
    name: 'Big orders',
    sqlQuery: `SELECT v FROM ${TABLE}`,
    runSchedule: 'disabled',
    emailCondition: 'triggered',
    emails: 'ops@example.com',
    datasourceId,
    ...input,
  });

beforeAll(async () => {
  clock = new TestClock('2027-03-22T08:00:00Z');
  context = await startSchedulingTestContext({ clock });
  ({ t, smtp } = context);
  admin = await t.services.apiKeys.authenticate(auth(t.adminSecret));
  datasourceId = await createTestDatasource(t);
  direct = new pg.Client({ connectionString: t.database.url });
  await direct.connect();
  await direct.query(`CREATE TABLE ${TABLE} (v text)`);
});

afterAll(async () => {
  await direct?.end();
  await context?.close();
});

beforeEach(() => clock.advance(60_000));

describe('trigger conditions on the first column of the first row', () => {
  const cases: Array<[string, Partial<CreateSqlAlertInput>, Array<string | null>, string]> = [
    ['has_results with rows', { triggerCondition: 'has_results' }, ['1'], 'alert_triggered'],
    ['has_results without rows', { triggerCondition: 'has_results' }, [], 'ok'],
    ['no_results without rows', { triggerCondition: 'no_results' }, [], 'alert_triggered'],
    ['no_results with rows', { triggerCondition: 'no_results' }, ['x'], 'ok'],
    ['greater_than hit', { triggerCondition: 'greater_than', triggerValue: 10 }, ['10.5', '1'], 'alert_triggered'],
    ['greater_than miss', { triggerCondition: 'greater_than', triggerValue: 10 }, ['10'], 'ok'],
    ['lower_than hit', { triggerCondition: 'lower_than', triggerValue: 0 }, ['-3'], 'alert_triggered'],
    ['lower_than miss', { triggerCondition: 'lower_than', triggerValue: 0 }, ['0'], 'ok'],
    ['equal hit', { triggerCondition: 'equal', triggerValue: 42 }, ['42'], 'alert_triggered'],
    ['equal miss', { triggerCondition: 'equal', triggerValue: 42 }, ['41.9'], 'ok'],
    ['not_equal hit', { triggerCondition: 'not_equal', triggerValue: 42 }, ['7'], 'alert_triggered'],
    ['not_equal miss', { triggerCondition: 'not_equal', triggerValue: 42 }, ['42'], 'ok'],
    ['non-numeric value', { triggerCondition: 'greater_than', triggerValue: 1 }, ['many'], 'alert_error'],
    ['NULL value', { triggerCondition: 'equal', triggerValue: 1 }, [null], 'alert_error'],
    ['no row to compare', { triggerCondition: 'lower_than', triggerValue: 1 }, [], 'alert_error'],
  ];
  it.each(cases)('%s', async (_name, input, values, status) => {
    await setValues(values);
    const alert = await create({ ...input, emailCondition: 'all' });
    const { run, mails } = await runOnce(alert);
    expect(run.result_status).toBe(status);
    const after = await t.services.sqlAlerts.get(admin, alert.id);
    expect(after).toMatchObject({ lastResultStatus: status, runningExecutionId: null, lastQueryErrorMessage: null });
    expect(after.lastQuerySuccess).not.toBeNull();
    expect(after.lastErrorMessage === null).toBe(status !== 'alert_error');
    // email_condition all: one mail per run, the subject says what happened
    expect(mails).toHaveLength(1);
    const parsed = await parseMail(mails[0]!);
    expect(parsed.subject).toBe(
      status === 'alert_triggered' ? 'Alert triggered: Big orders' : status === 'ok' ? 'Alert OK: Big orders' : 'Alert failed (alert_error): Big orders',
    );
    await t.services.sqlAlerts.delete(admin, alert.id);
  });
});

describe('email conditions', () => {
  it('triggered: a mail for each run whose condition holds', async () => {
    const alert = await create({ triggerCondition: 'greater_than', triggerValue: 10, emailCondition: 'triggered' });
    const sent: number[] = [];
    for (const v of ['20', '30', '5', '40']) {
      await setValues([v]);
      sent.push((await runOnce(alert)).mails.length);
    }
    expect(sent).toEqual([1, 1, 0, 1]);
  });

  it('changed: only when the evaluation flips, across three runs', async () => {
    const alert = await create({ triggerCondition: 'greater_than', triggerValue: 10, emailCondition: 'changed' });
    const subjects: string[] = [];
    for (const v of ['20', '30', '5']) {
      await setValues([v]);
      const { run, mails } = await runOnce(alert);
      subjects.push(`${run.result_status}:${mails.length ? (await parseMail(mails[0]!)).subject : '-'}`);
    }
    expect(subjects).toEqual(['alert_triggered:Alert triggered: Big orders', 'alert_triggered:-', 'ok:Alert no longer triggered: Big orders']);
  });

  it('all: every run mails', async () => {
    const alert = await create({ triggerCondition: 'has_results', emailCondition: 'all' });
    const sent: number[] = [];
    for (const values of [['a'], [], ['b']]) {
      await setValues(values);
      sent.push((await runOnce(alert)).mails.length);
    }
    expect(sent).toEqual([1, 1, 1]);
  });
});

describe('errors', () => {
  it('a query error goes to error_emails instead of the regular recipients', async () => {
    const alert = await create({
      sqlQuery: 'SELECT 1 / 0 AS boom',
      emails: 'ops@example.com',
      ccEmails: 'cc@example.com',
      errorEmails: 'dba@example.com, oncall@example.com',
    });
    const { run, mails } = await runOnce(alert);
    expect(run.result_status).toBe('query_error');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.recipients.sort()).toEqual(['dba@example.com', 'oncall@example.com']);
    const parsed = await parseMail(mails[0]!);
    expect(parsed.subject).toBe('Alert failed (query_error): Big orders');
    expect(parsed.text).toMatch(/division by zero/);
    const after = await t.services.sqlAlerts.get(admin, alert.id);
    expect(after.lastResultStatus).toBe('query_error');
    expect(after.lastQueryErrorMessage).toMatch(/division by zero/);
    expect(after.lastErrorMessage).toBeNull();
    expect(after.lastQuerySuccess).toBeNull();
  });

  it('without error_emails, errors go to the regular recipients', async () => {
    const alert = await create({ sqlQuery: `SELECT no_such_column FROM ${TABLE}`, emails: 'ops@example.com' });
    const { run, mails } = await runOnce(alert);
    expect(run.result_status).toBe('query_error');
    expect(mails.map((m) => m.recipients)).toEqual([['ops@example.com']]);
  });

  it('an evaluation error also goes to error_emails, and is last_error_message', async () => {
    await setValues(['n/a']);
    const alert = await create({ triggerCondition: 'equal', triggerValue: 3, errorEmails: 'dba@example.com' });
    const { run, mails } = await runOnce(alert);
    expect(run.result_status).toBe('alert_error');
    expect(mails.map((m) => m.recipients)).toEqual([['dba@example.com']]);
    const after = await t.services.sqlAlerts.get(admin, alert.id);
    expect(after.lastErrorMessage).toBe('The first column of the first row is "n/a", not a number; equal needs a numeric result');
    expect(after.lastQueryErrorMessage).toBeNull();
  });
});

describe('scheduled runs', () => {
  it('every N minutes: one run per due time, whatever the number of ticks', async () => {
    await setValues(['1']);
    clock.set('2027-03-22T10:03:00Z');
    const alert = await create({ runSchedule: 'every', runEvery: 10, emailCondition: 'all' });
    expect(alert.nextRunAt?.toISOString()).toBe('2027-03-22T10:10:00.000Z');
    const before = smtp.received.length;
    for (const at of ['10:09:59', '10:10:00', '10:10:30', '10:15:00', '10:20:00', '10:20:01']) {
      clock.set(`2027-03-22T${at}Z`);
      await tickScheduling(t);
    }
    const runs = await settledRuns(alert.id);
    // Runs of different due times may finish in either order; what matters is one run per due time.
    expect(runs.map((r) => (r as unknown as { run_key: string }).run_key).sort()).toEqual(['due:2027-03-22T10:10:00.000Z', 'due:2027-03-22T10:20:00.000Z']);
    expect(smtp.received.length - before).toBe(2);
  });
});

describe('attachments', () => {
  it('attach_as excel: the result as a workbook; errors carry no attachment', async () => {
    await setValues(['7', '8']);
    const alert = await create({ attachAs: 'excel', emailCondition: 'all', errorEmails: 'dba@example.com' });
    const { mails } = await runOnce(alert);
    const parsed = await parseMail(mails[0]!);
    expect(parsed.attachments.map((a) => a.filename)).toEqual(['big-orders.xlsx']);
    const ExcelJS = (await import('exceljs')).default;
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(parsed.attachments[0]!.content as unknown as ArrayBuffer);
    const rows = book.worksheets[0]!.getSheetValues()
      .slice(1)
      .map((row) => (row as unknown[]).slice(1));
    const direct = await directRows();
    expect(rows).toEqual([['v'], ...direct]);
    await t.services.sqlAlerts.update(admin, alert.id, { sqlQuery: 'SELECT 1 / 0' });
    const failed = await runOnce(alert);
    expect(failed.mails.map((m) => m.recipients)).toEqual([['dba@example.com']]);
    expect((await parseMail(failed.mails[0]!)).attachments).toEqual([]);
  });
});

async function directRows(): Promise<unknown[][]> {
  const res = await direct.query({ text: `SELECT v FROM ${TABLE}`, rowMode: 'array' });
  return res.rows as unknown[][];
}
