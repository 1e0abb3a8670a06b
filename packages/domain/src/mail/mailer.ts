import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
// nodemailer is CommonJS: use the default import.
import nodemailer from 'nodemailer';
import type { Logger } from '../logger.js';
import type { Mailer, OutgoingMail } from './mail.types.js';

export interface MailerOptions {
  /** smtp:// or smtps:// URL (SMTP_URL). Unset: messages are written to `outboxDir` as .eml files. */
  smtpUrl?: string;
  /** Sender (MAIL_FROM). */
  from: string;
  /** Folder for .eml files when there is no SMTP server (`<data dir>/outbox`). */
  outboxDir: string;
  logger: Logger;
  /** SMTP connection/greeting/socket timeout in milliseconds (default 30 000). */
  timeoutMs?: number;
}

/** nodemailer's message fields of an outgoing mail. */
function mailOptions(from: string, message: OutgoingMail) {
  return {
    from,
    to: message.to,
    cc: message.cc?.length ? message.cc : undefined,
    bcc: message.bcc?.length ? message.bcc : undefined,
    subject: message.subject,
    text: message.text,
    html: message.html,
    messageId: message.messageId,
    attachments: message.attachments?.map((a) => ({
      filename: a.filename,
      content: a.content,
      contentType: a.contentType,
      cid: a.contentId,
      contentDisposition: a.contentId ? ('inline' as const) : ('attachment' as const),
    })),
  };
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return `${u.protocol}//${u.username ? `${u.username}:***@` : ''}${u.host}`;
  } catch {
    return 'smtp';
  }
}

/**
 * Creates the process's mailer: real SMTP through nodemailer when `smtpUrl` is set, otherwise an
 * outbox folder of `.eml` files (all-in-one mode: a newcomer can open them in any mail reader).
 */
export function createMailer(options: MailerOptions): Mailer {
  const timeout = options.timeoutMs ?? 30_000;
  if (options.smtpUrl) {
    const transport = nodemailer.createTransport({
      url: options.smtpUrl,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    } as Parameters<typeof nodemailer.createTransport>[0]);
    const destination = redactUrl(options.smtpUrl);
    return {
      destination,
      async deliver(message: OutgoingMail): Promise<string> {
        const info = await transport.sendMail(mailOptions(options.from, message));
        if (info.rejected?.length) throw new Error(`The SMTP server rejected ${info.rejected.length} recipient(s)`);
        options.logger.info({ to: message.to, subject: message.subject, message_id: info.messageId, smtp: destination }, 'mail sent');
        return info.messageId;
      },
      close: () => transport.close(),
    };
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    destination: options.outboxDir,
    async deliver(message: OutgoingMail): Promise<string> {
      // (the stream transport keeps the Bcc header: the .eml is the only record of who should get it)
      const info = await transport.sendMail(mailOptions(options.from, message));
      await mkdir(options.outboxDir, { recursive: true });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const file = path.join(options.outboxDir, `${stamp}-${randomBytes(4).toString('hex')}.eml`);
      // Write then rename, so a reader never sees half a message.
      await writeFile(`${file}.tmp`, info.message as Buffer);
      await rename(`${file}.tmp`, file);
      // The text goes into the log too: the .eml is quoted-printable (long link lines), the log line is
      // what a newcomer in all-in-one mode reads first. Only without SMTP, i.e. on a local setup.
      options.logger.info({ to: message.to, subject: message.subject, file, text: message.text }, 'mail written to the outbox (no SMTP_URL)');
      return file;
    },
    close: () => transport.close(),
  };
}
