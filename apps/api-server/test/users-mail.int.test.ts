// The invitation flow end to end over HTTP and SMTP: the API enqueues the mail in the invitation's
// transaction, the worker's mail.send consumer delivers it to a real SMTP server started here, the
// link in the received mail accepts the invitation. Also: retries when the SMTP server refuses, and
// the dead-letter queue once every attempt failed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  MAIL_DEAD_LETTER_QUEUE,
  MAIL_SEND_QUEUE,
  createLogger,
  createJobQueue,
  createMailer,
  ensureMailQueues,
  startQueue,
  stopQueue,
  type Mailer,
  type PgBoss,
} from '@sightline/domain';
import { startMailConsumer } from '../../worker/src/jobs/send-mail.job.js';
import { auth, createApiTestContext, type ApiTestContext } from '../../../test/support/context.js';
import { expectValidJsonApi } from '../../../test/support/jsonapi-schema.js';
import { startTestSmtpServer, type TestSmtpServer } from '../../../test/support/smtp-server.js';

const BASE_URL = 'http://api.sightline.test:8080';
const FROM = 'Sightline <noreply@sightline.test>';
const FAST_RETRIES = { retryLimit: 3, retryDelaySeconds: 1, retryDelayMaxSeconds: 2 };

let t: ApiTestContext;
let boss: PgBoss;
let smtp: TestSmtpServer;
let mailer: Mailer;
const logger = createLogger('silent', 'test');

beforeAll(async () => {
  smtp = await startTestSmtpServer();
  t = await createApiTestContext({
    extraDeps: async (database) => {
      boss = await startQueue({ connectionString: database.url, logger, applicationName: 'mail-flow-test', max: 4 });
      await ensureMailQueues(boss, FAST_RETRIES);
      return { deps: { mailQueue: createJobQueue(boss), apiBaseUrl: BASE_URL }, close: () => stopQueue(boss, 2000) };
    },
  });
  mailer = createMailer({ smtpUrl: smtp.url, from: FROM, outboxDir: '/nonexistent', logger, timeoutMs: 5000 });
  await startMailConsumer(boss, mailer, logger, { ...FAST_RETRIES, pollingIntervalSeconds: 0.5 });
});
afterAll(async () => {
  await t.close();
  mailer.close();
  await smtp.close();
});

async function post(path: string, body?: unknown, secret: string | null = t.adminSecret) {
  const req = t.api.post(path);
  if (secret) req.set('Authorization', auth(secret));
  if (body !== undefined) req.set('Content-Type', 'application/json').send(JSON.stringify(body));
  const res = await req;
  if (res.status !== 204) expectValidJsonApi(res.body);
  return res;
}

const LINK = /(http:\/\/api\.sightline\.test:8080\/invitations\/([A-Za-z0-9_-]{43})\/accept)/;
let n = 0;
const newEmail = () => `person.${Date.now()}.${++n}@example.org`;

async function jobState(queue: string, email: string): Promise<Array<{ state: string; retry_count: number }>> {
  const rows = await t.database.db.withSchema('pgboss').from('job').where({ name: queue });
  return rows.filter((r: { data: { message: { to: string[] } } }) => r.data.message.to.includes(email));
}

