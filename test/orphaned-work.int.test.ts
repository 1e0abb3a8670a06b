// A worker process killed (SIGKILL) in the middle of its queries, with no worker left running: the
// API server's sweep ends every execution and export job within 60 s, and the queries they left
// behind are ended in the datasource (gone from pg_stat_activity / SHOW PROCESSLIST).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { STALE_EXECUTION_MESSAGE, STALE_EXPORT_MESSAGE } from '@sightline/domain';
import { createPlatformTestContext, type PlatformTestContext } from './support/platform.js';
import { killAppProcesses, logLines, startAppProcess, type AppProcess } from './support/processes.js';
import { waitUntil } from './support/scheduling.js';

const MARKER = `sl_orphan_${process.pid}`;

let t: PlatformTestContext;
let admin: pg.Client;
let maria: mysql.Connection;
let pgDs: string;
let mariaDs: string;
let dashboardId: string;

const auth = () => `Api ${t.adminSecret}`;

async function post(path: string, body: object): Promise<Record<string, any>> {
  const res = await t.api.post(path).set('Authorization', auth()).set('Content-Type', 'application/json').send(JSON.stringify(body));
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
  return res.body;
}

/** Sessions of the PostgreSQL datasource still running a statement that carries `marker`. */
async function pgSessions(marker: string): Promise<number[]> {
  const { rows } = await admin.query(`SELECT pid FROM pg_stat_activity WHERE query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()`, [marker]);
  return rows.map((r) => Number(r.pid));
}

/** MariaDB connections still there (any state) among `ids`. */
async function mariaSessions(ids: number[]): Promise<number[]> {
  if (!ids.length) return [];
  const [rows] = (await maria.query(`SELECT ID FROM information_schema.PROCESSLIST WHERE ID IN (${ids.map(Number).join(',')})`)) as unknown as [
    Array<{ ID: number }>,
  ];
  return rows.map((r) => Number(r.ID));
}

beforeAll(async () => {
  t = await createPlatformTestContext({ worker: false });
  admin = new pg.Client({ connectionString: t.database.url });
  await admin.connect();
  maria = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' });
  pgDs = (
    await post('/datasources', {
      data: {
        attributes: {
          name: 'PG',
          database_type: 'postgres',
          connection_mode: 'direct',
          host: '127.0.0.1',
          port: 5432,
          username: 'postgres',
          database: t.database.name,
          require_ssl: false,
        },
      },
    })
  ).data.id;
  mariaDs = (
    await post('/datasources', {
      data: {
        attributes: {
          name: 'Maria',
          database_type: 'mariadb',
          connection_mode: 'direct',
          host: '127.0.0.1',
          port: 3306,
          username: 'root',
          database: 'test',
          require_ssl: false,
        },
      },
    })
  ).data.id;
  dashboardId = (await post('/dashboards', { data: { attributes: { name: 'Slow' } } })).data.id;
}, 60_000);

afterAll(async () => {
  await killAppProcesses();
  await admin?.end();
  await maria?.end();
  await t?.close();
});

