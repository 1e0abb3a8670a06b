// Issue 9, point 6: datasource sessions are pooled per datasource. A pooled session is reused (same
// backend id) with nothing of the previous query's session state left; cancel still reaches the
// database; updating or deleting the datasource ends its sessions.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createPlatformTestContext, waitForExecution, type PlatformTestContext } from '../../../test/support/platform.js';
import { expectValidJsonApi } from '../../../test/support/jsonapi-schema.js';

let t: PlatformTestContext;
let admin: pg.Client;
let maria: mysql.Connection;
let counter = 0;
const auth = () => `Api ${t.adminSecret}`;

async function createDatasource(attributes: Record<string, unknown>): Promise<string> {
  const res = await t.api
    .post('/datasources')
    .set('Authorization', auth())
    .send({ data: { attributes: { require_ssl: false, connection_mode: 'direct', ...attributes } } });
  expectValidJsonApi(res.body);
  expect(res.status).toBe(201);
  return res.body.data.id as string;
}

const pgAttributes = () => ({ database_type: 'postgres', host: '127.0.0.1', port: 5432, username: 'postgres', database: t.database.name });
const mariaAttributes = { database_type: 'mariadb', host: '127.0.0.1', port: 3306, username: 'root', database: 'test' };

async function submit(ds: string, sql: string): Promise<string> {
  // a unique comment: no reuse of an earlier result with the same SQL
  const res = await t.api
    .post(`/datasources/${ds}/executions`)
    .set('Authorization', auth())
    .set('Content-Type', 'application/json')
    .send(JSON.stringify({ sql_query: `${sql} /* q${++counter} */` }));
  expectValidJsonApi(res.body);
  expect(res.status).toBe(201);
  return res.body.data.id as string;
}

/** Runs `sql` to success; returns its first row. */
async function firstRow(ds: string, sql: string): Promise<unknown[]> {
  const id = await submit(ds, sql);
  const done = await waitForExecution(t, t.adminSecret, id, 30_000);
  expect(done).toMatchObject({ execution_status: 'success' });
  const data = await t.api.get(`/executions/${id}/data`).set('Authorization', auth());
  expect(data.status).toBe(200);
  const res = await t.data.get(`/results/${data.body.data_key}`).set('Authorization', `Data ${data.body.data_access_token}`);
  expect(res.status).toBe(200);
  return (JSON.parse(res.text) as { rows: unknown[][] }).rows[0] ?? [];
}

async function runToSuccess(ds: string, sql: string): Promise<void> {
  const done = await waitForExecution(t, t.adminSecret, await submit(ds, sql), 30_000);
  expect(done).toMatchObject({ execution_status: 'success' });
}

