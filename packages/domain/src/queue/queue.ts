import { PgBoss, fromKnex, type Job } from 'pg-boss';
import type { Knex } from 'knex';
import { isConnectionFailure } from '../db/connection-errors.js';
import type { Logger } from '../logger.js';

export type { PgBoss };

export interface QueueOptions {
  connectionString: string;
  logger: Logger;
  /** `application_name` of the queue's connections. */
  applicationName: string;
  /** Run pg-boss maintenance and cron scheduling in this process (workers: yes; api-server: no). */
  supervise?: boolean;
  /** Pool size of the queue's own connections. */
  max?: number;
}

/**
 * Starts pg-boss (it owns schema `pgboss` and migrates it itself). The only module that touches
 * pg-boss directly; services get a narrower `JobQueue` interface.
 */
export async function startQueue(options: QueueOptions): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: options.connectionString,
    application_name: options.applicationName,
    max: options.max ?? 5,
    supervise: options.supervise ?? false,
    schedule: options.supervise ?? false,
    useListenNotify: true,
  });
  boss.on('error', queueErrorLogger(options.logger));
  await boss.start();
  return boss;
}

/** At most one line per this many ms about the queue's database being unreachable. */
const QUEUE_OUTAGE_LOG_INTERVAL_MS = 10_000;

/**
 * pg-boss's error events as log lines. While the database is unreachable every poll of every
 * consumer fails: those are logged once per interval with a count, as a short warning (the
 * error's own fields, not the pg client pg-boss attaches).
 */
function queueErrorLogger(logger: Logger): (err: unknown) => void {
  let lastOutageLog = 0;
  let suppressed = 0;
  return (err: unknown) => {
    if (!isConnectionFailure(err)) {
      logger.error({ err }, 'queue error');
      return;
    }
    const now = Date.now();
    if (now - lastOutageLog < QUEUE_OUTAGE_LOG_INTERVAL_MS) {
      suppressed++;
      return;
    }
    const e = err as { message?: string; code?: string };
    logger.warn({ error: { message: e.message, code: e.code }, suppressed }, 'queue cannot reach its database; retrying');
    lastOutageLog = now;
    suppressed = 0;
  };
}

/** Stops pg-boss, letting running jobs finish for up to `timeoutMs`. */
export async function stopQueue(boss: PgBoss, timeoutMs = 10_000): Promise<void> {
  await boss.stop({ graceful: true, timeout: timeoutMs, close: true });
}

/** Queue names of Sightline's jobs. */
export const QUEUES = {
  /** Executions someone waits for (Run Execution, dashboard polls, refreshes). */
  executionsInteractive: 'executions.interactive',
  /** Executions nobody waits for (schedules, prewarm, nightly schema refresh). */
  executionsBackground: 'executions.background',
  /**
   * Executions retried after a delay (their datasource had no free slot). Not notify-enabled:
   * pg-boss 12 does not pick up delayed jobs (`startAfter`) on notify queues by polling.
   */
  executionsWaiting: 'executions.waiting',
  /** Export jobs: refresh data, render, store the file (export-jobs module). */
  exports: 'exports.run',
} as const;

/** What services need of the queue: enqueue (optionally inside the caller's transaction) and cancel. */
export interface JobQueue {
  /**
   * Enqueues a job. With `db` (a knex transaction) the job becomes visible only when that
   * transaction commits.
   */
  send(name: string, data: object, options?: { db?: Knex; startAfterSeconds?: number; id?: string }): Promise<string | null>;
  /**
   * Enqueues several jobs of one queue in one statement (one NOTIFY), inside `db`'s transaction
   * when given. Optional: without it callers send one by one.
   */
  sendMany?(name: string, jobs: Array<{ id: string; data: object }>, options?: { db?: Knex }): Promise<void>;
  cancel(name: string, id: string): Promise<void>;
}

