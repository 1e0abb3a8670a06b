import type { PgBoss } from 'pg-boss';
import type { Logger } from '../logger.js';

/** Queue policy of work that must happen once per item and survive a dead worker. */
export interface RunQueuePolicy {
  /** Attempts after the first one. */
  retryLimit: number;
  /** Seconds before the first retry (doubling after that). */
  retryDelay: number;
  /** A job whose worker stops sending heartbeats for this long is retried (pg-boss minimum 10). */
  heartbeatSeconds: number;
  /** Longest a job may run. */
  expireInSeconds: number;
}

/**
 * Creates a queue, or brings an existing one to `options` (idempotent; several processes may call
 * it at once).
 */
export async function ensureQueue(boss: PgBoss, name: string, options: Record<string, unknown>): Promise<void> {
  if (await boss.getQueue(name)) {
    await boss.updateQueue(name, options);
    return;
  }
  try {
    await boss.createQueue(name, options);
  } catch (err) {
    // another process created it between the check and the create
    if (!(await boss.getQueue(name))) throw err;
    await boss.updateQueue(name, options);
  }
}

/**
 * Creates the queues of the scheduling tick and of schedule/alert runs, and the one-minute cron
 * schedule of the tick (pg-boss sends one tick job per minute across every process).
 */
export async function ensureSchedulingQueues(boss: PgBoss, names: { tick: string; runs: string[] }, cron: string, policy: RunQueuePolicy): Promise<void> {
  // A tick is idempotent and cheap: no retries (the next minute's tick does the same work).
  await ensureQueue(boss, names.tick, { retryLimit: 0, expireInSeconds: 300, deleteAfterSeconds: 3600 });
  for (const name of names.runs) {
    await ensureQueue(boss, name, {
      retryLimit: policy.retryLimit, retryDelay: policy.retryDelay, retryBackoff: true, retryDelayMax: 3600,
      heartbeatSeconds: policy.heartbeatSeconds, expireInSeconds: policy.expireInSeconds, deleteAfterSeconds: 7 * 86_400,
    });
  }
  await boss.schedule(names.tick, cron, {}, { tz: 'UTC' });
}

/** Sends one tick now (a worker's start: what came due while everything was down fires at once). */
export async function sendTickNow(boss: PgBoss, tickQueue: string, logger: Logger): Promise<void> {
  await boss.send(tickQueue, {}).catch((err: unknown) => logger.warn({ err }, 'could not send a tick at start'));
}