describe('a worker killed mid-query', () => {
  let api: AppProcess;
  let worker: AppProcess;

  it('with no worker left, the API server ends its executions and export jobs within 60 s and ends their queries in the datasources', async () => {
    api = await startAppProcess('api', t.database.url);
    worker = await startAppProcess('worker', t.database.url, { WORKER_CONCURRENCY: '8' });
    const pgIds: string[] = [];
    const mariaIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      pgIds.push((await post(`/datasources/${pgDs}/executions`, { sql_query: `SELECT pg_sleep(90) AS slept, ${i} AS n, '${MARKER}' AS marker` })).data.id);
      mariaIds.push((await post(`/datasources/${mariaDs}/executions`, { sql_query: `SELECT SLEEP(90) AS slept, ${i} AS n, '${MARKER}' AS marker` })).data.id);
    }
    // an unlimited CSV export whose query sleeps: the export job and its export_query both run on the worker
    const report = (
      await post('/reports', {
        data: {
          attributes: { name: 'Sleepy', sql_query: `SELECT pg_sleep(90) AS slept, 'export-${MARKER}' AS marker`, unlimited_csv_export_enabled: true },
          relationships: { dashboard: { data: { type: 'dashboards', id: dashboardId } }, datasource: { data: { type: 'datasources', id: pgDs } } },
        },
      })
    ).data.id as string;
    const exportJobId = (await post(`/reports/${report}/export_csv`, {})).job_id as string;

    // every query has started in its datasource, and its session is recorded while it runs
    const exportExecution = await waitUntil(
      'the export job to start its query',
      async () => (await t.database.db('export_jobs').where({ id: exportJobId }).first()).execution_ids?.[0] as string | undefined,
      (id) => Boolean(id),
    );
    const all = [...pgIds, ...mariaIds, exportExecution!];
    const running = await waitUntil(
      'every execution to run with its session recorded',
      () => t.database.db('executions').whereIn('id', all).select('id', 'execution_status', 'backend_id'),
      (rows) => rows.length === all.length && rows.every((r) => r.execution_status === 'running' && r.backend_id !== null),
    );
    const sessionOf = new Map(running.map((r) => [r.id as string, Number(r.backend_id)]));
    const pgPids = [...pgIds, exportExecution!].map((id) => sessionOf.get(id)!);
    const mariaThreads = mariaIds.map((id) => sessionOf.get(id)!);
    await waitUntil(
      'the PostgreSQL queries to show in pg_stat_activity',
      () => pgSessions(MARKER),
      (pids) => pgPids.every((p) => pids.includes(p)),
    );
    const [processes] = (await maria.query(
      `SELECT ID, INFO FROM information_schema.PROCESSLIST WHERE INFO LIKE '%SLEEP(90)%${MARKER}%' AND ID <> CONNECTION_ID()`,
    )) as unknown as [Array<{ ID: number }>];
    expect(processes.map((p) => Number(p.ID)).sort()).toEqual([...mariaThreads].sort());
    expect((await t.database.db('export_jobs').where({ id: exportJobId }).first()).job_status).toBe('running');

    const killedAt = Date.now();
    await worker.stop('SIGKILL');

    // no worker runs now: only the API server's sweep can end them
    const ended = await waitUntil(
      'every execution to end',
      () => t.database.db('executions').whereIn('id', all).select('id', 'execution_status', 'error_message'),
      (rows) => rows.every((r) => r.execution_status !== 'running'),
      60_000,
    );
    const job = await waitUntil(
      'the export job to end',
      () => t.database.db('export_jobs').where({ id: exportJobId }).first(),
      (row) => row.job_status !== 'running',
      60_000 - (Date.now() - killedAt),
    );
    expect(Date.now() - killedAt).toBeLessThan(60_000);
    for (const row of ended) expect(row).toMatchObject({ execution_status: 'internal_error', error_message: STALE_EXECUTION_MESSAGE });
    expect(job).toMatchObject({ job_status: 'error', error_message: STALE_EXPORT_MESSAGE });

    // their queries are gone from the datasources (not left running until pg_sleep/SLEEP ends)
    await waitUntil(
      'the PostgreSQL queries to be gone',
      () => pgSessions(MARKER),
      (pids) => pids.length === 0,
      10_000,
    );
    await waitUntil(
      'the MariaDB connections to be gone',
      () => mariaSessions(mariaThreads),
      (ids) => ids.length === 0,
      10_000,
    );
    expect(Date.now() - killedAt).toBeLessThan(60_000);

    // the API process did it, in its JSON log
    const { json } = logLines(api.output());
    const sweptIds = json.filter((l) => l.msg === 'ended an execution whose worker stopped').map((l) => l.execution_id);
    expect(sweptIds.sort()).toEqual([...all].sort());
    expect(json.some((l) => l.msg === 'ended an export job whose worker stopped' && l.export_job_id === exportJobId)).toBe(true);

    // and through the API the executions say what happened
    const res = await t.api.get(`/executions/${pgIds[0]}`).set('Authorization', auth());
    expect(res.body.data.attributes).toMatchObject({ execution_status: 'internal_error', error_message: STALE_EXECUTION_MESSAGE });
  }, 180_000);
});
