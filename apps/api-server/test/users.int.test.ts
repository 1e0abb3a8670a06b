import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  MAIL_SEND_QUEUE,
  MailService,
  UnavailableError,
  UserService,
  createJobQueue,
  createLogger,
  ensureMailQueues,
  startQueue,
  stopQueue,
  type Permission,
  type PgBoss,
} from '@sightline/domain';
import * as backfill from '../../../packages/domain/src/db/migrations/20261123040300_add_built_in_user_groups.js';
import { auth, createApiTestContext, type ApiTestContext } from '../../../test/support/context.js';
import { expectValidJsonApi } from '../../../test/support/jsonapi-schema.js';

let t: ApiTestContext;
let boss: PgBoss;
let otherSecret: string;
let otherOrgId: string;
const JSONAPI = 'application/vnd.api+json';
const BASE_URL = 'https://sightline.example';

beforeAll(async () => {
  t = await createApiTestContext({
    extraDeps: async (database) => {
      boss = await startQueue({ connectionString: database.url, logger: createLogger('silent', 'test'), applicationName: 'users-test-queue', max: 3 });
      await ensureMailQueues(boss);
      return { deps: { mailQueue: createJobQueue(boss), apiBaseUrl: BASE_URL }, close: () => stopQueue(boss, 2000) };
    },
  });
  const other = await t.services.organizations.create('Other Organization');
  otherSecret = other.adminKey.secret;
  otherOrgId = other.organization.id;
});
afterAll(async () => {
  await t.close();
});

/** Sends a request and checks that the answer (if it has a body) is valid JSON:API. */
async function call(
  method: 'get' | 'post' | 'patch' | 'delete',
  path: string,
  options: { secret?: string | null; body?: unknown; raw?: string; type?: string } = {},
) {
  const req = t.api[method](path);
  const secret = options.secret === undefined ? t.adminSecret : options.secret;
  if (secret) req.set('Authorization', auth(secret));
  if (options.raw !== undefined || options.body !== undefined) {
    req.set('Content-Type', options.type ?? (method === 'patch' || (method === 'post' && path === '/user_groups') ? JSONAPI : 'application/json'));
    req.send(options.raw ?? JSON.stringify(options.body));
  }
  const res = await req;
  expect(res.status).not.toBe(500);
  if (res.status !== 204) {
    expect(res.headers['content-type']).toContain(JSONAPI);
    expectValidJsonApi(res.body);
  } else {
    expect(res.text).toBe('');
  }
  return res;
}

async function keyWith(...permissions: Permission[]): Promise<string> {
  const key = await t.services.apiKeys.create(t.organization.id, {
    name: `k-${permissions.join('-') || 'none'}`,
    permissions: permissions.map((permission) => ({ permission, datasourceIds: null })),
  });
  return key.secret;
}

let counter = 0;
const uniqueEmail = (prefix = 'user') => `${prefix}.${Date.now()}.${++counter}@example.com`;

async function invite(body: Record<string, unknown>, secret?: string) {
  return call('post', '/users/invite', { body, secret });
}

interface MailJobRow {
  id: string;
  data: { kind: string; message: { to: string[]; subject: string; text: string } };
}
async function mailJobs(to?: string): Promise<MailJobRow[]> {
  const rows = (await t.database.db.withSchema('pgboss').from('job').where({ name: MAIL_SEND_QUEUE }).orderBy('created_on').orderBy('id')) as MailJobRow[];
  return to ? rows.filter((r) => r.data.message.to.includes(to)) : rows;
}

const TOKEN_IN_LINK = /https:\/\/sightline\.example\/invitations\/([A-Za-z0-9_-]{43})\/accept/;
async function latestToken(email: string): Promise<string> {
  const jobs = await mailJobs(email);
  const match = TOKEN_IN_LINK.exec(jobs.at(-1)!.data.message.text);
  if (!match) throw new Error('no link in the invitation mail');
  return match[1]!;
}

const accept = (token: string, body: unknown = { firstname: 'Ada', lastname: 'Lovelace', password: 'correct horse battery' }) =>
  call('post', `/invitations/${token}/accept`, { body, secret: null });

async function invitedUser(role = 'viewer', extra: Record<string, unknown> = {}) {
  const email = uniqueEmail(role);
  const res = await invite({ email, role, ...extra });
  expect(res.status).toBe(201);
  return { id: res.body.data.id as string, email };
}

async function activeUser(role = 'viewer') {
  const u = await invitedUser(role);
  expect((await accept(await latestToken(u.email))).status).toBe(200);
  return u;
}

async function builtIns(orgId = t.organization.id) {
  const rows = await t.database.db('user_groups').where({ organization_id: orgId }).whereNotNull('built_in_behavior');
  return Object.fromEntries(rows.map((r: { built_in_behavior: string; id: string }) => [r.built_in_behavior, r.id])) as {
    all_users: string;
    all_analysts: string;
  };
}

