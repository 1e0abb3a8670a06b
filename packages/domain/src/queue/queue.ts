import { PgBoss } from 'pg-boss';
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
  });
  boss.on('error', (err: unknown) => options.logger.error({ err }, 'queue error'));
  await boss.start();
  return boss;
}

/** Stops pg-boss, letting running jobs finish for up to `timeoutMs`. */
export async function stopQueue(boss: PgBoss, timeoutMs = 10_000): Promise<void> {
  await boss.stop({ graceful: true, timeout: timeoutMs, close: true });
}
