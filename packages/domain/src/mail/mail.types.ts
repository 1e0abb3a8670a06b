import type { Knex } from 'knex';
import { z } from 'zod';

/** Name of the pg-boss queue that delivers outgoing mail. */
export const MAIL_SEND_QUEUE = 'mail.send';
/** Dead-letter queue: messages that failed every attempt stay here for an operator to inspect or retry. */
export const MAIL_DEAD_LETTER_QUEUE = 'mail.send.dead';

/** A file of a queued message, stored in `mail_attachments` (job payloads stay small). */
export interface MailAttachmentRef {
  /** Row id in `mail_attachments`. */
  id: string;
  /** Content-ID for an inline image the HTML body shows as `<img src="cid:…">`; absent for attachments. */
  cid?: string;
}

/** An outgoing e-mail (plain text, optional HTML alternative, optional files). */
export interface MailMessage {
  /** Recipient addresses (0-50; `to`, `cc` and `bcc` together name at least one). */
  to: string[];
  cc?: string[];
  bcc?: string[];
  subject: string;
  text: string;
  html?: string;
  attachments?: MailAttachmentRef[];
}

/** A file handed to the mailer. */
export interface MailFile {
  filename: string;
  contentType: string;
  content: Buffer;
  /** Set for inline images (referenced from the HTML body as `cid:<contentId>`). */
  contentId?: string;
}

/** What a mailer sends: a message with its files loaded and, for idempotent mail, a fixed Message-ID. */
export interface OutgoingMail extends Omit<MailMessage, 'attachments'> {
  /** `<…@…>`: the same for every attempt of one idempotency key, so a duplicate is recognisable. */
  messageId?: string;
  attachments?: MailFile[];
}

/** The payload of a `mail.send` job: checked before `send` and again on receipt. */
export const mailJobSchema = z
  .object({
    organizationId: z.string().min(1).max(64).optional(),
    /** What the mail is for (e.g. `invitation`), for logs. */
    kind: z.string().min(1).max(64),
    /**
     * Makes delivery idempotent: a job with a key that was already handed to SMTP is completed
     * without sending again (at-least-once job delivery, at most one mail per key).
     */
    idempotencyKey: z.string().min(1).max(200).optional(),
    /** Told once the message was handed to SMTP (needs `idempotencyKey`), e.g. to set `last_sent_at`. */
    onDelivered: z
      .object({ type: z.string().min(1).max(64), id: z.string().min(1).max(64) })
      .strict()
      .optional(),
    message: z
      .object({
        to: z.array(z.email().max(254)).max(50),
        cc: z.array(z.email().max(254)).max(50).optional(),
        bcc: z.array(z.email().max(254)).max(50).optional(),
        subject: z.string().min(1).max(998),
        text: z.string().max(1_000_000),
        html: z.string().max(2_000_000).optional(),
        attachments: z
          .array(
            z
              .object({
                id: z.uuid(),
                cid: z
                  .string()
                  .regex(/^[A-Za-z0-9._-]{1,100}$/)
                  .optional(),
              })
              .strict(),
          )
          .max(20)
          .optional(),
      })
      .strict()
      .refine((m) => m.to.length + (m.cc?.length ?? 0) + (m.bcc?.length ?? 0) > 0, 'the message needs at least one recipient'),
  })
  .strict()
  .refine((j) => j.onDelivered === undefined || j.idempotencyKey !== undefined, 'onDelivered needs an idempotencyKey')
  .refine((j) => !j.message.attachments?.length || j.idempotencyKey !== undefined, 'attachments need an idempotencyKey (they are deleted once sent)');

export type MailJob = z.infer<typeof mailJobSchema>;

/**
 * What mail needs of the job queue: enqueue inside the caller's knex transaction (`db`), so a job
 * exists exactly when the rows that caused it were committed. The pg-boss `JobQueue` of `queue/`
 * satisfies it.
 */
export interface MailQueue {
  send(name: string, data: object, options: { db: Knex }): Promise<string | null>;
}

/** Delivers one message (SMTP, or the outbox folder); throws when the message was not accepted. */
export interface Mailer {
  /** Where messages go, for logs: `smtp://host:port` or the outbox folder. */
  readonly destination: string;
  /** @returns an identifier of the delivered message (SMTP message id or the .eml path) */
  deliver(message: OutgoingMail): Promise<string>;
  close(): void;
}

/** Retry policy of the mail queue. */
export interface MailQueueOptions {
  /** Attempts after the first one (default 10). */
  retryLimit?: number;
  /** Seconds before the first retry; doubles with every further attempt (default 10). */
  retryDelaySeconds?: number;
  /** Longest wait between two attempts in seconds (default 3600). */
  retryDelayMaxSeconds?: number;
}