async function customGroup(name: string, userIds: string[] = [], secret?: string) {
  const res = await call('post', '/user_groups', {
    body: { data: { type: 'user_groups', attributes: { name }, relationships: { users: { data: userIds.map((id) => ({ type: 'users', id })) } } } },
    secret,
  });
  expect(res.status).toBe(201);
  return res.body.data.id as string;
}

describe('built-in user groups', () => {
  it('exist in every organization, are listed first and compute their members', async () => {
    const analyst = await invitedUser('analyst');
    const viewer = await invitedUser('viewer');
    const res = await call('get', '/user_groups');
    expect(res.status).toBe(200);
    const [first, second] = res.body.data;
    expect([first.attributes.built_in_behavior, second.attributes.built_in_behavior].sort()).toEqual(['all_analysts', 'all_users']);
    const allUsers = res.body.data.find((g: { attributes: { built_in_behavior: string } }) => g.attributes.built_in_behavior === 'all_users');
    const allAnalysts = res.body.data.find((g: { attributes: { built_in_behavior: string } }) => g.attributes.built_in_behavior === 'all_analysts');
    const ids = (g: { relationships: { users: { data: Array<{ id: string }> } } }) => g.relationships.users.data.map((d) => d.id);
    expect(ids(allUsers)).toEqual(expect.arrayContaining([analyst.id, viewer.id]));
    expect(ids(allAnalysts)).toContain(analyst.id);
    expect(ids(allAnalysts)).not.toContain(viewer.id);
    expect(allUsers.relationships.dashboards).toEqual({ data: [] });

    const other = await call('get', '/user_groups', { secret: otherSecret });
    expect(other.body.data.filter((g: { attributes: { built_in_behavior: string | null } }) => g.attributes.built_in_behavior)).toHaveLength(2);
    expect(ids(other.body.data[0])).not.toContain(analyst.id);
  });

  it('cannot be changed or deleted (422)', async () => {
    const { all_users } = await builtIns();
    const patch = await call('patch', `/user_groups/${all_users}`, {
      body: { data: { type: 'user_groups', id: all_users, attributes: { name: 'Everyone' } } },
    });
    expect(patch.status).toBe(422);
    expect(patch.body.errors[0].detail).toMatch(/built-in/);
    const del = await call('delete', `/user_groups/${all_users}`);
    expect(del.status).toBe(422);
    expect((await call('get', `/user_groups/${all_users}`)).body.data.attributes.name).toBe('All Users');
  });

  it('are back-filled by the migration for organizations created before it', async () => {
    await t.database.db('user_groups').where({ organization_id: otherOrgId }).whereNotNull('built_in_behavior').delete();
    await backfill.up(t.database.db);
    const groups = await builtIns(otherOrgId);
    expect(groups.all_users).toMatch(/^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/);
    expect(groups.all_analysts).toMatch(/^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/);
    await backfill.up(t.database.db);
    expect(await t.database.db('user_groups').where({ organization_id: otherOrgId }).whereNotNull('built_in_behavior').count('* as n')).toEqual([{ n: 2 }]);
  });
});

