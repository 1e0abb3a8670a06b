import {
  MAIL_SEND_QUEUE,
  ensureMailQueues,
  handleMailJob,
  type Logger,
  type MailLedger,
  type Mailer,
  type MailQueueOptions,
  type PgBoss,
} from '@sightline/domain';

export interface MailConsumerOptions extends MailQueueOptions {
  /** Seconds between polls for new mail jobs (default 2). */
  pollingIntervalSeconds?: number;
  /** Bookkeeping of idempotent mail (schedules, alerts); without it such messages are dead-lettered. */
  ledger?: MailLedger;
}

/**
 * Consumes `mail.send`: delivers each message through `mailer`. A delivery error fails the job, so
 * pg-boss retries it with exponential backoff; after the retry limit it moves to `mail.send.dead`.
 * A payload that can never be delivered (schema mismatch) goes to the dead-letter queue at once.
 * @returns the pg-boss worker id
 */
export async function startMailConsumer(boss: PgBoss, mailer: Mailer, logger: Logger, options: MailConsumerOptions = {}): Promise<string> {
  await ensureMailQueues(boss, options);
  const log = logger.child({ queue: MAIL_SEND_QUEUE });
  return boss.work(MAIL_SEND_QUEUE, { batchSize: 5, pollingIntervalSeconds: options.pollingIntervalSeconds ?? 2, perJobResults: true }, async (jobs) =>
    Promise.all(
      jobs.map(async (job) => {
        try {
          const outcome = await handleMailJob(mailer, job.data, log, options.ledger);
          if (outcome.status === 'invalid') return { id: job.id, status: 'deadletter' as const, output: { reason: outcome.reason } };
          return { id: job.id, status: 'completed' as const, output: outcome.status === 'delivered' ? { delivered: outcome.id } : { duplicate: true } };
        } catch (err) {
          log.warn({ err, job_id: job.id, destination: mailer.destination }, 'mail delivery failed; pg-boss will retry');
          return { id: job.id, status: 'failed' as const, output: { message: (err as Error).message } };
        }
      }),
    ),
  );
}
