// Datasources in connection_mode ssh_tunnel behind a real sshd (test/support/sshd.ts) in front of
// the local PostgreSQL and MariaDB: the organization's key, host key pinning, queries, cancel and
// schema refresh through the tunnel, and clear errors for every way the tunnel can fail.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { expectValidJsonApi } from '../../../test/support/jsonapi-schema.js';
import { createPlatformTestContext, waitForExecution, type PlatformTestContext } from '../../../test/support/platform.js';
import { freePort, startSshd, type TestSshd } from '../../../test/support/sshd.js';

let t: PlatformTestContext;
let sshd: TestSshd;
let publicKey: string;
let admin: pg.Client;
const MARKER = `sl_ssh_${process.pid}`;

const auth = (secret: string) => `Api ${secret}`;
const run = (datasourceId: string, body: Record<string, unknown>) =>
  t.api
    .post(`/datasources/${datasourceId}/executions`)
    .set('Authorization', auth(t.adminSecret))
    .set('Content-Type', 'application/json')
    .send(JSON.stringify(body));
const testConnection = (id: string) => t.api.post(`/datasources/${id}/test_connection`).set('Authorization', auth(t.adminSecret));

async function createDatasource(attributes: Record<string, unknown>): Promise<string> {
  const res = await t.api.post('/datasources').set('Authorization', auth(t.adminSecret)).send({ data: { attributes } });
  expect(res.status).toBe(201);
  return res.body.data.id as string;
}

/** A datasource reaching the local PostgreSQL (127.0.0.1:5432 as seen from the bastion) through `sshd`. */
const pgThrough = (tunnel: Record<string, unknown> = {}) =>
  createDatasource({
    name: `PG via SSH ${Math.random()}`,
    database_type: 'postgres',
    connection_mode: 'ssh_tunnel',
    host: '127.0.0.1',
    port: 5432,
    username: 'postgres',
    database: t.database.name,
    require_ssl: false,
    ssh_tunnel_host: '127.0.0.1',
    ssh_tunnel_port: sshd.port,
    ssh_tunnel_user: sshd.user,
    ...tunnel,
  });
const mariaThrough = (tunnel: Record<string, unknown> = {}) =>
  createDatasource({
    name: `Maria via SSH ${Math.random()}`,
    database_type: 'mariadb',
    connection_mode: 'ssh_tunnel',
    host: '127.0.0.1',
    port: 3306,
    username: 'root',
    database: 'test',
    require_ssl: false,
    ssh_tunnel_host: '127.0.0.1',
    ssh_tunnel_port: sshd.port,
    ssh_tunnel_user: sshd.user,
    ...tunnel,
  });