describe('invite user (POST /users/invite)', () => {
  it('creates a pending user (201, JSON:API) and enqueues the invitation mail in the same transaction', async () => {
    const group = await customGroup(`Invitees ${counter++}`);
    const email = uniqueEmail('invitee');
    const res = await invite({ email, role: 'analyst', user_group_ids: [group] });
    expect(res.status).toBe(201);
    const { id, type, attributes, relationships } = res.body.data;
    expect(type).toBe('users');
    expect(attributes).toMatchObject({
      email,
      role: 'analyst',
      firstname: null,
      lastname: null,
      deactivated_at: null,
      invitation_accepted_at: null,
      otp_app_enabled: false,
      otp_phone_enabled: false,
    });
    expect(Date.parse(attributes.invitation_created_at)).not.toBeNaN();
    const { all_users, all_analysts } = await builtIns();
    expect(relationships.user_groups.data.map((d: { id: string }) => d.id).sort()).toEqual([all_users, all_analysts, group].sort());
    expect(relationships.invited_by_user).toEqual({ data: null });

    const jobs = await mailJobs(email);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.data.message.subject).toBe('You are invited to Test Organization on Sightline');
    const token = await latestToken(email);
    const rows = await t.database.db('invitations').where({ user_id: id });
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows[0].expires_at.getTime() - Date.now()).toBeGreaterThan(7 * 86_400_000 - 60_000);
  });

  it('defaults to role viewer and no custom groups', async () => {
    const res = await invite({ email: uniqueEmail() });
    expect(res.status).toBe(201);
    expect(res.body.data.attributes.role).toBe('viewer');
    expect(res.body.data.relationships.user_groups.data).toEqual([{ type: 'user_groups', id: (await builtIns()).all_users }]);
  });

  it('answers 409 for an e-mail address already in the organization (any letter case), but allows it in another one', async () => {
    const email = uniqueEmail('dup');
    expect((await invite({ email })).status).toBe(201);
    const again = await invite({ email: email.toUpperCase() });
    expect(again.status).toBe(409);
    expect(again.body.errors[0].detail).toMatch(/already exists/);
    expect((await invite({ email }, otherSecret)).status).toBe(201);
  });

  it.each([
    ['bad JSON', { raw: '{"email": ' }, 400],
    ['a JSON array', { body: [] }, 422],
    ['a missing email', { body: { role: 'viewer' } }, 422],
    ['an invalid email', { body: { email: 'not-an-email' } }, 422],
    ['a number as email', { body: { email: 42 } }, 422],
    ['an unknown role', { body: { email: 'x@example.com', role: 'owner' } }, 422],
    ['an unknown attribute', { body: { email: 'x@example.com', firstname: 'X' } }, 422],
    ['user_group_ids not a list', { body: { email: 'x@example.com', user_group_ids: 'abc' } }, 422],
    ['an unknown group id', { body: { email: 'x@example.com', user_group_ids: ['zzzz-zzzz-zzzz'] } }, 404],
    ['a text/plain body', { raw: 'email=x', type: 'text/plain' }, 415],
  ])('rejects %s without creating anything', async (_label, options, status) => {
    const before = await t.database.db('users').count('* as n');
    const jobsBefore = (await mailJobs()).length;
    const res = await call('post', '/users/invite', options as { raw?: string; body?: unknown; type?: string });
    expect(res.status).toBe(status);
    expect(await t.database.db('users').count('* as n')).toEqual(before);
    expect((await mailJobs()).length).toBe(jobsBefore);
  });

  it("refuses another organization's group ids (404) and leaves no user behind", async () => {
    const foreign = (await builtIns(otherOrgId)).all_users;
    const email = uniqueEmail('foreign');
    const res = await invite({ email, user_group_ids: [foreign] });
    expect(res.status).toBe(404);
    expect(res.body.errors[0].source).toEqual({ pointer: '/user_group_ids/0' });
    expect(await t.database.db('users').where({ email })).toHaveLength(0);
  });

  it('refuses the built-in analysts group for a viewer (422)', async () => {
    const res = await invite({ email: uniqueEmail(), role: 'viewer', user_group_ids: [(await builtIns()).all_analysts] });
    expect(res.status).toBe(422);
  });

  it('answers 503 when the process has no job queue (nothing is half-created)', async () => {
    const service = new UserService({ db: t.database.db, mail: new MailService({}), apiBaseUrl: BASE_URL });
    const email = uniqueEmail('noqueue');
    await expect(service.invite(t.organization.id, { email })).rejects.toBeInstanceOf(UnavailableError);
    expect(await t.database.db('users').where({ email })).toHaveLength(0);
  });
});

