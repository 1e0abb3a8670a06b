// SIGTERM with work in flight (real processes): the worker stops taking jobs, lets running queries
// finish up to SHUTDOWN_TIMEOUT_SECONDS, then stops the rest in the database and hands them back to
// the queue; it exits within the deadline and nothing is lost. The data server finishes a slow
// download in progress before it exits.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import pg from 'pg';
import { createPlatformTestContext, waitForExecution, type PlatformTestContext } from './support/platform.js';
import { killAppProcesses, logLines, startAppProcess } from './support/processes.js';
import { waitUntil } from './support/scheduling.js';

const MARKER = `sl_shutdown_${process.pid}`;
/** Time between the deadline and a forced exit (stopOnSignals), plus slack for a slow machine. */
const EXIT_MARGIN_MS = 15_000;

let t: PlatformTestContext;
let admin: pg.Client;
let pgDs: string;

const auth = () => `Api ${t.adminSecret}`;

async function post(path: string, body: object): Promise<Record<string, any>> {
  const res = await t.api.post(path).set('Authorization', auth()).set('Content-Type', 'application/json').send(JSON.stringify(body));
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
  return res.body;
}

const statusOf = async (id: string) => (await t.database.db('executions').where({ id }).first()).execution_status as string;

beforeAll(async () => {
  t = await createPlatformTestContext({ worker: false });
  admin = new pg.Client({ connectionString: t.database.url });
  await admin.connect();
  await admin.query('CREATE TABLE release_flag (v int)');
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
}, 60_000);

afterAll(async () => {
  await killAppProcesses();
  await admin?.end();
  await t?.close();
});