/** Polls `check` until it returns true (a liveness bound, not a speed goal). */
async function eventually(label: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${label}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const pgActive = async (probe: string) =>
  (await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()", [`%${probe}%`]))
    .rows[0].n as number;

async function fetchRows(executionId: string): Promise<{ fields: Array<{ name: string }>; rows: unknown[][] }> {
  const data = await t.api.get(`/executions/${executionId}/data`).set('Authorization', auth(t.adminSecret));
  expect(data.status).toBe(200);
  const res = await t.data.get(`/results/${data.body.data_key}`).set('Authorization', `Data ${data.body.data_access_token}`);
  expect(res.status).toBe(200);
  return JSON.parse(res.text);
}

beforeAll(async () => {
  t = await createPlatformTestContext();
  sshd = await startSshd();
  admin = new pg.Client({ connectionString: t.database.url });
  await admin.connect();
  await admin.query(`CREATE TABLE ${MARKER}_orders (id int PRIMARY KEY, note text)`);
  await admin.query(`INSERT INTO ${MARKER}_orders SELECT g, 'note ' || g FROM generate_series(1, 3) g`);
});

afterAll(async () => {
  await admin?.end();
  await t?.close();
  await sshd?.stop();
});

describe('the organization SSH key', () => {
  it('is an Ed25519 key pair created on first need; the public key is readable with Manage Datasources', async () => {
    const res = await t.api.get('/datasources/ssh_public_key').set('Authorization', auth(t.adminSecret));
    expect(res.status).toBe(200);
    expectValidJsonApi(res.body);
    expect(res.body.data).toEqual({
      type: 'ssh_public_keys',
      id: t.organization.id,
      attributes: {
        key_type: 'ssh-ed25519',
        public_key: expect.stringMatching(/^ssh-ed25519 AAAA[A-Za-z0-9+/=]+ sightline-/),
        fingerprint: expect.stringMatching(/^SHA256:[A-Za-z0-9+/]{43}$/),
        created_at: expect.any(String),
      },
    });
    publicKey = res.body.data.attributes.public_key;
    // ssh-keygen agrees with the fingerprint
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sl-key-'));
    try {
      const file = path.join(dir, 'key.pub');
      writeFileSync(file, publicKey);
      expect(execFileSync('ssh-keygen', ['-l', '-f', file], { encoding: 'utf8' }).split(' ')[1]).toBe(res.body.data.attributes.fingerprint);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // the same key on every request; the private key is sealed at rest
    const again = await t.api.get('/datasources/ssh_public_key').set('Authorization', auth(t.adminSecret));
    expect(again.body.data.attributes.public_key).toBe(publicKey);
    const row = await t.database.db('organization_ssh_keys').where({ organization_id: t.organization.id }).first();
    expect(row.private_key_enc).toMatch(/^v1\./);
    expect(row.private_key_enc).not.toContain('PRIVATE KEY');
    sshd.authorize(publicKey);
  });

  it('is refused (403) to keys without Manage Datasources, and rejects unknown query parameters (400)', async () => {
    const key = await t.api
      .post('/api_keys')
      .set('Authorization', auth(t.adminSecret))
      .send({ data: { type: 'api_keys', attributes: { name: 'viewer', permissions: [{ name: 'View Datasources' }] } } });
    expect(key.status).toBe(201);
    const res = await t.api.get('/datasources/ssh_public_key').set('Authorization', auth(key.body.data.attributes.secret));
    expect(res.status).toBe(403);
    expectValidJsonApi(res.body);
    const bad = await t.api.get('/datasources/ssh_public_key?x=1').set('Authorization', auth(t.adminSecret));
    expect(bad.status).toBe(400);
  });
});

describe('through a working tunnel', () => {
  let pgDs: string;
  let mariaDs: string;

  beforeAll(async () => {
    pgDs = await pgThrough();
    mariaDs = await mariaThrough();
  });

  it('tests the connection and pins the bastion host key on first connect', async () => {
    for (const id of [pgDs, mariaDs]) {
      const res = await testConnection(id);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok', error_message: null });
      const pins = await t.database.db('datasource_ssh_host_keys').where({ datasource_id: id });
      expect(pins).toEqual([expect.objectContaining({ host: '127.0.0.1', port: sshd.port, fingerprint: sshd.hostFingerprint })]);
    }
  });

  it('runs queries on both drivers through the tunnel', async () => {
    const pgRun = await run(pgDs, { sql_query: `SELECT id, note FROM ${MARKER}_orders ORDER BY id` });
    expect(pgRun.status).toBe(201);
    expect(await waitForExecution(t, t.adminSecret, pgRun.body.data.id)).toMatchObject({ execution_status: 'success', result_rows: 3 });
    expect((await fetchRows(pgRun.body.data.id)).rows).toEqual([
      [1, 'note 1'],
      [2, 'note 2'],
      [3, 'note 3'],
    ]);
    const mariaRun = await run(mariaDs, { sql_query: 'SELECT 40 + 2 AS answer' });
    expect(await waitForExecution(t, t.adminSecret, mariaRun.body.data.id)).toMatchObject({ execution_status: 'success', result_rows: 1 });
    expect((await fetchRows(mariaRun.body.data.id)).rows).toEqual([[42]]);
    // one pooled tunnel per datasource
    expect(t.services.sshTunnels.size).toBe(2);
  });

  it('refreshes the schema through the tunnel', async () => {
    const refresh = await t.api.post(`/datasources/${pgDs}/refresh`).set('Authorization', auth(t.adminSecret));
    expect(refresh.status).toBe(200);
    expect(await waitForExecution(t, t.adminSecret, refresh.body.execution_id)).toMatchObject({
      execution_status: 'success',
      execution_type: 'almanach_query',
    });
    const key = await t.api.get(`/datasources/${pgDs}/schema`).set('Authorization', auth(t.adminSecret));
    const schema = await t.data.get(`/schemas/${key.body.data_key}`).set('Authorization', `Data ${key.body.data_access_token}`);
    expect(schema.status).toBe(200);
    const doc = JSON.parse(schema.text) as { schemas: Array<{ name: string; tables: Array<{ name: string; columns: Array<{ name: string }> }> }> };
    const table = doc.schemas.find((s) => s.name === 'public')!.tables.find((tb) => tb.name === `${MARKER}_orders`)!;
    expect(table.columns.map((c) => c.name)).toEqual(['id', 'note']);
    const maria = await t.api.post(`/datasources/${mariaDs}/refresh`).set('Authorization', auth(t.adminSecret));
    expect(await waitForExecution(t, t.adminSecret, maria.body.execution_id)).toMatchObject({ execution_status: 'success' });
  });

  it('cancels a PostgreSQL query in the database through the tunnel', async () => {
    const res = await run(pgDs, { sql_query: 'SELECT pg_sleep(60) /* ssh-cancel-probe */' });
    await eventually('the query runs', async () => (await pgActive('ssh-cancel-probe')) === 1);
    expect((await t.api.post(`/executions/${res.body.data.id}/cancel`).set('Authorization', auth(t.adminSecret))).status).toBe(204);
    await eventually('cancel reaches the database', async () => (await pgActive('ssh-cancel-probe')) === 0);
    expect((await waitForExecution(t, t.adminSecret, res.body.data.id)).execution_status).toBe('cancelled');
  });

  it('cancels a MariaDB query (KILL QUERY) through the tunnel', async () => {
    const conn = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
    const probe = async () =>
      (
        (
          await conn.query("SELECT id FROM information_schema.PROCESSLIST WHERE INFO LIKE '%ssh-maria-probe%' AND INFO NOT LIKE '%PROCESSLIST%'")
        )[0] as unknown[]
      ).length;
    try {
      const res = await run(mariaDs, { sql_query: 'SELECT SLEEP(60) /* ssh-maria-probe */' });
      await eventually('the query runs', async () => (await probe()) === 1);
      await t.api.post(`/executions/${res.body.data.id}/cancel`).set('Authorization', auth(t.adminSecret));
      await eventually('KILL QUERY reaches the server', async () => (await probe()) === 0);
      expect((await waitForExecution(t, t.adminSecret, res.body.data.id)).execution_status).toBe('cancelled');
    } finally {
      await conn.end();
    }
  });

  it('closes the tunnel when the datasource connection changes (not on a rename)', async () => {
    expect(t.services.sshTunnels.size).toBeGreaterThan(0);
    const before = t.services.sshTunnels.size;
    const patch = (attributes: Record<string, unknown>) =>
      t.api
        .patch(`/datasources/${mariaDs}`)
        .set('Authorization', auth(t.adminSecret))
        .send({ data: { type: 'datasources', id: mariaDs, attributes } });
    expect((await patch({ name: 'Maria via SSH, renamed' })).status).toBe(200);
    expect(t.services.sshTunnels.size).toBe(before);
    expect((await patch({ database: 'mysql' })).status).toBe(200);
    expect(t.services.sshTunnels.size).toBe(before - 1);
    const again = await run(mariaDs, { sql_query: 'SELECT 1 AS one' });
    expect(await waitForExecution(t, t.adminSecret, again.body.data.id)).toMatchObject({ execution_status: 'success' });
  });
});

describe('failing tunnels: Test Connection answers 200 {status: "error"}, queries fail with a clear query_error', () => {
  async function expectFailure(id: string, pattern: RegExp): Promise<void> {
    const res = await testConnection(id);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'error', error_message: expect.stringMatching(pattern) });
    const q = await run(id, { sql_query: 'SELECT 1' });
    expect(q.status).toBe(201);
    const done = await waitForExecution(t, t.adminSecret, q.body.data.id);
    expect(done.execution_status).toBe('query_error');
    const status = await t.database.db('executions').where({ id: q.body.data.id }).first('error_message');
    expect(status.error_message).toMatch(pattern);
  }

  it('a key the bastion does not accept', async () => {
    const other = await startSshd();
    try {
      // authorized_keys holds some other key only
      const dir = mkdtempSync(path.join(os.tmpdir(), 'sl-other-'));
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'k')]);
      other.authorize(readFileSync(path.join(dir, 'k.pub'), 'utf8'));
      rmSync(dir, { recursive: true, force: true });
      await expectFailure(
        await pgThrough({ ssh_tunnel_port: other.port }),
        /SSH tunnel to 127\.0\.0\.1:\d+: authentication as ".+" failed; add the organization's public key/,
      );
      await expectFailure(await mariaThrough({ ssh_tunnel_port: other.port }), /authentication as ".+" failed/);
    } finally {
      await other.stop();
    }
  });

  it('a closed bastion port', async () => {
    const port = await freePort();
    await expectFailure(await pgThrough({ ssh_tunnel_port: port }), new RegExp(`SSH tunnel to 127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`));
    await expectFailure(await mariaThrough({ ssh_tunnel_port: port }), /ECONNREFUSED/);
  });

  it('a database port the bastion cannot reach', async () => {
    const port = await freePort();
    await expectFailure(
      await pgThrough({ port }),
      new RegExp(`Could not reach 127\\.0\\.0\\.1:${port} through the SSH tunnel to 127\\.0\\.0\\.1:${sshd.port}`),
    );
  });

  it('incomplete tunnel settings', async () => {
    const id = await pgThrough({ ssh_tunnel_user: null });
    expect((await testConnection(id)).body).toEqual({ status: 'error', error_message: expect.stringMatching(/needs ssh_tunnel_user/) });
    const q = await run(id, { sql_query: 'SELECT 1' });
    expect(q.status).toBe(422);
    expectValidJsonApi(q.body);
    expect(q.body.errors[0].detail).toMatch(/needs ssh_tunnel_user/);
  });
});