describe('accept invitation (POST /invitations/{token}/accept)', () => {
  it('activates the user with name and a scrypt password hash; the link works once', async () => {
    const { id, email } = await invitedUser();
    const token = await latestToken(email);
    const res = await accept(token);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ id, type: 'users', attributes: { firstname: 'Ada', lastname: 'Lovelace', email } });
    expect(res.body.data.attributes.otp_app_enabled).toBeUndefined();
    expect(Date.parse(res.body.data.attributes.invitation_accepted_at)).not.toBeNaN();
    const row = await t.database.db('users').where({ id }).first();
    expect(row.password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(row.password_hash).not.toContain('correct horse');

    const again = await accept(token);
    expect(again.status).toBe(410);
    expect(again.body.errors[0]).toMatchObject({ code: '410', meta: { error_code: 'invitation_used' } });
  });

  it('GET on the link describes the invitation (plain JSON) without using it', async () => {
    const { email } = await invitedUser();
    const token = await latestToken(email);
    const res = await t.api.get(`/invitations/${token}/accept`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('application/json');
    expect(res.body).toMatchObject({ email, organization: 'Test Organization', accept: { method: 'POST' } });
    expect(Date.parse(res.body.expires_at)).toBeGreaterThan(Date.now());
    expect((await accept(token)).status).toBe(200);
    const used = await t.api.get(`/invitations/${token}/accept`);
    expect(used.status).toBe(410);
    expectValidJsonApi(used.body);
    expect((await t.api.get(`/invitations/${'B'.repeat(43)}/accept`)).status).toBe(404);
  });

  it('answers 404 for unknown or malformed tokens and 410 for expired ones', async () => {
    expect((await accept('A'.repeat(43))).status).toBe(404);
    expect((await accept('short')).status).toBe(404);
    expect((await accept('%00'.repeat(3))).status).toBe(404);
    const { id, email } = await invitedUser();
    const token = await latestToken(email);
    await t.database
      .db('invitations')
      .where({ user_id: id })
      .update({ expires_at: new Date(Date.now() - 1000) });
    const expired = await accept(token);
    expect(expired.status).toBe(410);
    expect(expired.body.errors[0].meta.error_code).toBe('invitation_expired');
    expect((await t.database.db('users').where({ id }).first()).invitation_accepted_at).toBeNull();
  });

  it.each([
    ['no body', undefined, 400],
    ['bad JSON', '{', 400],
    ['a short password', { firstname: 'A', lastname: 'B', password: 'short' }, 422],
    ['a missing lastname', { firstname: 'A', password: 'long enough password' }, 422],
    ['an empty firstname', { firstname: '  ', lastname: 'B', password: 'long enough password' }, 422],
    ['an unknown attribute', { firstname: 'A', lastname: 'B', password: 'long enough password', role: 'admin' }, 422],
    ['a number as password', { firstname: 'A', lastname: 'B', password: 1234567890123 }, 422],
  ])('rejects %s and leaves the invitation usable', async (_label, body, status) => {
    const { email } = await invitedUser();
    const token = await latestToken(email);
    const res =
      typeof body === 'string'
        ? await call('post', `/invitations/${token}/accept`, { raw: body, secret: null })
        : body === undefined
          ? await call('post', `/invitations/${token}/accept`, { secret: null })
          : await accept(token, body);
    expect(res.status).toBe(status);
    expect((await accept(token)).status).toBe(200);
  });

  it('refuses a deactivated user (422)', async () => {
    const { id, email } = await invitedUser();
    expect((await call('post', `/users/${id}/deactivate`)).status).toBe(204);
    expect((await accept(await latestToken(email))).status).toBe(422);
  });
});

describe('resend and delete invitations', () => {
  it('resend issues a new token and the old one stops working (410)', async () => {
    const { id, email } = await invitedUser();
    const oldToken = await latestToken(email);
    expect((await call('post', `/users/${id}/resend_invite`)).status).toBe(204);
    const newToken = await latestToken(email);
    expect(newToken).not.toBe(oldToken);
    expect(await mailJobs(email)).toHaveLength(2);
    const old = await accept(oldToken);
    expect(old.status).toBe(410);
    expect(old.body.errors[0].meta.error_code).toBe('invitation_replaced');
    expect((await accept(newToken)).status).toBe(200);
    const resendAccepted = await call('post', `/users/${id}/resend_invite`);
    expect(resendAccepted.status).toBe(422);
  });

  it('delete removes the pending user (204) and its link; accepted invitations cannot be deleted (422)', async () => {
    const { id, email } = await invitedUser();
    const token = await latestToken(email);
    expect((await call('delete', `/users/${id}/invite`)).status).toBe(204);
    expect((await call('get', `/users/${id}`)).status).toBe(404);
    expect((await accept(token)).status).toBe(404);
    expect((await call('delete', `/users/${id}/invite`)).status).toBe(404);
    const accepted = await activeUser();
    const res = await call('delete', `/users/${accepted.id}/invite`);
    expect(res.status).toBe(422);
    expect(res.body.errors[0].detail).toMatch(/already accepted/);
  });
});

