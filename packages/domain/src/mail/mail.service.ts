import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { withTransaction } from '../db/db.js';
import { ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import { MailDeliveryRepository } from './mail-delivery.repository.js';
import { MAIL_SEND_QUEUE, mailJobSchema, type MailFile, type MailQueue, type MailJob, type Mailer, type MailMessage } from './mail.types.js';

/** Options of an idempotent message (schedules, alerts). */
export interface IdempotentMailOptions {
  /** At most one mail is handed to SMTP per key, however often its job runs. */
  idempotencyKey: string;
  /** Told once the message was handed to SMTP (a hook registered with `MailLedger`). */
  onDelivered?: { type: string; id: string };
}

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
  async enqueue(trx: Knex.Transaction, kind: string, message: MailMessage, organizationId?: string, options?: IdempotentMailOptions): Promise<string> {
    if (!this.deps.queue) throw new Error('MailService: no job queue configured');
    const parsed = mailJobSchema.safeParse({ kind, organizationId, message, ...options });
    if (!parsed.success) throw new ValidationError(`The e-mail cannot be sent: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    const id = await this.deps.queue.send(MAIL_SEND_QUEUE, parsed.data, { db: trx });
    if (!id) throw new Error(`The queue did not create a ${MAIL_SEND_QUEUE} job`);
    return id;
  }

  /**
   * Stores a file for a message enqueued in the same transaction (then referenced by id in
   * `message.attachments`). Files are deleted once the message is sent.
   * @returns the attachment id
   */
  storeAttachment(trx: Knex.Transaction, organizationId: string, file: Omit<MailFile, 'contentId'>): Promise<string> {
    return new MailDeliveryRepository(trx).storeAttachment(organizationId, file);
  }
}

/** Something to do once a message was handed to SMTP, in the transaction that records it. */
export type MailDeliveredHook = (trx: Knex.Transaction, id: string, sentAt: Date) => Promise<void>;

/** The `Message-ID` of every attempt of one idempotency key (a duplicate is recognisable as such). */
export function idempotentMessageId(key: string): string {
  return `<${createHash('sha256').update(key).digest('hex').slice(0, 40)}@sightline.mail>`;
}

/**
 * Exactly-once bookkeeping of idempotent mail on the worker: whether a key was already sent, the
 * stored files, and the hooks (by `onDelivered.type`) run when a message was handed to SMTP.
 *
 * The one window it cannot close is a worker dying after the SMTP server accepted a message and
 * before `delivered` committed: the retry sends it again, with the same Message-ID. Nothing
 * between two systems without a shared transaction can close it; it is a few milliseconds wide.
 */
export class MailLedger {
  constructor(private readonly deps: { db: Knex; clock?: Clock; hooks?: Record<string, MailDeliveredHook> }) {}

  private get clock(): Clock {
    return this.deps.clock ?? systemClock;
  }

  /** @returns `sent` when the key was already handed to SMTP */
  claim(key: string, organizationId: string | undefined): Promise<'go' | 'sent'> {
    return new MailDeliveryRepository(this.deps.db).claim(key, organizationId, this.clock.now());
  }

  loadAttachments(job: MailJob): Promise<MailFile[]> {
    return new MailDeliveryRepository(this.deps.db).loadAttachments(job.message.attachments ?? []);
  }

  /** Records the key as sent, runs its hook and drops its files, in one transaction. */
  async delivered(job: MailJob, messageId: string): Promise<void> {
    const key = job.idempotencyKey!;
    const now = this.clock.now();
    await withTransaction(this.deps.db, async (trx) => {
      const repo = new MailDeliveryRepository(trx);
      if (!(await repo.markSent(key, messageId, now))) return;
      if (job.onDelivered) {
        const hook = this.deps.hooks?.[job.onDelivered.type];
        if (hook) await hook(trx, job.onDelivered.id, now);
      }
      await repo.deleteAttachments((job.message.attachments ?? []).map((a) => a.id));
    });
  }

  /** Deletes delivery records and files older than `before` (a retention sweep). */
  purge(before: Date): Promise<number> {
    return new MailDeliveryRepository(this.deps.db).purge(before);
  }
}

/** The outcome of handling one `mail.send` job. */
export type MailJobOutcome = { status: 'delivered'; id: string } | { status: 'duplicate' } | { status: 'invalid'; reason: string };

/**
 * Handles one `mail.send` job payload: validates it and delivers it. A job with an
 * `idempotencyKey` is sent only if that key was not sent before (needs `ledger`).
 * @returns `invalid` for a payload that can never be delivered (the caller dead-letters it),
 *   `duplicate` for an idempotent message that was already sent
 * @throws whatever the mailer throws (SMTP down, rejected): the queue retries with backoff
 */
export async function handleMailJob(mailer: Mailer, data: unknown, logger: Logger, ledger?: MailLedger): Promise<MailJobOutcome> {
  const parsed = mailJobSchema.safeParse(data);
  if (!parsed.success) {
    const reason = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    logger.error({ reason }, 'invalid mail job payload');
    return { status: 'invalid', reason };
  }
  const job: MailJob = parsed.data;
  if (job.idempotencyKey === undefined) {
    const id = await mailer.deliver(job.message as MailMessage & { attachments?: undefined });
    return { status: 'delivered', id };
  }
  if (!ledger) return { status: 'invalid', reason: 'an idempotent message needs the mail ledger of a worker' };
  if ((await ledger.claim(job.idempotencyKey, job.organizationId)) === 'sent') {
    logger.info({ idempotency_key: job.idempotencyKey }, 'mail already sent; not sending again');
    return { status: 'duplicate' };
  }
  const attachments = await ledger.loadAttachments(job);
  const id = await mailer.deliver({ ...job.message, attachments, messageId: idempotentMessageId(job.idempotencyKey) });
  await ledger.delivered(job, id);
  return { status: 'delivered', id };
}
