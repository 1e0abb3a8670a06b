// Scenario "cold-run": the all-in-one process (`npm start`: api-server, data-server and worker in
// one process, here on the scratch database) runs a BENCH_COLD_ROWS-row (default 1M) × 11-column
// query cold: POST execution → poll until success → Get Execution Data → fetch the result (gzip).
// Baseline: `COPY (same query) TO STDOUT` into a file on a direct connection of the same server.
// Goals (issue 15): cold run ≤ 2× COPY; peak RSS (VmHWM from /proc) of the process < 150 MiB.
// BENCH_COLD_RUNTIME: `tsx` (default, `npm start` before precompiling) or `bundle` (precompiled JS).
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import {
  MB,
  bundleApp,
  createScratchDatabase,
  download,
  envNumber,
  startChild,
  type BenchMetric,
  type BenchScenario,
  type ChildServer,
} from './support/harness.js';

const { to: copyTo } = copyStreams;
const ENV = {
  SIGHTLINE_DATA_TOKEN_SECRET: 'bench-data-token-secret-0123456789abcdef',
  SIGHTLINE_ENCRYPTION_KEY: '07'.repeat(32),
  LOG_LEVEL: 'warn',
  HOST: '127.0.0.1',
  API_PORT: '0',
  DATA_PORT: '0',
  RESULT_ROW_LIMIT: '20000000',
};

/** 11 columns of the usual types: integers, text, numeric, boolean, timestamptz, date, float, nulls. */
const coldSql = (rows: number) =>
  `SELECT g AS id, md5(g::text) AS label, (g % 1000) * 1.25 AS amount, g % 3 = 0 AS flag,
          timestamptz '2024-01-01' + g * interval '1 second' AS at, g % 7 AS bucket, 'customer ' || (g % 9973) AS customer,
          ((g * 31) % 100000) / 100.0 AS price, date '2024-01-01' + (g % 365) AS day,
          CASE WHEN g % 11 = 0 THEN NULL ELSE 'note ' || g END AS note, g::float8 / 3 AS ratio
     FROM generate_series(1, ${rows}) AS g`;