describe('worker SIGTERM with work in flight', () => {
  it('finishes what fits in the deadline, hands back the rest with its query stopped, takes nothing new, exits in time; a new worker completes everything', async () => {
    const worker = await startAppProcess('worker', t.database.url, { SHUTDOWN_TIMEOUT_SECONDS: '6', WORKER_CONCURRENCY: '2' });
    // sleeps 100 s until the test sets the flag (then the run after the hand-back is quick)
    const long = (
      await post(`/datasources/${pgDs}/executions`, {
        sql_query: `SELECT pg_sleep(CASE WHEN (SELECT count(*) FROM release_flag) > 0 THEN 0 ELSE 100 END) AS slept, '${MARKER}' AS marker`,
      })
    ).data.id as string;
    const short = (await post(`/datasources/${pgDs}/executions`, { sql_query: 'SELECT pg_sleep(2) AS slept, 2 AS n' })).data.id as string;
    await waitUntil(
      'both to run',
      async () => [await statusOf(long), await statusOf(short)],
      (s) => s.every((x) => x === 'running'),
    );
    const pid = Number((await t.database.db('executions').where({ id: long }).first()).backend_id);

    const signalledAt = Date.now();
    worker.child.kill('SIGTERM');
    // submitted after the signal: the stopping worker must leave them queued
    const queued: string[] = [];
    for (let i = 0; i < 3; i++) queued.push((await post(`/datasources/${pgDs}/executions`, { sql_query: `SELECT ${i} AS n, 'queued' AS q` })).data.id);

    const exit = await worker.exited;
    const tookMs = Date.now() - signalledAt;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(tookMs).toBeLessThan(6_000 + EXIT_MARGIN_MS);

    expect(await statusOf(short)).toBe('success');
    // the long one was stopped in the database and handed back, not lost and not failed
    const handed = await t.database.db('executions').where({ id: long }).first();
    expect(handed).toMatchObject({ execution_status: 'starting', error_message: null });
    const { rows } = await admin.query('SELECT pid FROM pg_stat_activity WHERE pid = $1', [pid]);
    expect(rows).toEqual([]);
    for (const id of queued) expect(await statusOf(id)).toBe('starting');
    const { json } = logLines(worker.output());
    expect(json.some((l) => l.msg === 'shutdown deadline reached: stopped the running queries and handed them back to the queue' && l.executions === 1)).toBe(
      true,
    );
    expect(json.at(-1)).toMatchObject({ msg: 'stopped' });

    // a new worker runs everything to the end
    await admin.query('INSERT INTO release_flag VALUES (1)');
    const next = await startAppProcess('worker', t.database.url, { WORKER_CONCURRENCY: '2' });
    for (const id of [long, ...queued]) expect((await waitForExecution(t, t.adminSecret, id, 60_000)).execution_status).toBe('success');
    const data = await t.api.get(`/executions/${long}/data`).set('Authorization', auth());
    const result = await t.data.get(`/results/${data.body.data_key}`).set('Authorization', `Data ${data.body.data_access_token}`);
    expect(result.status).toBe(200);
    expect(JSON.stringify(result.body)).toContain(MARKER);
    expect(await next.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 180_000);
});

describe('worker SIGTERM during an export', () => {
  it('hands the export job and its query back; the next worker finishes the file', async () => {
    await admin.query('DELETE FROM release_flag');
    const dashboardId = (await post('/dashboards', { data: { attributes: { name: 'Exports' } } })).data.id as string;
    const reportId = (
      await post('/reports', {
        data: {
          attributes: {
            name: 'Slow export',
            sql_query: `SELECT pg_sleep(CASE WHEN (SELECT count(*) FROM release_flag) > 0 THEN 0 ELSE 100 END) AS slept, g FROM generate_series(1, 3) g`,
            unlimited_csv_export_enabled: true,
          },
          relationships: { dashboard: { data: { type: 'dashboards', id: dashboardId } }, datasource: { data: { type: 'datasources', id: pgDs } } },
        },
      })
    ).data.id as string;
    const worker = await startAppProcess('worker', t.database.url, { SHUTDOWN_TIMEOUT_SECONDS: '3', WORKER_CONCURRENCY: '2' });
    const jobId = (await post(`/reports/${reportId}/export_csv`, {})).job_id as string;
    const executionId = await waitUntil(
      'the export query to run',
      async () => {
        const row = await t.database.db('export_jobs').where({ id: jobId }).first();
        const id = row.execution_ids?.[0] as string | undefined;
        return id && (await statusOf(id)) === 'running' ? id : undefined;
      },
      (id) => Boolean(id),
    );
    const pid = Number((await t.database.db('executions').where({ id: executionId }).first()).backend_id);

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(await t.database.db('export_jobs').where({ id: jobId }).first()).toMatchObject({ job_status: 'started', error_message: null });
    expect(await statusOf(executionId!)).toBe('starting');
    expect((await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = $2', [pid, 'active'])).rows).toEqual([]);

    await admin.query('INSERT INTO release_flag VALUES (1)');
    const next = await startAppProcess('worker', t.database.url, { WORKER_CONCURRENCY: '2' });
    const job = await waitUntil(
      'the export to finish',
      () => t.database.db('export_jobs').where({ id: jobId }).first(),
      (row) => !['started', 'running'].includes(row.job_status),
      90_000,
    );
    expect(job).toMatchObject({ job_status: 'success', error_message: null });
    const status = await t.api.get(`/export_jobs/${jobId}`).set('Authorization', auth());
    const file = new URL(status.body.file_url as string);
    const csv = await t.data.get(`${file.pathname}${file.search}`);
    expect(csv.status).toBe(200);
    expect(csv.text.trim().split(/\r?\n/)).toHaveLength(4);
    expect(await next.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 180_000);
});

describe('data server SIGTERM during a download', () => {
  it('finishes the slow download in progress, then exits', async () => {
    const executionId = (
      await post(`/datasources/${pgDs}/executions`, {
        sql_query: `SELECT g AS n, md5(g::text) AS a, md5((g * 7)::text) AS b FROM generate_series(1, 120000) g`,
      })
    ).data.id as string;
    const worker = await startAppProcess('worker', t.database.url, { WORKER_CONCURRENCY: '1' });
    expect((await waitForExecution(t, t.adminSecret, executionId, 120_000)).execution_status).toBe('success');
    await worker.stop('SIGTERM');
    const token = (await t.api.get(`/executions/${executionId}/data`).set('Authorization', auth())).body as { data_key: string; data_access_token: string };
    const server = await startAppProcess('data', t.database.url, { SHUTDOWN_TIMEOUT_SECONDS: '60' });
    const url = new URL(`/results/${token.data_key}`, server.url);
    const received: Buffer[] = [];
    let signalledAt = 0;
    const download = new Promise<{ status: number; complete: boolean }>((resolve, reject) => {
      http
        .get(url, { headers: { Authorization: `Data ${token.data_access_token}` } }, (res) => {
          // a slow client: ~400 KB/s, so the download outlasts the old 10 s cut-off after the signal
          res.pause();
          const pump = setInterval(() => {
            let chunk: Buffer | null;
            let got = 0;
            while (got < 40_000 && (chunk = res.read() as Buffer | null)) {
              received.push(chunk);
              got += chunk.length;
            }
            if (!signalledAt && got > 0) {
              signalledAt = Date.now();
              server.child.kill('SIGTERM');
            }
          }, 100);
          res.on('end', () => {
            clearInterval(pump);
            resolve({ status: res.statusCode ?? 0, complete: res.complete });
          });
          res.on('error', (err) => {
            clearInterval(pump);
            reject(err);
          });
          res.on('aborted', () => {
            clearInterval(pump);
            resolve({ status: res.statusCode ?? 0, complete: false });
          });
        })
        .on('error', reject);
    });
    const outcome = await download;
    const downloadedAt = Date.now();
    const exit = await server.exited;
    expect(outcome).toEqual({ status: 200, complete: true });
    const body = Buffer.concat(received);
    expect(body.length).toBeGreaterThan(5_000_000);
    const document = JSON.parse(body.toString('utf8')) as { rows: unknown[][] };
    expect(document.rows).toHaveLength(120_000);
    expect(document.rows.at(-1)![0]).toBe(120_000);
    // it took longer than the old fixed 10 s grace, and the process waited for it
    expect(downloadedAt - signalledAt).toBeGreaterThan(10_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(60_000 + EXIT_MARGIN_MS);
  }, 240_000);
});