describe('a tunnel that breaks', () => {
  it('fails a running query with a clear error when sshd is killed, and reopens the tunnel afterwards', async () => {
    const id = await pgThrough();
    const mariaId = await mariaThrough();
    const conn = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
    const mariaProbe = async () =>
      ((await conn.query("SELECT id FROM information_schema.PROCESSLIST WHERE INFO LIKE '%ssh-kill-maria%' AND INFO NOT LIKE '%PROCESSLIST%'"))[0] as unknown[])
        .length;
    const res = await run(id, { sql_query: 'SELECT pg_sleep(30) /* ssh-kill-probe */' });
    const mariaRes = await run(mariaId, { sql_query: 'SELECT SLEEP(30) /* ssh-kill-maria */' });
    try {
      await eventually('the query runs', async () => (await pgActive('ssh-kill-probe')) === 1);
      await eventually('the MariaDB query runs', async () => (await mariaProbe()) === 1);
    } finally {
      await conn.end();
    }
    await sshd.kill();
    for (const execution of [res.body.data.id, mariaRes.body.data.id]) {
      const done = await waitForExecution(t, t.adminSecret, execution);
      expect(done.execution_status).toBe('query_error');
      const row = await t.database.db('executions').where({ id: execution }).first('error_message');
      expect(row.error_message).toMatch(/The SSH tunnel to 127\.0\.0\.1:\d+ (closed|failed)/);
    }
    // while it is down: a clear error, no stuck execution
    const down = await testConnection(id);
    expect(down.body).toEqual({ status: 'error', error_message: expect.stringMatching(/ECONNREFUSED/) });
    await sshd.start();
    const again = await run(id, { sql_query: 'SELECT 1 AS one' });
    expect(await waitForExecution(t, t.adminSecret, again.body.data.id)).toMatchObject({ execution_status: 'success' });
  });

  it('refuses a changed host key, naming both fingerprints, until the tunnel settings are saved again', async () => {
    const id = await pgThrough();
    expect((await testConnection(id)).body.status).toBe('ok');
    const pinned = sshd.hostFingerprint;
    await sshd.kill();
    sshd.regenerateHostKey();
    await sshd.start();
    const changed = sshd.hostFingerprint;
    expect(changed).not.toBe(pinned);
    const res = await testConnection(id);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('error');
    expect(res.body.error_message).toContain(`The SSH host key of 127.0.0.1:${sshd.port} changed`);
    expect(res.body.error_message).toContain(pinned);
    expect(res.body.error_message).toContain(changed);
    const q = await run(id, { sql_query: 'SELECT 1' });
    expect(await waitForExecution(t, t.adminSecret, q.body.data.id)).toMatchObject({ execution_status: 'query_error' });
    expect((await t.database.db('executions').where({ id: q.body.data.id }).first('error_message')).error_message).toContain(changed);
    // saving ssh_tunnel_host again trusts the new key
    const patch = await t.api
      .patch(`/datasources/${id}`)
      .set('Authorization', auth(t.adminSecret))
      .send({ data: { type: 'datasources', id, attributes: { ssh_tunnel_host: '127.0.0.1' } } });
    expect(patch.status).toBe(200);
    expect((await testConnection(id)).body).toEqual({ status: 'ok', error_message: null });
    expect(await t.database.db('datasource_ssh_host_keys').where({ datasource_id: id }).pluck('fingerprint')).toEqual([changed]);
  });
});
