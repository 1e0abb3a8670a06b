// Scenario "executions": the query path end to end, each part as its own process (api-server,
// data-server, worker children started from their real composition roots).
// 1. Ingest: a BENCH_INGEST_ROWS-row query (default 100k,1M) from POST to `success` vs
//    `COPY (query) TO STDOUT` of the same SQL on the same server; worker peak RSS after each size.
// 2. Small query end to end (POST, poll, data token, fetch) vs running the SQL directly on a pooled
//    connection: p50/p95 over BENCH_SMALL_ROUNDS (default 200) rounds; plus queue dispatch latency.
// 3. 50 concurrent identical executions: how many queries reached the database.
// 4. Cancel: from POST /executions/{id}/cancel until the query left the database, vs pg_cancel_backend
//    (BENCH_CANCEL_ROUNDS, default 10). Tests prove cancel arrives; how fast lives here.
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDomainServices } from '@sightline/domain';
import { createScratchDatabase, envNumber, envNumbers, startChild, type BenchMetric, type BenchScenario, type ChildServer } from './support/harness.js';

const { to: copyTo } = copyStreams;
const ENCRYPTION_KEY_HEX = '07'.repeat(32);
const ENV = {
  SIGHTLINE_DATA_TOKEN_SECRET: 'bench-data-token-secret-0123456789abcdef',
  SIGHTLINE_ENCRYPTION_KEY: ENCRYPTION_KEY_HEX,
  LOG_LEVEL: 'warn',
  HOST: '127.0.0.1',
  API_PORT: '0',
  DATA_PORT: '0',
  RESULT_ROW_LIMIT: '20000000',
};

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const ingestSql = (rows: number) =>
  `SELECT g AS id, md5(g::text) AS label, (g % 1000) * 1.25 AS amount, g % 3 = 0 AS flag,
          timestamptz '2024-01-01' + g * interval '1 second' AS at FROM generate_series(1, ${rows}) AS g`;

