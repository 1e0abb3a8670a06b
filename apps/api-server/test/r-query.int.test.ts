// R post-processing (`r_query`): the SQL result reaches R as the data frame `data`, the data frame
// the code ends with is the result; R errors, the time limit, the memory limit and cancel end the
// execution clearly and leave no R process or working directory behind. Needs Rscript (.ci/run
// installs r-base-core).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { createPlatformTestContext, waitForExecution, type PlatformTestContext } from '../../../test/support/platform.js';

let t: PlatformTestContext;
let pgDs: string;
let mariaDs: string;

const auth = (secret: string) => `Api ${secret}`;
const run = (datasourceId: string, body: Record<string, unknown>) =>
  t.api
    .post(`/datasources/${datasourceId}/executions`)
    .set('Authorization', auth(t.adminSecret))
    .set('Content-Type', 'application/json')
    .send(JSON.stringify(body));

async function errorMessage(id: string): Promise<string | null> {
  return (await t.database.db('executions').where({ id }).first('error_message')).error_message;
}

async function fetchResult(executionId: string): Promise<{ fields: Array<{ name: string; data_type: string }>; rows: unknown[][] }> {
  const data = await t.api.get(`/executions/${executionId}/data`).set('Authorization', auth(t.adminSecret));
  expect(data.status).toBe(200);
  const res = await t.data.get(`/results/${data.body.data_key}`).set('Authorization', `Data ${data.body.data_access_token}`);
  expect(res.status).toBe(200);
  return JSON.parse(res.text);
}

/** Working directories of running R processes of this machine's Sightline (from /proc). */
function rProcessDirs(): string[] {
  const dirs: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (cwd.includes('/sightline-r-')) dirs.push(cwd);
    } catch {
      // gone, or not ours to read
    }
  }
  return dirs;
}

async function eventually(label: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${label}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  // 10 s for R: ample for the transforms on a busy machine, short enough for the timeout test.
  t = await createPlatformTestContext({ env: { R_TIMEOUT_SECONDS: '10', R_MEMORY_LIMIT_MB: '1024', RESULT_ROW_LIMIT: '5000' } });
  const mk = async (attributes: Record<string, unknown>) => {
    const res = await t.api.post('/datasources').set('Authorization', auth(t.adminSecret)).send({ data: { attributes } });
    expect(res.status).toBe(201);
    return res.body.data.id as string;
  };
  pgDs = await mk({
    name: 'PG',
    database_type: 'postgres',
    connection_mode: 'direct',
    host: '127.0.0.1',
    port: 5432,
    username: 'postgres',
    database: t.database.name,
    require_ssl: false,
  });
  mariaDs = await mk({
    name: 'Maria',
    database_type: 'mariadb',
    connection_mode: 'direct',
    host: '127.0.0.1',
    port: 3306,
    username: 'root',
    database: 'test',
    require_ssl: false,
  });
});

afterAll(async () => {
  await t?.close();
});

