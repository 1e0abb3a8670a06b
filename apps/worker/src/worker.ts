import path from 'node:path';
import { MAIL_SEND_QUEUE, createMailer, type DomainServices, type Knex, type Logger, type Mailer, type PgBoss } from '@sightline/domain';
import { startMailConsumer, type MailConsumerOptions } from './jobs/send-mail.job.js';
import { startExecutionConsumers } from './jobs/run-execution.job.js';
import { startExportConsumer } from './jobs/run-export.job.js';

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
}

/** A running worker: the pg-boss consumers of this process. */
export interface Worker {
  stop(): Promise<void>;
}

/** Registers every job consumer of Sightline on `boss`. */
export async function startWorker(deps: WorkerDeps): Promise<Worker> {
  const mailer = deps.mail?.mailer ?? createMailer({
    smtpUrl: deps.mail?.smtpUrl,
    from: deps.mail?.from ?? 'Sightline <sightline@localhost>',
    outboxDir: path.join(deps.mail?.dataDir ?? './.sightline', 'outbox'),
    logger: deps.logger,
  });
  await startMailConsumer(deps.boss, mailer, deps.logger, deps.mail?.queue);
  const executions = await startExecutionConsumers({
    db: deps.db, boss: deps.boss, logger: deps.logger, services: deps.services, concurrency: deps.concurrency, rowLimit: deps.rowLimit ?? 1_000_000,
  });
  // renders are CPU-heavy (a worker thread each): a few at a time per process
  const exports = await startExportConsumer({ db: deps.db, boss: deps.boss, logger: deps.logger, services: deps.services, concurrency: Math.max(1, Math.min(2, deps.concurrency)) });
  deps.logger.info({ concurrency: deps.concurrency, mail: mailer.destination }, 'worker started');
  return {
    stop: async () => {
      deps.logger.info('worker stopping');
      await exports.stop();
      await executions.stop();
      await deps.boss.offWork(MAIL_SEND_QUEUE);
      if (!deps.mail?.mailer) mailer.close();
    },
  };
}