async function eventually(label: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${label}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const pgBackendAlive = async (pid: number) => ((await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount ?? 0) > 0;
const mariaThreadAlive = async (id: number) =>
  ((await maria.query('SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?', [id]))[0] as unknown[]).length > 0;

beforeAll(async () => {
  t = await createPlatformTestContext();
  admin = new pg.Client({ connectionString: t.database.url });
  await admin.connect();
  maria = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
}, 60_000);

afterAll(async () => {
  await maria?.end();
  await admin?.end();
  await t?.close();
});

describe('PostgreSQL sessions are pooled', () => {
  const STATE = `SELECT pg_backend_pid() AS pid, current_setting('TimeZone') AS tz, current_setting('search_path') AS search_path,
    current_setting('statement_timeout') AS statement_timeout, coalesce(current_setting('sightline.leak', true), '') AS custom,
    to_regclass('pg_temp.sl_leak_tmp') IS NULL AS no_temp_table, (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS advisory_locks`;

  it('reuses the session with no state of the previous query left', async () => {
    const ds = await createDatasource({ name: 'PG pooled', ...pgAttributes(), query_timeout_seconds: 30 });
    const baseline = await firstRow(ds, STATE);
    expect(baseline.slice(1)).toEqual(['UTC', '"$user", public', '30s', '', true, 0]);
    const pid = baseline[0] as number;
    // one query changes everything a session can carry
    const leak = await firstRow(
      ds,
      `SELECT pg_backend_pid(), set_config('TimeZone', 'Asia/Tokyo', false), set_config('search_path', 'pg_catalog', false),
      set_config('statement_timeout', '1234', false), set_config('sightline.leak', 'leaked', false), pg_advisory_lock(42)`,
    );
    expect(leak[0]).toBe(pid);
    await runToSuccess(ds, 'CREATE TEMP TABLE sl_leak_tmp AS SELECT 1 AS x');
    const after = await firstRow(ds, STATE);
    expect(after[0]).toBe(pid); // the same session served every query
    expect(after).toEqual(baseline);
  }, 60_000);

  it('records the session id of the query, and cancel still reaches the database', async () => {
    const ds = await createDatasource({ name: 'PG cancel', ...pgAttributes() });
    const pid = (await firstRow(ds, 'SELECT pg_backend_pid()'))[0] as number;
    const lock = 7_170_000 + (process.pid % 10_000);
    await admin.query('SELECT pg_advisory_lock($1)', [lock]);
    try {
      const id = await submit(ds, `SELECT pg_advisory_xact_lock(${lock}) /* pooled-cancel-probe */`);
      await eventually(
        'the query runs on the pooled session',
        async () =>
          (await admin.query("SELECT pid FROM pg_stat_activity WHERE query LIKE '%pooled-cancel-probe%' AND state = 'active' AND pid <> pg_backend_pid()"))
            .rows[0]?.pid === pid,
      );
      expect((await t.api.post(`/executions/${id}/cancel`).set('Authorization', auth())).status).toBe(204);
      expect((await waitForExecution(t, t.adminSecret, id, 30_000)).execution_status).toBe('cancelled');
      // a cancelled query's session is ended, never handed to the next query
      await eventually('the cancelled session ends', async () => !(await pgBackendAlive(pid)));
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [lock]);
    }
    const next = await submit(ds, 'SELECT pg_backend_pid()');
    expect((await waitForExecution(t, t.adminSecret, next, 30_000)).execution_status).toBe('success');
    const row = await t.database.db('executions').where({ id: next }).first('backend_id');
    expect(row.backend_id).not.toBe(pid);
    expect(await pgBackendAlive(Number(row.backend_id))).toBe(true);
  }, 60_000);

  it('ends the sessions of a datasource when it is updated or deleted', async () => {
    const ds = await createDatasource({ name: 'PG changes', ...pgAttributes() });
    const [pid, tz] = await firstRow(ds, "SELECT pg_backend_pid(), current_setting('TimeZone')");
    expect(tz).toBe('UTC');
    expect(await pgBackendAlive(pid as number)).toBe(true);
    const upd = await t.api
      .patch(`/datasources/${ds}`)
      .set('Authorization', auth())
      .send({ data: { type: 'datasources', id: ds, attributes: { data_time_zone: 'Europe/Berlin' } } });
    expect(upd.status).toBe(200);
    await eventually('the session of the old settings ends', async () => !(await pgBackendAlive(pid as number)));
    const [pid2, tz2] = await firstRow(ds, "SELECT pg_backend_pid(), current_setting('TimeZone')");
    expect(pid2).not.toBe(pid);
    expect(tz2).toBe('Europe/Berlin');
    expect((await t.api.delete(`/datasources/${ds}`).set('Authorization', auth())).status).toBe(204);
    await eventually('the session of the deleted datasource ends', async () => !(await pgBackendAlive(pid2 as number)));
  }, 60_000);

  it('replaces a pooled session that broke while idle (terminated, as on a server restart)', async () => {
    const ds = await createDatasource({ name: 'PG broken', ...pgAttributes() });
    const [pid] = await firstRow(ds, 'SELECT pg_backend_pid()');
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await eventually('the session is gone', async () => !(await pgBackendAlive(pid as number)));
    const [pid2] = await firstRow(ds, 'SELECT pg_backend_pid()');
    expect(pid2).not.toBe(pid);
  }, 60_000);

  it('opens a new session when another process changed the settings', async () => {
    const ds = await createDatasource({ name: 'PG elsewhere', ...pgAttributes() });
    const [pid] = await firstRow(ds, 'SELECT pg_backend_pid()');
    // as the api-server of another process would: the row changes, this process's pool does not know
    await t.database.db('datasources').where({ id: ds }).update({ data_time_zone: 'America/New_York' });
    const [pid2, tz] = await firstRow(ds, "SELECT pg_backend_pid(), current_setting('TimeZone')");
    expect(pid2).not.toBe(pid);
    expect(tz).toBe('America/New_York');
    await eventually('the outdated session ends', async () => !(await pgBackendAlive(pid as number)));
  }, 60_000);
});

describe('MariaDB sessions are pooled', () => {
  const STATE =
    'SELECT CONNECTION_ID() AS id, @@session.time_zone AS tz, @@session.max_statement_time AS max_time, @leak AS user_var, @@session.sql_mode AS sql_mode, @@session.character_set_client AS cs, @@session.autocommit AS ac';

  it('reuses the connection with no state of the previous query left (COM_RESET_CONNECTION)', async () => {
    const ds = await createDatasource({ name: 'Maria pooled', ...mariaAttributes, query_timeout_seconds: 30 });
    const baseline = await firstRow(ds, STATE);
    const id = baseline[0] as number;
    expect(baseline[3]).toBeNull();
    expect(Number(baseline[2])).toBe(30);
    await runToSuccess(ds, "SET @leak = 'leaked'");
    await runToSuccess(ds, "SET SESSION time_zone = '+09:00'");
    await runToSuccess(ds, "SET SESSION sql_mode = 'ANSI_QUOTES'");
    await runToSuccess(ds, 'SET SESSION autocommit = 0');
    await runToSuccess(ds, 'SET NAMES latin1');
    const after = await firstRow(ds, STATE);
    expect(after[0]).toBe(id); // the same connection served every query
    expect(after).toEqual(baseline);
  }, 60_000);

  it('replaces a pooled connection that broke while idle (KILL CONNECTION, as on a server restart)', async () => {
    const ds = await createDatasource({ name: 'Maria broken', ...mariaAttributes });
    const [threadId] = await firstRow(ds, 'SELECT CONNECTION_ID()');
    await maria.query(`KILL CONNECTION ${Number(threadId)}`);
    await eventually('the connection is gone', async () => !(await mariaThreadAlive(threadId as number)));
    const [threadId2] = await firstRow(ds, 'SELECT CONNECTION_ID()');
    expect(threadId2).not.toBe(threadId);
  }, 60_000);

  it('ends the connections of a datasource when it is deleted, and KILL QUERY still cancels', async () => {
    const ds = await createDatasource({ name: 'Maria changes', ...mariaAttributes });
    const [threadId] = await firstRow(ds, 'SELECT CONNECTION_ID()');
    const lock = `sl_pool_cancel_${process.pid}`;
    await maria.query('SELECT GET_LOCK(?, 10)', [lock]);
    try {
      const exec = await submit(ds, `SELECT GET_LOCK('${lock}', 3600) /* maria-pooled-cancel */`);
      const probe = async () =>
        (
          await maria.query("SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE '%maria-pooled-cancel%' AND INFO NOT LIKE '%PROCESSLIST%'")
        )[0] as Array<{ ID: number }>;
      await eventually('the query runs on the pooled connection', async () => (await probe())[0]?.ID === threadId);
      await t.api.post(`/executions/${exec}/cancel`).set('Authorization', auth());
      expect((await waitForExecution(t, t.adminSecret, exec, 30_000)).execution_status).toBe('cancelled');
      await eventually('the cancelled connection ends', async () => !(await mariaThreadAlive(threadId as number)));
    } finally {
      await maria.query('SELECT RELEASE_LOCK(?)', [lock]);
    }
    const [threadId2] = await firstRow(ds, 'SELECT CONNECTION_ID()');
    expect(threadId2).not.toBe(threadId);
    expect(await mariaThreadAlive(threadId2 as number)).toBe(true);
    expect((await t.api.delete(`/datasources/${ds}`).set('Authorization', auth())).status).toBe(204);
    await eventually('the connection of the deleted datasource ends', async () => !(await mariaThreadAlive(threadId2 as number)));
  }, 60_000);
});