describe('r_query', () => {
  it('is available on this machine (Rscript installed)', () => {
    expect(t.services.rRuntime.available).toBe(true);
  });

  it('transforms the SQL result: data in, the last data frame out, types mapped', async () => {
    const sql = `SELECT g AS id, 'city "' || g || E'"\\nline' AS label, CASE WHEN g % 2 = 0 THEN NULL ELSE g * 1.5 END AS amount,
      (g % 3 = 0) AS flag, DATE '2024-01-01' + g AS day, TIMESTAMPTZ '2024-01-01 10:00:00+00' + g * INTERVAL '1 hour' AS at,
      CASE WHEN g = 1 THEN 'NA' WHEN g = 2 THEN NULL ELSE '' END AS tricky
      FROM generate_series(1, 4) AS g ORDER BY g`;
    const r = `out <- data
out$double_id <- out$id * 2L
out$amount_plus <- out$amount + 1
out$next_day <- out$day + 1
out$types <- paste(class(data$id), class(data$amount), class(data$flag), class(data$day), class(data$at)[1], sep = "/")
out$tricky_na <- is.na(data$tricky)
out[order(-out$id), c("id", "double_id", "label", "amount_plus", "flag", "next_day", "at", "types", "tricky", "tricky_na")]`;
    const res = await run(pgDs, { sql_query: sql, r_query: r });
    expect(res.status).toBe(201);
    const done = await waitForExecution(t, t.adminSecret, res.body.data.id, 60_000);
    expect({ status: done.execution_status, error: await errorMessage(res.body.data.id) }).toEqual({ status: 'success', error: null });
    expect(done).toMatchObject({ result_rows: 4, result_columns: 10 });
    const result = await fetchResult(res.body.data.id);
    expect(result.fields.map((f) => [f.name, f.data_type])).toEqual([
      ['id', 'Integer'],
      ['double_id', 'Integer'],
      ['label', 'String'],
      ['amount_plus', 'Float'],
      ['flag', 'Boolean'],
      ['next_day', 'Date'],
      ['at', 'DateTime'],
      ['types', 'String'],
      ['tricky', 'String'],
      ['tricky_na', 'Boolean'],
    ]);
    const types = 'integer/numeric/logical/Date/POSIXct';
    expect(result.rows).toEqual([
      [4, 8, 'city "4"\nline', null, false, '2024-01-06', '2024-01-01T14:00:00.000Z', types, '', false],
      [3, 6, 'city "3"\nline', 5.5, true, '2024-01-05', '2024-01-01T13:00:00.000Z', types, '', false],
      [2, 4, 'city "2"\nline', null, false, '2024-01-04', '2024-01-01T12:00:00.000Z', types, null, true],
      [1, 2, 'city "1"\nline', 2.5, false, '2024-01-03', '2024-01-01T11:00:00.000Z', types, 'NA', false],
    ]);
  });

  it('works on MariaDB results (an aggregate)', async () => {
    const res = await run(mariaDs, {
      sql_query: "SELECT 'a' AS k, 1 AS v UNION ALL SELECT 'b', 2 UNION ALL SELECT 'a', 3",
      r_query: 'aggregate(v ~ k, data = data, FUN = sum)',
    });
    expect((await waitForExecution(t, t.adminSecret, res.body.data.id, 60_000)).execution_status).toBe('success');
    expect((await fetchResult(res.body.data.id)).rows).toEqual([
      ['a', 4],
      ['b', 2],
    ]);
  });

  it('reports an R error with its message in error_message', async () => {
    const res = await run(pgDs, { sql_query: 'SELECT 1 AS x', r_query: 'y <- data$x\nstop("the revenue column is missing")' });
    const done = await waitForExecution(t, t.adminSecret, res.body.data.id, 60_000);
    expect(done.execution_status).toBe('query_error');
    expect(await errorMessage(res.body.data.id)).toBe('R error: the revenue column is missing');
    const syntax = await run(pgDs, { sql_query: 'SELECT 1 AS x', r_query: 'data[[' });
    expect((await waitForExecution(t, t.adminSecret, syntax.body.data.id, 60_000)).execution_status).toBe('query_error');
    expect(await errorMessage(syntax.body.data.id)).toMatch(/^R error: .*unexpected end of input/s);
    const nothing = await run(pgDs, { sql_query: 'SELECT 1 AS x', r_query: 'NULL' });
    expect((await waitForExecution(t, t.adminSecret, nothing.body.data.id, 60_000)).execution_status).toBe('query_error');
    expect(await errorMessage(nothing.body.data.id)).toBe(
      'R error: The R query must end with a data frame (the value of its last expression); it ended with NULL',
    );
  });

  it("stops R at the memory limit with R's own message", async () => {
    const res = await run(pgDs, { sql_query: 'SELECT 1 AS x', r_query: 'big <- numeric(4e8)\ndata' });
    expect((await waitForExecution(t, t.adminSecret, res.body.data.id, 60_000)).execution_status).toBe('query_error');
    expect(await errorMessage(res.body.data.id)).toMatch(/^R error: .*cannot allocate vector of size/);
  });

  it('runs isolated: no network, no view of other processes, as nobody when the worker is root', async () => {
    // a machine that allows no unshare fails here (see README)
    expect(t.services.rRuntime.isolation).toBe(process.getuid?.() === 0 ? 'separate-user' : 'user-namespace');
    const probe = await run(pgDs, {
      sql_query: 'SELECT 1 AS x',
      r_query:
        'data.frame(pids = length(list.files("/proc", pattern = "^[0-9]+$")), user = Sys.info()[["effective_user"]], env = length(grep("DATABASE|SIGHTLINE|PG", names(Sys.getenv()))))',
    });
    expect((await waitForExecution(t, t.adminSecret, probe.body.data.id, 60_000)).execution_status).toBe('success');
    const [[pids, user, env]] = (await fetchResult(probe.body.data.id)).rows as [[number, string, number]];
    expect(pids).toBeLessThanOrEqual(2);
    if (process.getuid?.() === 0) expect(user).toBe('nobody');
    expect(env).toBe(0);
    const res = await run(pgDs, { sql_query: 'SELECT 1 AS x', r_query: 'con <- socketConnection("127.0.0.1", 5432, timeout = 2)\ndata' });
    expect((await waitForExecution(t, t.adminSecret, res.body.data.id, 60_000)).execution_status).toBe('query_error');
    expect(await errorMessage(res.body.data.id)).toMatch(/^R error: .*cannot open the connection/);
  });

  it('times out at the R time limit and leaves nothing behind', async () => {
    const res = await run(pgDs, { sql_query: 'SELECT 1 AS x', r_query: 'Sys.sleep(600)\ndata' });
    const done = await waitForExecution(t, t.adminSecret, res.body.data.id, 60_000);
    expect(done.execution_status).toBe('timed_out');
    expect(await errorMessage(res.body.data.id)).toBe('R post-processing did not finish within 10 s');
    expect(rProcessDirs()).toEqual([]);
  });

  it('post-processes a report with r_query_enabled (and ignores r_query when it is off)', async () => {
    const dash = await t.api
      .post('/dashboards')
      .set('Authorization', auth(t.adminSecret))
      .send({ data: { attributes: { name: 'R board' } } });
    expect(dash.status).toBe(201);
    const dashboardId = dash.body.data.id as string;
    const report = async (name: string, rQueryEnabled: boolean) => {
      const res = await t.api
        .post('/reports')
        .set('Authorization', auth(t.adminSecret))
        .send({
          data: {
            attributes: {
              name,
              sql_query: 'SELECT g AS n FROM generate_series(1, 3) AS g ORDER BY g',
              r_query: 'data.frame(n = data$n, squared = data$n^2)',
              r_query_enabled: rQueryEnabled,
              width: 6,
              height: 4,
            },
            relationships: { dashboard: { data: { type: 'dashboards', id: dashboardId } }, datasource: { data: { type: 'datasources', id: pgDs } } },
          },
        });
      expect(res.status).toBe(201);
      return res.body.data.id as string;
    };
    const withR = await report('With R', true);
    const withoutR = await report('Without R', false);
    type Status = {
      reports: Record<string, { data_key: string }>;
      data_keys: Record<string, { result_status: string; running: boolean; data_access_token?: string }>;
    };
    let status: Status | undefined;
    await eventually(
      'the dashboard settles',
      async () => {
        const res = await t.api
          .post(`/dashboards/${dashboardId}/status`)
          .set('Authorization', auth(t.adminSecret))
          .set('Content-Type', 'application/json')
          .send(JSON.stringify({ refresh_data: true }));
        expect(res.status).toBe(200);
        status = res.body as Status;
        return Object.values(status.data_keys).every((k) => !k.running && k.result_status !== 'no-data');
      },
      60_000,
    );
    const rowsOf = async (reportId: string) => {
      const key = status!.reports[reportId]!.data_key;
      const entry = status!.data_keys[key]!;
      expect(entry.result_status).toBe('success');
      const res = await t.data.get(`/results/${key}`).set('Authorization', `Data ${entry.data_access_token}`);
      return JSON.parse(res.text) as { fields: Array<{ name: string }>; rows: unknown[][] };
    };
    const r = await rowsOf(withR);
    expect(r.fields.map((f) => f.name)).toEqual(['n', 'squared']);
    expect(r.rows).toEqual([
      [1, 1],
      [2, 4],
      [3, 9],
    ]);
    expect((await rowsOf(withoutR)).rows).toEqual([[1], [2], [3]]);
  });

  it('exports what R returns as the unlimited CSV of a report with r_query_enabled', async () => {
    const dash = await t.api
      .post('/dashboards')
      .set('Authorization', auth(t.adminSecret))
      .send({ data: { attributes: { name: 'R export' } } });
    const rep = await t.api
      .post('/reports')
      .set('Authorization', auth(t.adminSecret))
      .send({
        data: {
          attributes: {
            name: 'R csv',
            sql_query: 'SELECT g AS n FROM generate_series(1, 3) AS g ORDER BY g',
            r_query: 'data.frame(n = data$n, label = paste("row", data$n))',
            r_query_enabled: true,
            unlimited_csv_export_enabled: true,
            width: 6,
            height: 4,
          },
          relationships: { dashboard: { data: { type: 'dashboards', id: dash.body.data.id } }, datasource: { data: { type: 'datasources', id: pgDs } } },
        },
      });
    expect(rep.status).toBe(201);
    const job = await t.api
      .post(`/reports/${rep.body.data.id}/export_csv`)
      .set('Authorization', auth(t.adminSecret))
      .set('Content-Type', 'application/json')
      .send('{}');
    expect(job.status).toBe(200);
    let doc: { job_status: string; file_url: string | null; error_message: string | null } | undefined;
    await eventually(
      'the export finishes',
      async () => {
        doc = (await t.api.get(`/export_jobs/${job.body.job_id}`).set('Authorization', auth(t.adminSecret))).body;
        return doc!.job_status === 'success' || doc!.job_status === 'error';
      },
      60_000,
    );
    expect(doc).toMatchObject({ job_status: 'success', error_message: null });
    const url = new URL(doc!.file_url!);
    const file = await t.data
      .get(`${url.pathname}${url.search}`)
      .set('Accept-Encoding', 'identity')
      .buffer(true)
      .parse((res, cb) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => cb(null, Buffer.concat(parts)));
      });
    expect(file.status).toBe(200);
    expect((file.body as Buffer).toString('utf8').trim().split(/\r?\n/)).toEqual(['n,label', '1,row 1', '2,row 2', '3,row 3']);
  });

  it('cancels a running R process (killed, working directory removed)', async () => {
    const res = await run(pgDs, { sql_query: 'SELECT 1 AS x', r_query: 'Sys.sleep(600)\ndata' });
    let dirs: string[] = [];
    await eventually('R runs', () => (dirs = rProcessDirs()).length > 0);
    expect((await t.api.post(`/executions/${res.body.data.id}/cancel`).set('Authorization', auth(t.adminSecret))).status).toBe(204);
    expect((await waitForExecution(t, t.adminSecret, res.body.data.id, 30_000)).execution_status).toBe('cancelled');
    await eventually('R is gone', () => rProcessDirs().length === 0);
    await eventually('its directory is removed', () => dirs.every((d) => !existsSync(d)));
  });
});