export const scenario: BenchScenario = {
  name: 'cold-run',
  description: 'all-in-one: 1M × 11 columns cold (execute → success → fetch gzip) vs COPY TO STDOUT; peak RSS',
  async run(ctx) {
    const rows = envNumber('BENCH_COLD_ROWS', 1_000_000);
    const runtime = process.env.BENCH_COLD_RUNTIME ?? 'tsx';
    const metrics: BenchMetric[] = [];
    const scratch = await createScratchDatabase('bench_cold');
    const dir = await mkdtemp(join(tmpdir(), 'sightline-cold-'));
    const direct = new pg.Pool({ connectionString: scratch.url, max: 1 });
    let app: ChildServer | undefined;
    try {
      const entry = runtime === 'bundle' ? await bundleApp('apps/sightline/src/main.ts', 'sightline') : 'apps/sightline/src/main.ts';
      app = await startChild(entry, { ...ENV, DATABASE_URL: scratch.url }, /Data server: (\S+)/, ['start']);
      for (let i = 0; i < 100 && !/Admin API key: /.test(app.output()); i++) await new Promise((r) => setTimeout(r, 50));
      const apiUrl = /API server: (\S+)/.exec(app.output())![1]!;
      const adminKey = /Admin API key: (\S+)/.exec(app.output())?.[1];
      if (!adminKey) throw new Error(`the all-in-one start printed no admin key:\n${app.output()}`);
      const idle = await app.rss();
      const headers = { Authorization: `Api ${adminKey}`, 'Content-Type': 'application/json' };
      const u = new URL(scratch.url);
      const created = await fetch(`${apiUrl}/datasources`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          data: {
            attributes: {
              name: 'bench',
              database_type: 'postgres',
              connection_mode: 'direct',
              host: u.hostname,
              port: Number(u.port || 5432),
              username: decodeURIComponent(u.username) || 'postgres',
              password: u.password ? decodeURIComponent(u.password) : null,
              database: u.pathname.slice(1),
              require_ssl: false,
            },
          },
        }),
      });
      if (created.status !== 201) throw new Error(`create datasource answered ${created.status}: ${await created.text()}`);
      const datasourceId = ((await created.json()) as { data: { id: string } }).data.id;

      const sql = coldSql(rows);
      const c0 = performance.now();
      const client = await direct.connect();
      try {
        await pipeline(client.query(copyTo(`COPY (${sql}) TO STDOUT`)), createWriteStream(join(dir, 'copy.tsv')));
      } finally {
        client.release();
      }
      const copy = (performance.now() - c0) / 1000;

      const cpu0 = await app.cpuSeconds();
      const e0 = performance.now();
      // a comment makes the data key new (nothing cached)
      const res = await fetch(`${apiUrl}/datasources/${datasourceId}/executions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ sql_query: `${sql} /* cold ${Date.now()} */` }),
      });
      if (res.status !== 201) throw new Error(`run execution answered ${res.status}: ${await res.text()}`);
      const id = ((await res.json()) as { data: { id: string } }).data.id;
      let executed = 0;
      for (;;) {
        const e = (await (await fetch(`${apiUrl}/executions/${id}`, { headers })).json()) as {
          data: { attributes: { execution_status: string; error_message: string | null } };
        };
        const status = e.data.attributes.execution_status;
        if (status === 'success') break;
        if (!['starting', 'running', 'waiting', 'scheduled'].includes(status)) throw new Error(`execution ${status}: ${e.data.attributes.error_message}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      executed = (performance.now() - e0) / 1000;
      const token = (await (await fetch(`${apiUrl}/executions/${id}/data`, { headers })).json()) as { data_key: string; data_access_token: string };
      const d = await download(`${app.url}/results/${token.data_key}`, { Authorization: `Data ${token.data_access_token}`, 'Accept-Encoding': 'gzip' });
      const cold = (performance.now() - e0) / 1000;
      const cpu = (await app.cpuSeconds()) - cpu0;
      const peak = await app.peakRss();
      ctx.log(
        `${rows.toLocaleString()} rows × 11 (${runtime}): cold ${cold.toFixed(2)} s (success after ${executed.toFixed(2)} s, fetch ${d.seconds.toFixed(2)} s, ${(d.bytes / MB).toFixed(1)} MB gzip; app CPU ${cpu.toFixed(2)} s); COPY ${copy.toFixed(2)} s; RSS idle ${(idle / MB).toFixed(0)} MB, peak ${(peak / MB).toFixed(0)} MB`,
      );
      metrics.push({
        metric: `cold ${rows.toLocaleString()} × 11 (${runtime}): execute → fetch gzip`,
        value: cold,
        unit: 's',
        note: `success after ${executed.toFixed(2)} s; COPY ${copy.toFixed(2)} s`,
      });
      // CPU of the all-in-one process (user + system) during the cold run: less sensitive to other load than wall time
      metrics.push({ metric: `cold ${rows.toLocaleString()} × 11 (${runtime}): app CPU during the run`, value: cpu, unit: 's' });
      metrics.push({
        metric: `cold ${rows.toLocaleString()} × 11 (${runtime}): ratio cold / COPY`,
        value: cold / copy,
        unit: 'x',
        goal: '<= 2',
        pass: cold / copy <= 2,
      });
      metrics.push({
        metric: `all-in-one peak RSS (${runtime}) during the cold run`,
        value: peak / MB,
        unit: 'MB',
        goal: '< 150',
        pass: peak / MB < 150,
        note: `idle ${(idle / MB).toFixed(0)} MB`,
      });
      return metrics;
    } finally {
      await app?.stop();
      await direct.end();
      await scratch.drop();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
