import { simpleParser, type ParsedMail } from 'mailparser';
import type { Clock, Knex } from '@sightline/domain';
import type { ReceivedMail } from './smtp-server.js';

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