async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('invitation mail over SMTP', () => {
  it('invite → mail (recipients, subject, body, link) → accept with the link → active user', async () => {
    const email = newEmail();
    const invited = await post('/users/invite', { email, role: 'analyst' });
    expect(invited.status).toBe(201);
    const [mail] = (await smtp.waitFor(smtp.received.length + 1)).slice(-1);
    expect(mail!.recipients).toEqual([email]);
    expect(mail!.from).toBe('noreply@sightline.test');
    expect(mail!.headers.to).toBe(email);
    expect(mail!.headers.from).toBe(FROM);
    expect(mail!.headers.subject).toBe('You are invited to Test Organization on Sightline');
    expect(mail!.body).toContain('join the organization "Test Organization" on Sightline');
    expect(mail!.body).toMatch(/valid until \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC, usable once/);
    const [, link, token] = LINK.exec(mail!.body)!;
    expect(mail!.body).toContain(`curl -X POST '${link}'`);

    const accepted = await post(new URL(link!).pathname, { firstname: 'Grace', lastname: 'Hopper', password: 'a long enough secret' }, null);
    expect(accepted.status).toBe(200);
    const user = await t.api.get(`/users/${invited.body.data.id}`).set('Authorization', auth(t.adminSecret));
    expect(user.body.data.attributes).toMatchObject({ firstname: 'Grace', lastname: 'Hopper', email, role: 'analyst', deactivated_at: null });
    expect(Date.parse(user.body.data.attributes.invitation_accepted_at)).not.toBeNaN();
    expectValidJsonApi(user.body);
    expect((await post(`/invitations/${token}/accept`, { firstname: 'G', lastname: 'H', password: 'another long secret' }, null)).status).toBe(410);
    await eventually(async () => ((await jobState(MAIL_SEND_QUEUE, email))[0]?.state === 'completed' ? true : undefined));
  });

  it('resend mails a new link; the old link no longer works', async () => {
    const email = newEmail();
    const invited = await post('/users/invite', { email });
    const first = (await smtp.waitFor(smtp.received.length + 1)).at(-1)!;
    const oldToken = LINK.exec(first.body)![2]!;
    expect((await post(`/users/${invited.body.data.id}/resend_invite`)).status).toBe(204);
    const second = (await smtp.waitFor(smtp.received.length + 1)).at(-1)!;
    expect(second.recipients).toEqual([email]);
    const newToken = LINK.exec(second.body)![2]!;
    expect(newToken).not.toBe(oldToken);
    const old = await post(`/invitations/${oldToken}/accept`, { firstname: 'A', lastname: 'B', password: 'a long enough secret' }, null);
    expect(old.status).toBe(410);
    expect(old.body.errors[0].detail).toMatch(/newer invitation/);
    expect((await post(`/invitations/${newToken}/accept`, { firstname: 'A', lastname: 'B', password: 'a long enough secret' }, null)).status).toBe(200);
  });

  it('a failing SMTP server (451 on the first two attempts) still gets the mail after retries', async () => {
    const email = newEmail();
    const attemptsBefore = smtp.attempts;
    const receivedBefore = smtp.received.length;
    smtp.rejectNext(2);
    expect((await post('/users/invite', { email })).status).toBe(201);
    const mail = (await smtp.waitFor(receivedBefore + 1, 30_000)).at(-1)!;
    expect(mail.recipients).toEqual([email]);
    expect(smtp.attempts - attemptsBefore).toBe(3);
    const [job] = await eventually(async () => {
      const jobs = await jobState(MAIL_SEND_QUEUE, email);
      return jobs[0]?.state === 'completed' ? jobs : undefined;
    });
    expect(job!.retry_count).toBe(2);
    expect(LINK.test(mail.body)).toBe(true);
  });

  it('a payload that can never be delivered goes straight to the dead-letter queue', async () => {
    const id = await boss.send(MAIL_SEND_QUEUE, { kind: 'broken', message: { to: ['nobody@example.org'], subject: 'x' } });
    const dead = await eventually(async () => {
      const rows = await t.database.db.withSchema('pgboss').from('job').where({ name: MAIL_DEAD_LETTER_QUEUE });
      return rows.find((r: { data: { kind: string } }) => r.data.kind === 'broken');
    });
    expect(dead.data.message.to).toEqual(['nobody@example.org']);
    const original = await t.database.db.withSchema('pgboss').from('job').where({ id }).first();
    expect(original).toMatchObject({ state: 'failed', retry_count: 0 });
  });

  it('after the retry limit the message stays in the dead-letter queue, complete', async () => {
    await ensureMailQueues(boss, { retryLimit: 1, retryDelaySeconds: 1, retryDelayMaxSeconds: 1 });
    const email = newEmail();
    smtp.rejectNext(1000);
    try {
      expect((await post('/users/invite', { email })).status).toBe(201);
      const [dead] = await eventually(async () => {
        const jobs = await jobState(MAIL_DEAD_LETTER_QUEUE, email);
        return jobs.length ? (jobs as unknown as Array<{ data: { kind: string; message: { subject: string; text: string } } }>) : undefined;
      }, 30_000);
      expect(dead!.data.kind).toBe('invitation');
      expect(dead!.data.message.subject).toBe('You are invited to Test Organization on Sightline');
      expect(LINK.test(dead!.data.message.text)).toBe(true);
      const [original] = await jobState(MAIL_SEND_QUEUE, email);
      expect(original).toMatchObject({ state: 'failed', retry_count: 1 });
    } finally {
      smtp.rejectNext(0);
      await ensureMailQueues(boss, FAST_RETRIES);
    }
  });
});