describe('list and get users', () => {
  it('lists users with include=user_groups', async () => {
    const u = await invitedUser('analyst');
    const group = await customGroup(`Listed ${counter++}`, [u.id]);
    const res = await call('get', '/users?include=user_groups');
    expect(res.status).toBe(200);
    expect(res.body.data.map((d: { id: string }) => d.id)).toContain(u.id);
    const includedIds = res.body.included.map((i: { type: string; id: string }) => `${i.type}:${i.id}`);
    const { all_users, all_analysts } = await builtIns();
    expect(includedIds).toEqual(expect.arrayContaining([`user_groups:${group}`, `user_groups:${all_users}`, `user_groups:${all_analysts}`]));
    expect((await call('get', '/users')).body.included).toBeUndefined();
  });

  it.each([
    ['/users?include=invited_by_user', 400],
    ['/users?include=user_groups,users', 400],
    ['/users?page[size]=10', 400],
    ['/users?include=user_groups&include=user_groups', 400],
  ])('rejects %s', async (path, status) => {
    expect((await call('get', path)).status).toBe(status);
  });

  it('gets a user with include=user_groups,invited_by_user', async () => {
    const inviter = await activeUser('analyst');
    const invited = await t.services.users.invite(t.organization.id, { email: uniqueEmail('byuser'), invitedByUserId: inviter.id });
    const res = await call('get', `/users/${invited.id}?include=user_groups,invited_by_user`);
    expect(res.status).toBe(200);
    expect(res.body.data.relationships.invited_by_user).toEqual({ data: { type: 'users', id: inviter.id } });
    const inc = res.body.included.find((i: { type: string; id: string }) => i.type === 'users' && i.id === inviter.id);
    expect(inc.attributes).toMatchObject({ email: inviter.email, firstname: 'Ada' });
    expect(res.body.included.some((i: { type: string }) => i.type === 'user_groups')).toBe(true);
    expect((await call('get', `/users/${invited.id}?include=dashboards`)).status).toBe(400);
  });

  it('shows OTP flags only to keys with Manage Users (also in included users)', async () => {
    const u = await activeUser();
    await t.database.db('users').where({ id: u.id }).update({ otp_app_enabled: true });
    const group = await customGroup(`Otp ${counter++}`, [u.id]);
    const viewSecret = await keyWith('View Users');
    const asManager = await call('get', `/users/${u.id}`);
    expect(asManager.body.data.attributes).toMatchObject({ otp_app_enabled: true, otp_phone_enabled: false });
    const asViewer = await call('get', `/users/${u.id}`, { secret: viewSecret });
    expect(asViewer.status).toBe(200);
    expect(asViewer.body.data.attributes).not.toHaveProperty('otp_app_enabled');
    expect(asViewer.body.data.attributes).not.toHaveProperty('otp_phone_enabled');
    const list = await call('get', '/users', { secret: viewSecret });
    expect(list.body.data.every((d: { attributes: object }) => !('otp_app_enabled' in d.attributes))).toBe(true);
    const groupAsViewer = await call('get', `/user_groups/${group}?include=users`, { secret: viewSecret });
    expect(groupAsViewer.body.included[0].attributes).not.toHaveProperty('otp_app_enabled');
    const groupAsManager = await call('get', `/user_groups/${group}?include=users`);
    expect(groupAsManager.body.included[0].attributes.otp_app_enabled).toBe(true);
  });
});

describe('update user (PATCH /users/{id})', () => {
  const patch = (id: string, data: Record<string, unknown>, secret?: string) =>
    call('patch', `/users/${id}`, { body: { data: { type: 'users', id, ...data } }, secret });

  it('changes the role between viewer and analyst and replaces custom groups', async () => {
    const u = await activeUser();
    const g1 = await customGroup(`G1 ${counter++}`, [u.id]);
    const g2 = await customGroup(`G2 ${counter++}`);
    const { all_users, all_analysts } = await builtIns();
    const res = await patch(u.id, {
      attributes: { role: 'analyst' },
      relationships: {
        user_groups: {
          data: [
            { type: 'user_groups', id: g2 },
            { type: 'user_groups', id: all_users },
          ],
        },
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.data.attributes.role).toBe('analyst');
    expect(res.body.data.relationships.user_groups.data.map((d: { id: string }) => d.id).sort()).toEqual([all_users, all_analysts, g2].sort());
    const g1Now = await call('get', `/user_groups/${g1}`);
    expect(g1Now.body.data.relationships.users.data).toEqual([]);
    // a fetched relationship can be sent back unchanged (built-in ids included)
    const roundTrip = await patch(u.id, { relationships: { user_groups: res.body.data.relationships.user_groups } });
    expect(roundTrip.status).toBe(200);
    expect(roundTrip.body.data.relationships).toEqual(res.body.data.relationships);
    expect((await patch(u.id, { attributes: { role: 'viewer' } })).body.data.attributes.role).toBe('viewer');
  });

  it('never promotes to admin and never updates admins (422)', async () => {
    const u = await activeUser();
    const promote = await patch(u.id, { attributes: { role: 'admin' } });
    expect(promote.status).toBe(422);
    const admin = await invitedUser('admin');
    const res = await patch(admin.id, { attributes: { role: 'viewer' } });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].detail).toMatch(/Admin users cannot be updated/);
    const groupsOnly = await patch(admin.id, { relationships: { user_groups: { data: [] } } });
    expect(groupsOnly.status).toBe(422);
  });

  it.each([
    ['an unknown attribute', { attributes: { email: 'new@example.com' } }, 422],
    ['a wrong type of role', { attributes: { role: 7 } }, 422],
    ['a read-only relationship', { relationships: { invited_by_user: { data: null } } }, 422],
    ['an unknown relationship', { relationships: { dashboards: { data: [] } } }, 422],
    ['linkage of the wrong type', { relationships: { user_groups: { data: [{ type: 'users', id: 'abcd-abcd-abcd' }] } } }, 422],
    ['an unknown group', { relationships: { user_groups: { data: [{ type: 'user_groups', id: 'zzzz-zzzz-zzzz' }] } } }, 404],
  ])('rejects %s', async (_label, data, status) => {
    const u = await activeUser();
    expect((await patch(u.id, data)).status).toBe(status);
  });

  it('answers 409 for a type or id mismatch and 400 for a malformed document', async () => {
    const u = await activeUser();
    expect((await call('patch', `/users/${u.id}`, { body: { data: { type: 'user_groups', attributes: {} } } })).status).toBe(409);
    expect((await call('patch', `/users/${u.id}`, { body: { data: { type: 'users', id: 'other-id', attributes: {} } } })).status).toBe(409);
    expect((await call('patch', `/users/${u.id}`, { body: { attributes: { role: 'viewer' } } })).status).toBe(400);
    expect((await call('patch', `/users/${u.id}`, { raw: 'nope' })).status).toBe(400);
  });

  it("refuses the built-in analysts group for a viewer (422) and another organization's group (404)", async () => {
    const u = await activeUser();
    expect((await patch(u.id, { relationships: { user_groups: { data: [{ type: 'user_groups', id: (await builtIns()).all_analysts }] } } })).status).toBe(422);
    const foreign = await call('post', '/user_groups', { body: { data: { attributes: { name: `Foreign ${counter++}` } } }, secret: otherSecret });
    expect((await patch(u.id, { relationships: { user_groups: { data: [{ type: 'user_groups', id: foreign.body.data.id }] } } })).status).toBe(404);
  });
});

