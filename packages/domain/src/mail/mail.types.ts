import type { Knex } from 'knex';
import { z } from 'zod';

/** Name of the pg-boss queue that delivers outgoing mail. */
export const MAIL_SEND_QUEUE = 'mail.send';
/** Dead-letter queue: messages that failed every attempt stay here for an operator to inspect or retry. */
export const MAIL_DEAD_LETTER_QUEUE = 'mail.send.dead';

/** An outgoing e-mail (plain text, optional HTML alternative). */
export interface MailMessage {
  /** Recipient addresses (1-50). */
  to: string[];
  subject: string;
  text: string;
  html?: string;
}

/** The payload of a `mail.send` job: checked before `send` and again on receipt. */
export const mailJobSchema = z
  .object({
    organizationId: z.string().min(1).max(64).optional(),
    /** What the mail is for (e.g. `invitation`), for logs. */
    kind: z.string().min(1).max(64),
    message: z
      .object({
        to: z.array(z.email().max(254)).min(1).max(50),
        subject: z.string().min(1).max(998),
        text: z.string().max(1_000_000),
        html: z.string().max(2_000_000).optional(),
      })
      .strict(),
  })
  .strict();

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
  deliver(message: MailMessage): Promise<string>;
  close(): void;
}

/** Retry policy of the mail queue. */
export interface MailQueueOptions {
  /** Attempts after the first one (default 8). */
  retryLimit?: number;
  /** Seconds before the first retry; doubles with every further attempt (default 30). */
  retryDelaySeconds?: number;
  /** Longest wait between two attempts in seconds (default 3600). */
  retryDelayMaxSeconds?: number;
}
