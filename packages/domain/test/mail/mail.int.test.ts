import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  MAIL_SEND_QUEUE,
  MailService,
  ValidationError,
  createLogger,
  createMailer,
  handleMailJob,
  invitationMail,
  type Knex,
  type MailQueue,
} from '@sightline/domain';
import { startTestSmtpServer, type TestSmtpServer } from '../../../../test/support/smtp-server.js';

const logger = createLogger('silent', 'test');
const message = { to: ['ada@example.com'], subject: 'Hello from Sightline', text: 'Line one\nhttps://example.test/invitations/abc/accept' };

let smtp: TestSmtpServer;
let outbox: string;
beforeAll(async () => {
  smtp = await startTestSmtpServer();
  outbox = await mkdtemp(path.join(os.tmpdir(), 'sightline-outbox-'));
});
afterAll(async () => {
  await smtp.close();
  await rm(outbox, { recursive: true, force: true });
});

describe('createMailer', () => {
  it('without SMTP_URL writes each message as an .eml file into the outbox', async () => {
    const dir = path.join(outbox, 'outbox');
    const mailer = createMailer({ from: 'Sightline <sightline@localhost>', outboxDir: dir, logger });
    expect(mailer.destination).toBe(dir);
    const file = await mailer.deliver(message);
    await mailer.deliver({ ...message, subject: 'Second' });
    const files = (await readdir(dir)).sort();
    expect(files).toHaveLength(2);
    expect(files.every((f) => f.endsWith('.eml'))).toBe(true);
    expect(path.dirname(file)).toBe(dir);
    const eml = await readFile(file, 'utf8');
    expect(eml).toMatch(/^From: Sightline <sightline@localhost>$/m);
    expect(eml).toMatch(/^To: ada@example\.com$/m);
    expect(eml).toMatch(/^Subject: Hello from Sightline$/m);
    expect(eml).toContain('https://example.test/invitations/abc/accept');
    mailer.close();
  });

  it('with SMTP_URL delivers to the SMTP server', async () => {
    const mailer = createMailer({ smtpUrl: smtp.url, from: 'Sightline <noreply@sightline.test>', outboxDir: outbox, logger });
    expect(mailer.destination).toBe(smtp.url);
    const before = smtp.received.length;
    await mailer.deliver({ ...message, to: ['a@example.com', 'b@example.com'] });
    const [mail] = (await smtp.waitFor(before + 1)).slice(-1);
    expect(mail!.recipients).toEqual(['a@example.com', 'b@example.com']);
    expect(mail!.headers.subject).toBe('Hello from Sightline');
    expect(mail!.body).toContain('https://example.test/invitations/abc/accept');
    mailer.close();
  });

  it('throws when the SMTP server refuses (so the queue retries)', async () => {
    const mailer = createMailer({ smtpUrl: smtp.url, from: 'x@sightline.test', outboxDir: outbox, logger });
    smtp.rejectNext(1);
    await expect(mailer.deliver(message)).rejects.toThrow(/451|Try again later/);
    mailer.close();
  });

  it('throws when no SMTP server listens', async () => {
    const mailer = createMailer({ smtpUrl: 'smtp://127.0.0.1:1', from: 'x@sightline.test', outboxDir: outbox, logger, timeoutMs: 2000 });
    await expect(mailer.deliver(message)).rejects.toThrow();
    mailer.close();
  });

  it('never shows the SMTP password in its destination', () => {
    const mailer = createMailer({ smtpUrl: 'smtps://user:hunter2@mail.example.com:465', from: 'x@sightline.test', outboxDir: outbox, logger });
    expect(mailer.destination).toBe('smtps://user:***@mail.example.com:465');
    mailer.close();
  });
});

describe('mail jobs', () => {
  it('handleMailJob delivers a valid payload and reports an invalid one instead of throwing', async () => {
    const delivered: unknown[] = [];
    const mailer = {
      destination: 'memory',
      deliver: async (m: unknown) => {
        delivered.push(m);
        return 'id-1';
      },
      close: () => {},
    };
    expect(await handleMailJob(mailer, { kind: 'test', message }, logger)).toEqual({ status: 'delivered', id: 'id-1' });
    expect(delivered).toEqual([message]);
    const invalid = await handleMailJob(mailer, { kind: 'test', message: { to: ['not an address'], subject: 's', text: 't' } }, logger);
    expect(invalid.status).toBe('invalid');
    expect(await handleMailJob(mailer, 'garbage', logger)).toMatchObject({ status: 'invalid' });
    expect(delivered).toHaveLength(1);
  });

  it('MailService.enqueue checks the payload and sends it on mail.send within the given transaction', async () => {
    const sent: Array<{ name: string; data: object; db: Knex }> = [];
    const queue: MailQueue = {
      send: async (name, data, { db }) => {
        sent.push({ name, data, db });
        return 'job-1';
      },
    };
    const service = new MailService({ queue });
    expect(service.canSend).toBe(true);
    const trx = {} as Knex.Transaction;
    expect(await service.enqueue(trx, 'invitation', message, 'org-1')).toBe('job-1');
    expect(sent).toEqual([{ name: MAIL_SEND_QUEUE, data: { kind: 'invitation', organizationId: 'org-1', message }, db: trx }]);
    await expect(service.enqueue(trx, 'invitation', { ...message, to: [] })).rejects.toBeInstanceOf(ValidationError);
    expect(new MailService({}).canSend).toBe(false);
  });

  it('invitationMail names the organization, the link and its expiry', () => {
    const mail = invitationMail({
      email: 'ada@example.com',
      organizationName: 'Acme',
      acceptUrl: 'https://x.test/invitations/T/accept',
      expiresAt: new Date('2026-12-01T10:00:00.123Z'),
    });
    expect(mail.to).toEqual(['ada@example.com']);
    expect(mail.subject).toBe('You are invited to Acme on Sightline');
    expect(mail.text).toContain('https://x.test/invitations/T/accept');
    expect(mail.text).toContain('valid until 2026-12-01 10:00:00 UTC');
  });
});