export const scenario: BenchScenario = {
  name: 'executions',
  description: 'ingest vs COPY, small-query overhead vs direct SQL, single flight under 50 concurrent requests',
  async run(ctx) {
    const metrics: BenchMetric[] = [];
    const scratch = await createScratchDatabase('bench_exec');
    const children: ChildServer[] = [];
    const direct = new pg.Pool({ connectionString: scratch.url, max: 2 });
    try {
      const services = createDomainServices({ db: scratch.db, encryptionKey: Buffer.from(ENCRYPTION_KEY_HEX, 'hex') });
      const { adminKey } = await services.organizations.create('Bench');
      const env = { ...ENV, DATABASE_URL: scratch.url };
      const worker = await startChild('apps/worker/src/main.ts', env, /(Worker ready)/);
      children.push(worker);
      const api = await startChild('apps/api-server/src/main.ts', env, /API server: (\S+)/);
      children.push(api);
      const data = await startChild('apps/data-server/src/main.ts', env, /Data server: (\S+)/);
      children.push(data);
      const headers = { Authorization: `Api ${adminKey.secret}`, 'Content-Type': 'application/json' };
      const u = new URL(scratch.url);
      const created = await fetch(`${api.url}/datasources`, {
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
              max_concurrent_executions: 20,
            },
          },
        }),
      });
      const datasourceId = ((await created.json()) as { data: { id: string } }).data.id;

      const runExecution = async (sql: string, pollMs: number) => {
        const res = await fetch(`${api.url}/datasources/${datasourceId}/executions`, { method: 'POST', headers, body: JSON.stringify({ sql_query: sql }) });
        if (res.status !== 201) throw new Error(`run execution answered ${res.status}: ${await res.text()}`);
        const id = ((await res.json()) as { data: { id: string } }).data.id;
        for (;;) {
          const e = (await (await fetch(`${api.url}/executions/${id}`, { headers })).json()) as {
            data: { attributes: { execution_status: string; error_message: string | null } };
          };
          const status = e.data.attributes.execution_status;
          if (status === 'success') return id;
          if (!['starting', 'running', 'waiting', 'scheduled'].includes(status)) throw new Error(`execution ${status}: ${e.data.attributes.error_message}`);
          await new Promise((r) => setTimeout(r, pollMs));
        }
      };

      // 1. Ingest vs COPY.
      for (const rows of envNumbers('BENCH_INGEST_ROWS', [100_000, 1_000_000])) {
        const sql = ingestSql(rows);
        const copyTimes: number[] = [];
        const execTimes: number[] = [];
        for (let round = 0; round < 2; round++) {
          const c0 = performance.now();
          const client = await direct.connect();
          try {
            await pipeline(client.query(copyTo(`COPY (${sql}) TO STDOUT`)), new Writable({ write: (_c, _e, cb) => cb() }));
          } finally {
            client.release();
          }
          copyTimes.push((performance.now() - c0) / 1000);
          const e0 = performance.now();
          // a comment makes each round a new data key (no reuse)
          await runExecution(`${sql} /* round ${round} ${Date.now()} */`, 20);
          execTimes.push((performance.now() - e0) / 1000);
        }
        const copy = Math.min(...copyTimes);
        const exec = Math.min(...execTimes);
        const rss = await worker.peakRss();
        ctx.log(`${rows} rows: execution ${exec.toFixed(2)} s, COPY ${copy.toFixed(2)} s, worker peak RSS ${(rss / 2 ** 20).toFixed(0)} MB`);
        metrics.push({
          metric: `ingest ${rows.toLocaleString('en-US')} rows: execution / COPY`,
          value: exec / copy,
          unit: 'x',
          goal: '≤ 2',
          pass: exec / copy <= 2,
          note: `${exec.toFixed(2)} s vs ${copy.toFixed(2)} s`,
        });
        metrics.push({
          metric: `worker peak RSS after ${rows.toLocaleString('en-US')} rows`,
          value: rss / 2 ** 20,
          unit: 'MB',
          goal: '< 200',
          pass: rss < 200 * 2 ** 20,
        });
      }

      // 2. Small query: end to end vs direct.
      const rounds = envNumber('BENCH_SMALL_ROUNDS', 200);
      const e2e: number[] = [];
      const plain: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const sql = `SELECT ${i} AS round, now() AS at`;
        const d0 = performance.now();
        await direct.query(sql);
        plain.push(performance.now() - d0);
        const t0 = performance.now();
        const id = await runExecution(sql, 2);
        const token = (await (await fetch(`${api.url}/executions/${id}/data`, { headers })).json()) as { data_key: string; data_access_token: string };
        const rows = await fetch(`${data.url}/results/${token.data_key}`, { headers: { Authorization: `Data ${token.data_access_token}` } });
        await rows.arrayBuffer();
        e2e.push(performance.now() - t0);
      }
      const dispatch = await scratch.db.raw(
        `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY run_ms) AS run_p50
           FROM (SELECT extract(epoch FROM started_at - created_at) * 1000 AS ms, extract(epoch FROM completed_at - started_at) * 1000 AS run_ms
                   FROM executions WHERE sql_text LIKE 'SELECT % AS round, now() AS at') s`,
      );
      ctx.log(
        `small query: created→started p50 ${Number(dispatch.rows[0].p50).toFixed(1)} ms, started→completed p50 ${Number(dispatch.rows[0].run_p50).toFixed(1)} ms`,
      );
      const overhead95 = percentile(e2e, 95) - percentile(plain, 95);
      ctx.log(
        `small query: e2e p50 ${percentile(e2e, 50).toFixed(1)} ms p95 ${percentile(e2e, 95).toFixed(1)} ms; direct p50 ${percentile(plain, 50).toFixed(2)} ms p95 ${percentile(plain, 95).toFixed(2)} ms`,
      );
      metrics.push({ metric: 'small query e2e p50', value: percentile(e2e, 50), unit: 'ms', note: `direct ${percentile(plain, 50).toFixed(2)} ms` });
      metrics.push({ metric: 'small query e2e p95', value: percentile(e2e, 95), unit: 'ms', note: `direct ${percentile(plain, 95).toFixed(2)} ms` });
      metrics.push({ metric: 'small query p95 overhead vs direct', value: overhead95, unit: 'ms', goal: '< 50', pass: overhead95 < 50 });
      metrics.push({
        metric: 'queue dispatch latency p50 / p95',
        value: Number(dispatch.rows[0].p50),
        unit: 'ms',
        note: `p95 ${Number(dispatch.rows[0].p95).toFixed(1)} ms (created → started)`,
        goal: 'tens of ms',
        pass: Number(dispatch.rows[0].p95) < 100,
      });

      // 3. Single flight.
      await direct.query('CREATE TABLE bench_hits (at timestamptz DEFAULT now())');
      await direct.query('CREATE FUNCTION bench_hit() RETURNS int LANGUAGE sql VOLATILE AS $$ INSERT INTO bench_hits DEFAULT VALUES RETURNING 1 $$');
      // The query waits for a lock held here until all 50 requests are answered (a busy machine could
      // otherwise finish a short query before the last request arrives and count that as a miss).
      const lockSession = await direct.connect();
      const ids: string[] = [];
      try {
        await lockSession.query('SELECT pg_advisory_lock(716016)');
        ids.push(
          ...(await Promise.all(
            Array.from({ length: 50 }, async () => {
              const res = await fetch(`${api.url}/datasources/${datasourceId}/executions`, {
                method: 'POST',
                headers,
                body: JSON.stringify({ sql_query: 'SELECT bench_hit(), pg_advisory_xact_lock(716016)::text' }),
              });
              return ((await res.json()) as { data: { id: string } }).data.id;
            }),
          )),
        );
      } finally {
        await lockSession.query('SELECT pg_advisory_unlock(716016)');
        lockSession.release();
      }
      for (;;) {
        const status = ((await (await fetch(`${api.url}/executions/${ids[0]}`, { headers })).json()) as { data: { attributes: { execution_status: string } } })
          .data.attributes.execution_status;
        if (!['starting', 'running', 'waiting', 'scheduled'].includes(status)) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const hits = Number((await direct.query('SELECT count(*) FROM bench_hits')).rows[0].count);
      metrics.push({
        metric: '50 concurrent identical executions: queries run',
        value: hits,
        unit: 'queries',
        goal: '1',
        pass: hits === 1,
        note: `${new Set(ids).size} distinct execution id(s)`,
      });

      // 4. Cancel: POST /executions/{id}/cancel until the backend is gone from pg_stat_activity, vs
      //    pg_cancel_backend on a direct session of the same server (the tests only prove it arrives).
      const backendOf = async (marker: string) =>
        (
          await direct.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE query LIKE $1 AND state = 'active' AND pid <> pg_backend_pid()", [
            `%${marker}%`,
          ])
        ).rows[0]?.pid;
      const until = async (check: () => Promise<boolean>) => {
        const deadline = Date.now() + 30_000;
        while (!(await check())) {
          if (Date.now() > deadline) throw new Error('cancel bench: condition not met in 30 s');
          await new Promise((r) => setTimeout(r, 2));
        }
      };
      const viaApi: number[] = [];
      const viaBackend: number[] = [];
      for (let i = 0; i < envNumber('BENCH_CANCEL_ROUNDS', 10); i++) {
        const marker = `cancel_probe_${i}_${Date.now()}`;
        const res = await fetch(`${api.url}/datasources/${datasourceId}/executions`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ sql_query: `SELECT pg_sleep(60) /* ${marker} */` }),
        });
        const id = ((await res.json()) as { data: { id: string } }).data.id;
        await until(async () => (await backendOf(marker)) !== undefined);
        const a0 = performance.now();
        await fetch(`${api.url}/executions/${id}/cancel`, { method: 'POST', headers });
        await until(async () => (await backendOf(marker)) === undefined);
        viaApi.push(performance.now() - a0);

        const session = await direct.connect();
        const sleeping = session.query(`SELECT pg_sleep(60) /* ${marker}_direct */`).catch(() => undefined);
        await until(async () => (await backendOf(`${marker}_direct`)) !== undefined);
        const b0 = performance.now();
        await direct.query('SELECT pg_cancel_backend($1)', [await backendOf(`${marker}_direct`)]);
        await until(async () => (await backendOf(`${marker}_direct`)) === undefined);
        viaBackend.push(performance.now() - b0);
        await sleeping;
        session.release();
      }
      ctx.log(
        `cancel: via API p50 ${percentile(viaApi, 50).toFixed(0)} ms p95 ${percentile(viaApi, 95).toFixed(0)} ms; pg_cancel_backend p50 ${percentile(viaBackend, 50).toFixed(1)} ms`,
      );
      metrics.push({
        metric: 'cancel reaches the database p95',
        value: percentile(viaApi, 95),
        unit: 'ms',
        goal: '< 1000',
        pass: percentile(viaApi, 95) < 1000,
        note: `p50 ${percentile(viaApi, 50).toFixed(0)} ms; pg_cancel_backend p50 ${percentile(viaBackend, 50).toFixed(1)} ms`,
      });
      return metrics;
    } finally {
      for (const c of children) await c.stop();
      await direct.end();
      await scratch.drop();
    }
  },
};
