// Real worker processes (`npm run start:worker`, the README's command) against one database: a due
// schedule fires exactly once with two of them running, once after downtime, and once when a worker
// is killed in the middle of a run or of the SMTP conversation.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { MAIL_SEND_QUEUE, SCHEDULING_TICK_QUEUE, type DashboardSchedule, type Principal } from '@sightline/domain';
import { createPlatformTestContext, type PlatformTestContext } from '../../../test/support/platform.js';
import { startTestSmtpServer, type TestSmtpServer } from '../../../test/support/smtp-server.js';
import { TEST_ENCRYPTION_KEY } from '../../../test/support/context.js';
import { createTestDatasource, openJobs, parseMail, waitUntil } from '../../../test/support/scheduling.js';

const auth = (secret: string) => `Api ${secret}`;

let t: PlatformTestContext;
let smtp: TestSmtpServer;
let supervisor: PgBoss;
let admin: Principal;
let datasourceId: string;
let emptyDashboard: string;
const workers = new Set<ChildProcess>();

interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

/** Starts `npm run start:worker` (its script, run by this node) against the test database. */
async function startWorkerProcess(): Promise<WorkerProcess> {
  const [program, ...args] = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts['start:worker']!.split(/\s+/);
  expect(program).toBe('node');
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      DATABASE_URL: t.database.url,
      SIGHTLINE_DATA_TOKEN_SECRET: 'test-data-token-secret-at-least-32-chars',
      SIGHTLINE_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY.toString('hex'),
      SMTP_URL: smtp.url,
      LOG_LEVEL: 'warn',
      WORKER_CONCURRENCY: '2',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  workers.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitUntil(
    'the worker to start',
    async () => ({ ready: /Worker ready/.test(out), exit: child.exitCode }),
    (v) => {
      if (v.exit !== null) throw new Error(`worker exited with ${v.exit}:\n${out}`);
      return v.ready;
    },
    90_000,
  );
  return { child, output: () => out, exited };
}

async function kill(w: WorkerProcess, signal: NodeJS.Signals): Promise<void> {
  w.child.kill(signal);
  await w.exited;
  workers.delete(w.child);
}

/** A schedule whose due time passed `missedDays` days ago (as if the platform had been down since). */
async function dueSchedule(name: string, dashboardId: string, schedule: string, missedSince: Date): Promise<DashboardSchedule> {
  const created = await t.services.dashboardSchedules.create(admin, {
    name,
    emails: `${name.toLowerCase().replace(/\W+/g, '-')}@example.com`,
    attachAs: '',
    schedule,
    dashboardId,
  });
  await t.database.db('dashboard_schedules').where({ id: created.id }).update({ next_due_at: missedSince });
  return created;
}

async function runsOf(scheduleId: string): Promise<Array<{ run_key: string; status: string; attempts: number }>> {
  return t.database.db('dashboard_schedule_runs').where({ dashboard_schedule_id: scheduleId }).orderBy('created_at').select('run_key', 'status', 'attempts');
}

/** Waits until the schedule's runs are all sent and no mail job is left; then the mail count is final. */
async function settled(scheduleId: string, runs: number): Promise<void> {
  await waitUntil(
    `${runs} run(s) of ${scheduleId} to be sent`,
    async () => ({ runs: await runsOf(scheduleId), mails: await openJobs(t.database.db, MAIL_SEND_QUEUE) }),
    (v) => v.runs.length === runs && v.runs.every((r) => r.status === 'sent') && v.mails === 0,
    120_000,
  );
}

const mailsTo = (address: string) => smtp.received.filter((m) => m.recipients.includes(address));

beforeAll(async () => {
  smtp = await startTestSmtpServer();
  t = await createPlatformTestContext({ worker: false });
  // Expires jobs whose worker stopped sending heartbeats every second (a worker's own supervisor does
  // it once a minute), so the tests need not wait for the default interval.
  supervisor = new PgBoss({
    connectionString: t.database.url,
    supervise: true,
    schedule: false,
    superviseIntervalSeconds: 1,
    monitorIntervalSeconds: 1,
    max: 2,
  });
  supervisor.on('error', () => {});
  await supervisor.start();
  admin = await t.services.apiKeys.authenticate(auth(t.adminSecret));
  const post = async (path: string, body: object) => {
    const res = await t.api.post(path).set('Authorization', auth(t.adminSecret)).send(body);
    if (res.status !== 201) throw new Error(`${path}: ${res.status} ${res.text}`);
    return res.body.data.id as string;
  };
  datasourceId = await createTestDatasource(t);
  emptyDashboard = await post('/dashboards', { data: { attributes: { name: 'Empty' } } });
}, 120_000);

afterAll(async () => {
  for (const child of workers) child.kill('SIGKILL');
  await supervisor?.stop({ graceful: false, close: true });
  await t?.close();
  await smtp?.close();
});