describe('share dashboard', () => {
  it("invite → accept → share with the user's group → the user gets one mail; group and dashboard show the share", async () => {
    const email = newEmail();
    const invited = await post('/users/invite', { email, role: 'viewer' });
    const invitation = (await smtp.waitFor(smtp.received.length + 1)).at(-1)!;
    const [, link] = LINK.exec(invitation.body)!;
    expect((await post(new URL(link!).pathname, { firstname: 'Ada', lastname: 'Lovelace', password: 'a long enough secret' }, null)).status).toBe(200);
    const group = await t.api
      .post('/user_groups')
      .set('Authorization', auth(t.adminSecret))
      .send({ data: { attributes: { name: `Readers ${Date.now()}` }, relationships: { users: { data: [{ type: 'users', id: invited.body.data.id }] } } } });
    expect(group.status).toBe(201);
    const dashboard = await t.api
      .post('/dashboards')
      .set('Authorization', auth(t.adminSecret))
      .send({ data: { attributes: { name: 'Quarterly numbers' } } });
    expect(dashboard.status).toBe(201);
    expect(dashboard.body.data.attributes.published).toBe(false);

    const before = smtp.received.length;
    const shared = await post(`/dashboards/${dashboard.body.data.id}/share`, {
      share_mode: 'custom',
      user_group_ids: [group.body.data.id],
      notify_new_users: true,
    });
    expect(shared.status).toBe(204);
    const mail = (await smtp.waitFor(before + 1)).at(-1)!;
    expect(mail.recipients).toEqual([email]);
    expect(mail.headers.subject).toBe('A dashboard was shared with you: Quarterly numbers');
    expect(mail.body).toContain('Hello Ada');
    expect(mail.body).toContain(`${BASE_URL}/dashboards/${dashboard.body.data.id}`);

    const got = await t.api.get(`/dashboards/${dashboard.body.data.id}?include=user_groups`).set('Authorization', auth(t.adminSecret));
    expect(got.body.data.attributes.published).toBe(true);
    expect(got.body.data.relationships.user_groups.data).toEqual([{ type: 'user_groups', id: group.body.data.id }]);
    expectValidJsonApi(got.body);
    const g = await t.api.get(`/user_groups/${group.body.data.id}?include=dashboards`).set('Authorization', auth(t.adminSecret));
    expect(g.body.data.relationships.dashboards.data).toEqual([{ type: 'dashboards', id: dashboard.body.data.id }]);
    expect(g.body.included.map((i: { type: string; id: string }) => `${i.type}:${i.id}`)).toContain(`dashboards:${dashboard.body.data.id}`);
    expectValidJsonApi(g.body);

    // Sharing again (now with all users too) mails nobody who could already see it. Mail is enqueued
    // in the share's own transaction, so the queue says it at once (no waiting to see nothing arrive).
    const queued = (await jobState(MAIL_SEND_QUEUE, email)).length;
    expect(
      (
        await post(`/dashboards/${dashboard.body.data.id}/share`, {
          share_mode: 'custom',
          user_group_ids: [group.body.data.id, 'all_users'],
          notify_new_users: true,
        })
      ).status,
    ).toBe(204);
    expect((await jobState(MAIL_SEND_QUEUE, email)).length).toBe(queued);

    // Unsharing clears the groups; invalid input is a clear 4xx.
    expect((await post(`/dashboards/${dashboard.body.data.id}/share`, { share_mode: 'none' })).status).toBe(204);
    const after = await t.api.get(`/dashboards/${dashboard.body.data.id}`).set('Authorization', auth(t.adminSecret));
    expect(after.body.data.attributes.published).toBe(false);
    expect((await post(`/dashboards/${dashboard.body.data.id}/share`, { share_mode: 'custom', user_group_ids: ['zzzz-zzzz-zzzz'] })).status).toBe(422);
    expect((await post(`/dashboards/${dashboard.body.data.id}/share`, { share_mode: 'everyone' })).status).toBe(422);
    expect((await post(`/dashboards/${dashboard.body.data.id}/share`, { share_mode: 'all_users', user_group_ids: [group.body.data.id] })).status).toBe(422);
    expect((await post('/dashboards/zzzz-zzzz-zzzz/share', { share_mode: 'none' })).status).toBe(404);
    const other = await t.services.organizations.create('Elsewhere');
    expect((await post(`/dashboards/${dashboard.body.data.id}/share`, { share_mode: 'all_users' }, other.adminKey.secret)).status).toBe(404);
  });
});