describe('deactivate and activate', () => {
  it('deactivates (204): the user leaves the built-in groups; admins cannot be deactivated (422)', async () => {
    const u = await activeUser('analyst');
    expect((await call('post', `/users/${u.id}/deactivate`)).status).toBe(204);
    const got = await call('get', `/users/${u.id}`);
    expect(Date.parse(got.body.data.attributes.deactivated_at)).not.toBeNaN();
    expect(got.body.data.relationships.user_groups.data).toEqual([]);
    expect((await call('post', `/users/${u.id}/deactivate`)).status).toBe(204);
    const admin = await invitedUser('admin');
    const res = await call('post', `/users/${admin.id}/deactivate`);
    expect(res.status).toBe(422);
    expect(res.body.errors[0].detail).toMatch(/Admin users cannot be deactivated/);
  });

  it('re-activates as analyst only with a free analyst seat (422), as viewer always', async () => {
    const u = await activeUser('analyst');
    expect((await call('post', `/users/${u.id}/deactivate`)).status).toBe(204);
    const seats = await t.database
      .db('users')
      .where({ organization_id: t.organization.id })
      .whereNull('deactivated_at')
      .whereIn('role', ['analyst', 'admin'])
      .count('* as n');
    await t.database
      .db('organizations')
      .where({ id: t.organization.id })
      .update({ analyst_seats: Number(seats[0]!.n) });
    try {
      const full = await call('post', `/users/${u.id}/activate`);
      expect(full.status).toBe(422);
      expect(full.body.errors[0].meta.error_code).toBe('no_analyst_seat');
      const asAnalyst = await call('post', `/users/${u.id}/activate`, { body: { role: 'analyst' } });
      expect(asAnalyst.status).toBe(422);
      // seats also bound invitations and promotions
      expect((await invite({ email: uniqueEmail(), role: 'analyst' })).status).toBe(422);
      const viewer = await activeUser();
      expect((await call('patch', `/users/${viewer.id}`, { body: { data: { attributes: { role: 'analyst' } } } })).status).toBe(422);

      expect((await call('post', `/users/${u.id}/activate`, { body: { role: 'viewer' } })).status).toBe(204);
      const got = await call('get', `/users/${u.id}`);
      expect(got.body.data.attributes).toMatchObject({ role: 'viewer', deactivated_at: null });
    } finally {
      await t.database.db('organizations').where({ id: t.organization.id }).update({ analyst_seats: null });
    }
    expect((await call('post', `/users/${u.id}/deactivate`)).status).toBe(204);
    expect((await call('post', `/users/${u.id}/activate`, { body: { role: 'analyst' } })).status).toBe(204);
    expect((await call('get', `/users/${u.id}`)).body.data.attributes.role).toBe('analyst');
  });

  it('re-activates admins only as viewer or analyst', async () => {
    const admin = await invitedUser('admin');
    await t.database.db('users').where({ id: admin.id }).update({ deactivated_at: new Date() });
    const noRole = await call('post', `/users/${admin.id}/activate`);
    expect(noRole.status).toBe(422);
    expect((await call('post', `/users/${admin.id}/activate`, { body: { role: 'admin' } })).status).toBe(422);
    expect((await call('post', `/users/${admin.id}/activate`, { body: { role: 'analyst' } })).status).toBe(204);
    expect((await call('get', `/users/${admin.id}`)).body.data.attributes).toMatchObject({ role: 'analyst', deactivated_at: null });
  });

  it.each([
    ['bad JSON', { raw: '{' }, 400],
    ['a string body', { body: 'viewer' }, 422],
    ['an unknown member', { body: { role: 'viewer', force: true } }, 422],
  ])('activate rejects %s', async (_label, options, status) => {
    const u = await activeUser();
    expect((await call('post', `/users/${u.id}/activate`, options)).status).toBe(status);
  });
});