/** The latest 06:00 UTC at or before `now`. */
function latestSixAm(now: Date): Date {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 6, 0));
  return d.getTime() <= now.getTime() ? d : new Date(d.getTime() - 86_400_000);
}

describe('worker processes', () => {
  let a: WorkerProcess;

  it('two workers: a schedule due while everything was down fires exactly once when they start', async () => {
    const schedule = await dueSchedule('Catch up', emptyDashboard, 'daily;06:00', new Date(Date.now() - 3 * 86_400_000));
    const [first, second] = await Promise.all([startWorkerProcess(), startWorkerProcess()]);
    a = first!;
    const now = new Date();
    await settled(schedule.id, 1);
    // more ticks from both processes change nothing
    for (let i = 0; i < 6; i++) await t.boss.send(SCHEDULING_TICK_QUEUE, {});
    await waitUntil(
      'ticks to be handled',
      () => openJobs(t.database.db, SCHEDULING_TICK_QUEUE),
      (n) => n === 0,
    );
    await settled(schedule.id, 1);
    expect((await runsOf(schedule.id)).map((r) => r.run_key)).toEqual([`due:${latestSixAm(now).toISOString()}`]);
    expect(mailsTo('catch-up@example.com')).toHaveLength(1);
    const row = await t.database.db('dashboard_schedules').where({ id: schedule.id }).first();
    expect(row.last_sent_at).not.toBeNull();
    expect(row.next_due_at.getTime()).toBe(latestSixAm(now).getTime() + 86_400_000);
    await kill(second!, 'SIGTERM');
  }, 180_000);

  it('a worker killed in the middle of the SMTP conversation: one mail, not zero or two', async () => {
    const hold = smtp.holdNext();
    const schedule = await dueSchedule('Mid send', emptyDashboard, 'daily;06:00', new Date(Date.now() - 3_600_000));
    await t.boss.send(SCHEDULING_TICK_QUEUE, {});
    await hold.reached; // the worker sent DATA; the server has not said OK
    await kill(a, 'SIGKILL');
    await hold.closed;
    hold.release(); // the connection is gone: the message is discarded, as a real server does
    expect(mailsTo('mid-send@example.com')).toHaveLength(0);
    const b = await startWorkerProcess();
    await settled(schedule.id, 1);
    expect(mailsTo('mid-send@example.com')).toHaveLength(1);
    const delivery = await t.database.db('mail_deliveries').where('idempotency_key', 'like', 'dashboard_schedule_run:%').orderBy('created_at', 'desc').first();
    expect(delivery).toMatchObject({ status: 'sent', attempts: 2 });
    a = b;
  }, 180_000);

  it('a worker killed while a run waits for its query: one mail, not zero or two', async () => {
    const lock = new pg.Client({ connectionString: t.database.url });
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock(4242)');
    const res = await t.api
      .post('/dashboards')
      .set('Authorization', auth(t.adminSecret))
      .send({ data: { attributes: { name: 'Blocked' } } });
    const dashboardId = res.body.data.id as string;
    const report = await t.api
      .post('/reports')
      .set('Authorization', auth(t.adminSecret))
      .send({
        data: {
          attributes: { name: 'Waits for a lock', sql_query: 'SELECT pg_advisory_xact_lock(4242) IS NULL AS locked, 1 AS n' },
          relationships: { dashboard: { data: { type: 'dashboards', id: dashboardId } }, datasource: { data: { type: 'datasources', id: datasourceId } } },
        },
      });
    expect(report.status).toBe(201);
    const schedule = await dueSchedule('Mid run', dashboardId, 'daily;06:00', new Date(Date.now() - 3_600_000));
    await t.boss.send(SCHEDULING_TICK_QUEUE, {});
    // the run is under way and its query is blocked on the lock this test holds
    await waitUntil(
      'the report query to run',
      async () => (await t.database.db('executions').where({ execution_status: 'running' }).count<{ count: string }[]>('* as count'))[0]!.count,
      (n) => Number(n) === 1,
    );
    expect((await runsOf(schedule.id)).map((r) => r.status)).toEqual(['pending']);
    await kill(a, 'SIGKILL');
    await lock.query('SELECT pg_advisory_unlock(4242)');
    await lock.end();
    expect(mailsTo('mid-run@example.com')).toHaveLength(0);
    a = await startWorkerProcess();
    await settled(schedule.id, 1);
    const mails = mailsTo('mid-run@example.com');
    expect(mails).toHaveLength(1);
    expect((await parseMail(mails[0]!)).subject).toBe('Blocked – Mid run');
    expect((await runsOf(schedule.id))[0]!.attempts).toBe(2);
    await kill(a, 'SIGTERM');
  }, 240_000);
});
