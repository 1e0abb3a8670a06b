import path from 'node:path';
import {
  CONFIG_DEFAULTS,
  MAIL_SEND_QUEUE,
  MailLedger,
  createMailer,
  type AlertAttachmentRenderer,
  type DomainServices,
  type Knex,
  type Logger,
  type Mailer,
  type PgBoss,
  type ScheduleRenderer,
} from '@sightline/domain';
import { startMailConsumer, type MailConsumerOptions } from './jobs/send-mail.job.js';
import { startExecutionConsumers, type ExecutionPollingOptions } from './jobs/run-execution.job.js';
import { startSchedulingConsumers } from './jobs/scheduling.job.js';
import { startSchedulingSweeps } from './jobs/scheduling-sweep.job.js';
import { renderExports, startExportConsumer } from './jobs/run-export.job.js';
import { createAlertRenderer, createScheduleRenderer } from './jobs/scheduling-render.js';

export interface WorkerDeps {
  db: Knex;
  boss: PgBoss;
  logger: Logger;
  services: DomainServices;
  /** Jobs run at once in this process. */
  concurrency: number;
  /** Most rows stored per result (RESULT_ROW_LIMIT). */
  rowLimit?: number;
  /**
   * Outgoing mail: SMTP when `smtpUrl` (SMTP_URL) is set, else `.eml` files in `<dataDir>/outbox`
   * (default data dir `./.sightline`); `mailer` replaces the transport (tests).
   */
  mail?: { smtpUrl?: string; from?: string; dataDir?: string; mailer?: Mailer; queue?: MailConsumerOptions };
  /** Dashboard schedules and SQL alerts (the one-minute tick and the runs). */
  scheduling?: WorkerSchedulingOptions;
  /** Poll intervals of the execution queues (defaults: 0.5 s, notify backstop 5 s). */
  executionPolling?: ExecutionPollingOptions;
}

/** Options of the worker's scheduling consumers. */
export interface WorkerSchedulingOptions {
  renderers?: { schedules?: ScheduleRenderer; alerts?: AlertAttachmentRenderer };
  /** Send a tick at start (default true): what came due while the platform was down fires at once. */
  tickAtStart?: boolean;
  /** Seconds between polls of the tick and run queues (default 2). */
  pollingIntervalSeconds?: number;
  /** Longest wait for a schedule's queries before mailing what there is. */
  maxDataWaitMs?: number;
}

/** A running worker: the pg-boss consumers of this process. */
export interface Worker {
  /**
   * Stops taking jobs and lets the running ones finish for up to `deadlineMs` (default 30 s); then
   * stops the queries still running in their databases and hands those executions and export jobs
   * back to the queue for another worker. Jobs still held after that are failed by pg-boss when it
   * stops (and retried).
   */
  stop(options?: { deadlineMs?: number }): Promise<void>;
}

/** Resolves true when `promise` settles within `ms`, false otherwise. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Time allowed, after the deadline, for handed-back work to let go. */
const HAND_BACK_MS = 5_000;

/** Registers every job consumer of Sightline on `boss`. */
export async function startWorker(deps: WorkerDeps): Promise<Worker> {
  const mailer =
    deps.mail?.mailer ??
    createMailer({
      smtpUrl: deps.mail?.smtpUrl,
      from: deps.mail?.from ?? CONFIG_DEFAULTS.mailFrom,
      outboxDir: path.join(deps.mail?.dataDir ?? CONFIG_DEFAULTS.dataDir, 'outbox'),
      logger: deps.logger,
    });
  // Idempotent mail: a schedule run's delivery sets the schedule's `last_sent_at`.
  const ledger = new MailLedger({
    db: deps.db,
    clock: deps.services.clock,
    hooks: { dashboard_schedule_run: (trx, id, sentAt) => deps.services.dashboardSchedules.markDelivered(trx, id, sentAt) },
  });
  await startMailConsumer(deps.boss, mailer, deps.logger, { ...deps.mail?.queue, ledger });
  const executions = await startExecutionConsumers({
    db: deps.db,
    boss: deps.boss,
    logger: deps.logger,
    services: deps.services,
    concurrency: deps.concurrency,
    rowLimit: deps.rowLimit ?? CONFIG_DEFAULTS.resultRowLimit,
    polling: deps.executionPolling,
  });
  const scheduling = await startSchedulingConsumers({
    db: deps.db,
    boss: deps.boss,
    logger: deps.logger,
    services: deps.services,
    concurrency: Math.max(1, Math.floor(deps.concurrency / 2)),
    renderers: deps.scheduling?.renderers ?? {
      schedules: createScheduleRenderer({ resultStore: deps.services.resultStore, renderer: renderExports }),
      alerts: createAlertRenderer({ resultStore: deps.services.resultStore, renderer: renderExports }),
    },
    tickAtStart: deps.scheduling?.tickAtStart,
    pollingIntervalSeconds: deps.scheduling?.pollingIntervalSeconds,
    maxDataWaitMs: deps.scheduling?.maxDataWaitMs,
  });
  const sweeps = startSchedulingSweeps({ db: deps.db, logger: deps.logger, ledger, clock: deps.services.clock });
  // renders are CPU-heavy (a worker thread each): a few at a time per process
  const exports = await startExportConsumer({
    db: deps.db,
    boss: deps.boss,
    logger: deps.logger,
    services: deps.services,
    concurrency: Math.max(1, Math.min(2, deps.concurrency)),
  });
  deps.logger.info({ concurrency: deps.concurrency, mail: mailer.destination }, 'worker started');
  return {
    stop: async (options = {}) => {
      const deadlineMs = options.deadlineMs ?? 30_000;
      deps.logger.info({ deadline_ms: deadlineMs }, 'worker stopping');
      sweeps.stop();
      // every consumer stops fetching at once; each resolves when its running jobs have finished
      const drained = Promise.allSettled([scheduling.stop(), exports.stop(), executions.stop(), deps.boss.offWork(MAIL_SEND_QUEUE)]);
      if (!(await settlesWithin(drained, deadlineMs))) {
        const [handedExecutions, handedExports] = await Promise.all([executions.runner.handBackAll(HAND_BACK_MS), exports.runner.handBackAll(HAND_BACK_MS)]);
        deps.logger.warn(
          { executions: handedExecutions, export_jobs: handedExports, deadline_ms: deadlineMs },
          'shutdown deadline reached: stopped the running queries and handed them back to the queue',
        );
        if (!(await settlesWithin(drained, HAND_BACK_MS))) deps.logger.warn('jobs still running after the shutdown deadline: pg-boss fails them for a retry');
      }
      if (!deps.mail?.mailer) mailer.close();
      // idle pooled datasource sessions end with the worker, not when the server notices
      await deps.services.datasources.sessionPools.closeAll().catch((err: unknown) => deps.logger.warn({ err }, 'closing datasource sessions failed'));
      deps.logger.info('worker stopped');
    },
  };
}