/** Creates Sightline's queues (idempotent). */
export async function ensureQueues(boss: PgBoss): Promise<void> {
  const existing = new Set((await boss.getQueues()).map((q) => q.name));
  for (const name of [QUEUES.executionsInteractive, QUEUES.executionsBackground, QUEUES.executionsWaiting, QUEUES.exports]) {
    if (existing.has(name)) continue;
    // heartbeats let pg-boss retry a job whose worker died within ~10-20 s; notify wakes idle workers at once
    const notify = name !== QUEUES.executionsWaiting;
    await boss
      .createQueue(name, { retryLimit: 1, retryDelay: 1, heartbeatSeconds: 10, expireInSeconds: 6 * 3600, notify, deleteAfterSeconds: 86_400 })
      .catch((err: unknown) => {
        if (!/already exists/i.test(String((err as Error).message))) throw err;
      });
  }
}

/** The `JobQueue` backed by pg-boss. */
export function createJobQueue(boss: PgBoss): JobQueue {
  return {
    send: (name, data, options = {}) =>
      boss.send(name, data, {
        ...(options.db ? { db: fromKnex(options.db as never) } : {}),
        ...(options.startAfterSeconds ? { startAfter: new Date(Date.now() + options.startAfterSeconds * 1000) } : {}),
        ...(options.id ? { id: options.id } : {}),
      }),
    sendMany: async (name, jobs, options = {}) => {
      await boss.insert(name, jobs, options.db ? { db: fromKnex(options.db as never) } : {});
    },
    cancel: async (name, id) => {
      await boss.cancel(name, id);
    },
  };
}

/** Options of `workEagerly`. */
export interface EagerWorkOptions {
  /** Jobs run at once in this process (one pg-boss worker each). */
  slots: number;
  /** Poll interval when the queue is not notify-enabled (seconds). */
  pollingIntervalSeconds: number;
  /**
   * Backstop poll of notify-enabled queues, in case a notification is missed (seconds; pg-boss's
   * default is 30).
   */
  notifyPollingIntervalSeconds?: number;
}

/**
 * Consumes `name` with `slots` jobs at a time, fetching the next job as soon as a slot frees up.
 *
 * pg-boss 12 (Worker.run / Manager.work) lets a worker fetch again at once only in "burst" mode
 * (a full batch with `batchSize > 1`, or a cached ready count above `burstWhenReadyExceeds`,
 * refreshed once a minute). Otherwise it waits out the poll interval, which on notify-enabled queues
 * is the notify backstop (30 s): a NOTIFY wakes it only if one arrives while it is idle. A burst of
 * inserts notifies every worker once, so each worker ran one or two jobs and slept 30 s with the
 * rest of the backlog queued (issue 9: 24 small queries at concurrency 8, the last done after 30 s).
 *
 * Here each slot is its own pg-boss worker (`localConcurrency: 1`), so its handler knows its worker
 * id and wakes it (`notifyWorker`) when the job is done: a worker that just ran a job fetches again
 * immediately; one whose fetch found nothing sleeps until the next insert's NOTIFY (or the poll).
 */
export async function workEagerly<T extends object>(
  boss: PgBoss,
  name: string,
  options: EagerWorkOptions,
  handler: (job: Job<T>) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < Math.max(1, options.slots); i++) {
    let workerId: string | undefined;
    let wakePending = false;
    workerId = await boss.work<T>(
      name,
      {
        batchSize: 1,
        localConcurrency: 1,
        pollingIntervalSeconds: options.pollingIntervalSeconds,
        notifyPollingIntervalSeconds: Math.max(options.pollingIntervalSeconds, options.notifyPollingIntervalSeconds ?? 5),
      },
      async (jobs) => {
        try {
          for (const job of jobs) await handler(job);
        } finally {
          // wakes the worker as soon as pg-boss has settled this job: it skips its poll delay
          if (workerId) boss.notifyWorker(workerId);
          else wakePending = true;
        }
      },
    );
    if (wakePending) boss.notifyWorker(workerId);
  }
}
