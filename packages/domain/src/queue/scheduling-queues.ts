import type { PgBoss } from 'pg-boss';
import type { Logger } from '../logger.js';

/** Queue names of dashboard schedules and SQL alerts (the modules re-export them under their own names). */
export const SCHEDULING_QUEUES = {
  /** The one-minute tick (a cron schedule sends one job per minute across every process). */
  tick: 'scheduling.tick',
  /** One job per dashboard schedule run (job id = run id). */
  dashboardScheduleRuns: 'dashboard_schedules.run',
  /** One job per SQL alert run (job id = run id). */
  sqlAlertRuns: 'sql_alerts.run',
} as const;

/** Cron expression of the tick: every minute. */
export const SCHEDULING_TICK_CRON = '* * * * *';

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
 * Creates the queues of the tick and of schedule/alert runs (idempotent). Every process that
 * enqueues runs calls it at start: the API server (Trigger, Run SQL Alert Query) and workers.
 *
 * Runs retry from 10 s doubling (5 attempts) and send heartbeats, so a run whose worker died is taken
 * over by another worker within seconds; a tick is idempotent and cheap, so it is never retried
 * (the next minute's tick does the same work).
 */
export async function ensureSchedulingQueues(boss: PgBoss): Promise<void> {
  await ensureQueue(boss, SCHEDULING_QUEUES.tick, { retryLimit: 0, expireInSeconds: 300, deleteAfterSeconds: 3600 });
  for (const name of [SCHEDULING_QUEUES.dashboardScheduleRuns, SCHEDULING_QUEUES.sqlAlertRuns]) {
    await ensureQueue(boss, name, {
      retryLimit: 5,
      retryDelay: 10,
      retryBackoff: true,
      retryDelayMax: 3600,
      heartbeatSeconds: 10,
      expireInSeconds: 4 * 3600,
      deleteAfterSeconds: 7 * 86_400,
    });
  }
}

/** Registers the one-minute cron schedule of the tick (workers; an upsert). */
export async function scheduleTick(boss: PgBoss): Promise<void> {
  await boss.schedule(SCHEDULING_QUEUES.tick, SCHEDULING_TICK_CRON, {}, { tz: 'UTC' });
}

/** Sends one tick now (a worker's start: what came due while everything was down fires at once). */
export async function sendTickNow(boss: PgBoss, logger: Logger): Promise<void> {
  await boss.send(SCHEDULING_QUEUES.tick, {}).catch((err: unknown) => logger.warn({ err }, 'could not send a tick at start'));
}
