import type { Knex } from 'knex';
import { ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import { MAIL_SEND_QUEUE, mailJobSchema, type MailQueue, type MailJob, type Mailer, type MailMessage } from './mail.types.js';

export interface MailServiceDeps {
  /** Missing when the process runs without a queue (then nothing can be enqueued). */
  queue?: MailQueue;
}

/** Outgoing mail: messages are enqueued in the caller's transaction and delivered by the worker. */
export class MailService {
  constructor(private readonly deps: MailServiceDeps) {}

  /** True when this process can enqueue mail. */
  get canSend(): boolean {
    return this.deps.queue !== undefined;
  }

  /**
   * Enqueues `message` as a `mail.send` job inside transaction `trx`.
   * @throws Error when no queue is configured (callers check `canSend` first); ValidationError for a
   *   message the job schema refuses
   */
  async enqueue(trx: Knex.Transaction, kind: string, message: MailMessage, organizationId?: string): Promise<string> {
    if (!this.deps.queue) throw new Error('MailService: no job queue configured');
    const parsed = mailJobSchema.safeParse({ kind, organizationId, message });
    if (!parsed.success) throw new ValidationError(`The e-mail cannot be sent: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    const id = await this.deps.queue.send(MAIL_SEND_QUEUE, parsed.data, { db: trx });
    if (!id) throw new Error(`The queue did not create a ${MAIL_SEND_QUEUE} job`);
    return id;
  }
}

/** The outcome of handling one `mail.send` job. */
export type MailJobOutcome = { status: 'delivered'; id: string } | { status: 'invalid'; reason: string };

/**
 * Handles one `mail.send` job payload: validates it and delivers it.
 * @returns `invalid` for a payload that can never be delivered (the caller dead-letters it)
 * @throws whatever the mailer throws (SMTP down, rejected): the queue retries with backoff
 */
export async function handleMailJob(mailer: Mailer, data: unknown, logger: Logger): Promise<MailJobOutcome> {
  const parsed = mailJobSchema.safeParse(data);
  if (!parsed.success) {
    const reason = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    logger.error({ reason }, 'invalid mail job payload');
    return { status: 'invalid', reason };
  }
  const job: MailJob = parsed.data;
  const id = await mailer.deliver(job.message);
  return { status: 'delivered', id };
}