describe('user groups CRUD', () => {
  it('creates, reads with include=users,dashboards, updates and deletes a group', async () => {
    const a = await activeUser();
    const b = await activeUser('analyst');
    const create = await call('post', '/user_groups', {
      body: {
        data: {
          type: 'user_groups',
          attributes: { name: `Sales ${counter++}`, description: 'EMEA' },
          relationships: { users: { data: [{ type: 'users', id: a.id }] }, dashboards: { data: [] } },
        },
      },
    });
    expect(create.status).toBe(201);
    const id = create.body.data.id as string;
    expect(create.body.data.attributes).toMatchObject({ description: 'EMEA', built_in_behavior: null });
    expect(create.body.data.relationships).toEqual({ dashboards: { data: [] }, users: { data: [{ type: 'users', id: a.id }] } });

    const got = await call('get', `/user_groups/${id}?include=users,dashboards`);
    expect(got.status).toBe(200);
    expect(got.body.included.map((i: { type: string; id: string }) => `${i.type}:${i.id}`)).toEqual([`users:${a.id}`]);
    expect((await call('get', `/users/${a.id}`)).body.data.relationships.user_groups.data).toContainEqual({ type: 'user_groups', id });

    const upd = await call('patch', `/user_groups/${id}`, {
      body: {
        data: {
          type: 'user_groups',
          id,
          attributes: { name: 'Renamed', description: null },
          relationships: { users: { data: [{ type: 'users', id: b.id }] } },
        },
      },
    });
    expect(upd.status).toBe(200);
    expect(upd.body.data.attributes).toMatchObject({ name: 'Renamed', description: null });
    expect(upd.body.data.relationships.users.data).toEqual([{ type: 'users', id: b.id }]);
    const nameOnly = await call('patch', `/user_groups/${id}`, { body: { data: { attributes: { name: 'Renamed again' } } } });
    expect(nameOnly.body.data.relationships.users.data).toEqual([{ type: 'users', id: b.id }]);

    expect((await call('delete', `/user_groups/${id}`)).status).toBe(204);
    expect((await call('get', `/user_groups/${id}`)).status).toBe(404);
    expect((await call('get', `/users/${b.id}`)).body.data.relationships.user_groups.data).not.toContainEqual({ type: 'user_groups', id });
  });

  it.each([
    ['a missing name', { attributes: {} }, 422],
    ['an empty name', { attributes: { name: '   ' } }, 422],
    ['a number as name', { attributes: { name: 5 } }, 422],
    ['an unknown attribute', { attributes: { name: 'X', built_in_behavior: 'all_users' } }, 422],
    [
      'an unknown dashboard in the linkage',
      { attributes: { name: 'X' }, relationships: { dashboards: { data: [{ type: 'dashboards', id: 'abcd-abcd-abcd' }] } } },
      404,
    ],
    ['an unknown user', { attributes: { name: 'X' }, relationships: { users: { data: [{ type: 'users', id: 'zzzz-zzzz-zzzz' }] } } }, 404],
    ['a client-generated id', { id: 'abcd-abcd-abcd', attributes: { name: 'X' } }, 403],
  ])('create rejects %s', async (_label, data, status) => {
    expect((await call('post', '/user_groups', { body: { data: { type: 'user_groups', ...data } } })).status).toBe(status);
  });

  it('answers 409 for a duplicate name (any letter case)', async () => {
    const name = `Unique ${counter++}`;
    await customGroup(name);
    const res = await call('post', '/user_groups', { body: { data: { attributes: { name: name.toUpperCase() } } } });
    expect(res.status).toBe(409);
    expect((await call('post', '/user_groups', { body: { data: { attributes: { name: 'All Users' } } } })).status).toBe(409);
  });

  it('rejects unknown includes and query parameters (400)', async () => {
    const id = await customGroup(`Inc ${counter++}`);
    expect((await call('get', `/user_groups/${id}?include=user_groups`)).status).toBe(400);
    expect((await call('get', '/user_groups?include=users')).status).toBe(400);
  });
});

