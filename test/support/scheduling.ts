import { simpleParser, type ParsedMail } from 'mailparser';
import { runSchedulingTick, type Clock, type Knex } from '@sightline/domain';
import { createPlatformTestContext, type PlatformTestContext } from './platform.js';
import { startTestSmtpServer, type ReceivedMail, type TestSmtpServer } from './smtp-server.js';

/** A clock a test sets by hand (the injected clock of the domain services). */
export class TestClock implements Clock {
  private current: number;
  constructor(start: string | Date) {
    this.current = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  set(to: string | Date): void {
    this.current = new Date(to).getTime();
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/** A received message parsed as a mail client would (headers, text, HTML, attachments). */
export function parseMail(mail: ReceivedMail): Promise<ParsedMail> {
  return simpleParser(mail.raw, { keepCidLinks: true });
}

/**
 * Waits until `check` holds (polling the database, a few times a second), or fails with what it
 * last saw. For conditions that the code under test guarantees to reach (no timing claims).
 */
export async function waitUntil<T>(what: string, probe: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!check(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last saw ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await probe();
  }
  return last;
}

/** Runs of every dashboard schedule that are not finished yet (pending or mailed but not sent). */
export async function openScheduleRuns(db: Knex): Promise<number> {
  const [row] = await db('dashboard_schedule_runs').whereIn('status', ['pending', 'mailed']).count<{ count: string }[]>('* as count');
  return Number(row!.count);
}

/** Jobs of a pg-boss queue that are not finished (created, retry or active). */
export async function openJobs(db: Knex, queue: string): Promise<number> {
  const { rows } = await db.raw(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = ? AND state IN ('created','retry','active')`, [queue]);
  return (rows as Array<{ n: number }>)[0]!.n;
}

/** A platform (API, data server, worker) that mails to a test SMTP server, for schedule and alert tests. */
export interface SchedulingTestContext {
  t: PlatformTestContext;
  smtp: TestSmtpServer;
  /** Stops the platform, then the SMTP server. */
  close(): Promise<void>;
}

/**
 * Starts a test SMTP server and a platform that mails to it, with the worker's cron tick off (the
 * test ticks with `tick`) and queues polled twice a second.
 */
export async function startSchedulingTestContext(options: { clock?: Clock } = {}): Promise<SchedulingTestContext> {
  const smtp = await startTestSmtpServer();
  let t: PlatformTestContext;
  try {
    t = await createPlatformTestContext({
      ...options,
      smtpUrl: smtp.url,
      scheduling: { tickAtStart: false, pollingIntervalSeconds: 0.5 },
      mailPollingIntervalSeconds: 0.5,
    });
  } catch (err) {
    await smtp.close();
    throw err;
  }
  return {
    t,
    smtp,
    close: async () => {
      await t.close();
      await smtp.close();
    },
  };
}

/** One scheduling tick of the platform's services, at its clock's time. */
export function tickScheduling(t: PlatformTestContext): ReturnType<typeof runSchedulingTick> {
  return runSchedulingTick({ clock: t.services.clock, dashboardSchedules: t.services.dashboardSchedules, sqlAlerts: t.services.sqlAlerts });
}

/** Creates (through the API) a PostgreSQL datasource on the test file's own database. @returns its id */
export async function createTestDatasource(t: PlatformTestContext, name = 'PG', secret = t.adminSecret): Promise<string> {
  const res = await t.api
    .post('/datasources')
    .set('Authorization', `Api ${secret}`)
    .send({
      data: {
        attributes: {
          name,
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
  if (res.status !== 201) throw new Error(`POST /datasources: ${res.status} ${res.text}`);
  return res.body.data.id as string;
}