describe('permissions', () => {
  it('needs View Users to read and Manage Users to write (403 otherwise)', async () => {
    const view = await keyWith('View Users');
    const none = await keyWith('Manage Dashboards');
    const u = await activeUser();
    const group = await customGroup(`Perm ${counter++}`);
    for (const [method, path] of [
      ['get', '/users'],
      ['get', `/users/${u.id}`],
      ['get', '/user_groups'],
      ['get', `/user_groups/${group}`],
    ] as const) {
      expect((await call(method, path, { secret: view })).status).toBe(200);
      expect((await call(method, path, { secret: none })).status).toBe(403);
    }
    const writes: Array<['post' | 'patch' | 'delete', string, unknown]> = [
      ['post', '/users/invite', { email: uniqueEmail() }],
      ['patch', `/users/${u.id}`, { data: { attributes: { role: 'analyst' } } }],
      ['post', `/users/${u.id}/deactivate`, undefined],
      ['post', `/users/${u.id}/activate`, undefined],
      ['post', `/users/${u.id}/resend_invite`, undefined],
      ['delete', `/users/${u.id}/invite`, undefined],
      ['post', '/user_groups', { data: { attributes: { name: 'Nope' } } }],
      ['patch', `/user_groups/${group}`, { data: { attributes: { name: 'Nope' } } }],
      ['delete', `/user_groups/${group}`, undefined],
    ];
    for (const [method, path, body] of writes) {
      const res = await call(method, path, { secret: view, body });
      expect([method, path, res.status]).toEqual([method, path, 403]);
      expect(res.body.errors[0].detail).toMatch(/Manage Users/);
    }
    expect((await call('get', '/users', { secret: null })).status).toBe(401);
    expect((await call('post', '/users/invite', { secret: null, body: { email: uniqueEmail() } })).status).toBe(401);
  });

  it('lets a key with only Manage Users read as well (Manage implies View) and see OTP flags', async () => {
    const manage = await keyWith('Manage Users');
    const u = await invitedUser();
    const list = await call('get', '/users?include=user_groups', { secret: manage });
    expect(list.status).toBe(200);
    expect(list.body.data.find((d: { id: string }) => d.id === u.id).attributes).toHaveProperty('otp_app_enabled', false);
    expect((await call('get', '/user_groups', { secret: manage })).status).toBe(200);
    expect((await call('post', `/users/${u.id}/deactivate`, { secret: manage })).status).toBe(204);
  });

  it('gives an all-permission key of another organization 404 for every id of this one', async () => {
    const u = await invitedUser();
    const group = await customGroup(`Tenant ${counter++}`, [u.id]);
    const { all_users } = await builtIns();
    const other = otherSecret;
    const attempts: Array<['get' | 'post' | 'patch' | 'delete', string, unknown]> = [
      ['get', `/users/${u.id}`, undefined],
      ['patch', `/users/${u.id}`, { data: { attributes: { role: 'analyst' } } }],
      ['post', `/users/${u.id}/deactivate`, undefined],
      ['post', `/users/${u.id}/activate`, undefined],
      ['post', `/users/${u.id}/resend_invite`, undefined],
      ['delete', `/users/${u.id}/invite`, undefined],
      ['get', `/user_groups/${group}`, undefined],
      ['get', `/user_groups/${all_users}`, undefined],
      ['patch', `/user_groups/${group}`, { data: { attributes: { name: 'Stolen' } } }],
      ['delete', `/user_groups/${group}`, undefined],
    ];
    for (const [method, path, body] of attempts) {
      const res = await call(method, path, { secret: other, body });
      expect([method, path, res.status]).toEqual([method, path, 404]);
    }
    const foreignGroup = await call('post', '/user_groups', {
      secret: other,
      body: { data: { attributes: { name: `Theirs ${counter++}` }, relationships: { users: { data: [{ type: 'users', id: u.id }] } } } },
    });
    expect(foreignGroup.status).toBe(404);
    const list = await call('get', '/users', { secret: other });
    expect(list.body.data.map((d: { id: string }) => d.id)).not.toContain(u.id);
    const groups = await call('get', '/user_groups', { secret: other });
    expect(groups.body.data.map((d: { id: string }) => d.id)).not.toContain(group);
    // nothing changed
    const mine = await call('get', `/users/${u.id}`);
    expect(mine.body.data.attributes).toMatchObject({ role: 'viewer', deactivated_at: null });
    expect((await call('get', `/user_groups/${group}`)).body.data.relationships.users.data).toEqual([{ type: 'users', id: u.id }]);
  });

  it.each([
    ['a NUL byte', '/users/%00'],
    ['a 5000-character id', `/users/${'x'.repeat(5000)}`],
    ['SQL in the id', "/users/1'%20OR%20'1'='1"],
    ['a NUL byte (groups)', '/user_groups/%00'],
    ['a broken escape', '/users/%ZZ'],
  ])('answers 4xx for a hostile id: %s', async (_label, path) => {
    const res = await call('get', path);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });
});
