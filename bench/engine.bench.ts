// Scenario "engine" (issue 9): the execution engine under load, api-server, data-server and one
// worker as separate processes (their real composition roots), default WORKER_CONCURRENCY.
// Parts (BENCH_ENGINE_PARTS=burst,dispatch,small,submits; default all):
// - burst: N distinct small executions submitted at once (BENCH_BURST_SIZES, default 24,200,1000):
//   time from the first insert until the last is done vs the ideal N × t1 / concurrency, where t1 is
//   the median time of one execution alone (insert → done) measured in the same run; and the
//   longest an execution finished later than its turn (ideal completion of its wave of `concurrency`).
// - dispatch: with the queue busy, how fast a job starts: (a) a steady stream keeping half the slots
//   busy: p95 insert → start; (b) under a standing backlog (a 200 burst): p95 from a slot freeing
//   (the k-th completion) to the next start (the (k + concurrency)-th start).
// - small: one small query end to end (POST, poll, data token, fetch) vs running it directly on a
//   pooled connection: p95 difference over BENCH_SMALL_ROUNDS (default 100).
// - submits: 500 concurrent POSTs, half of them identical (held open by an advisory lock until all
//   are answered): all accepted, one query run for the identical half, submit p95, peak RSS per process.
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { createDomainServices } from '@sightline/domain';
import { createScratchDatabase, envNumber, envNumbers, startChild, type BenchMetric, type BenchScenario, type ChildServer } from './support/harness.js';

const ENCRYPTION_KEY_HEX = '07'.repeat(32);
const ENV = {
  SIGHTLINE_DATA_TOKEN_SECRET: 'bench-data-token-secret-0123456789abcdef',
  SIGHTLINE_ENCRYPTION_KEY: ENCRYPTION_KEY_HEX,
  LOG_LEVEL: 'warn',
  HOST: '127.0.0.1',
  API_PORT: '0',
  DATA_PORT: '0',
};
/** The worker's default concurrency (WORKER_CONCURRENCY is left unset). */
const CONCURRENCY = 8;
const UNFINISHED = ['starting', 'running', 'waiting', 'scheduled'];

/** CPU time (user + system) a process has used so far, in ms (from /proc/<pid>/stat, 100 ticks/s). */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `tasks` with at most `limit` at a time. */
async function pool<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

interface Timing {
  id: string;
  created: number;
  started: number;
  completed: number;
  status: string;
}

export const scenario: BenchScenario = {
  name: 'engine',
  description: 'issue 9: burst drain vs ideal, dispatch under a busy queue, small-query overhead, 500 concurrent submits',
  async run(ctx) {
    const parts = new Set((process.env.BENCH_ENGINE_PARTS ?? 'burst,dispatch,small,submits').split(',').map((p) => p.trim()));
    const metrics: BenchMetric[] = [];
    const scratch = await createScratchDatabase('bench_engine');
    const children: ChildServer[] = [];
    const direct = new pg.Pool({ connectionString: scratch.url, max: 2 });
    let tag = 0;
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

      const submit = async (sql: string): Promise<{ id: string; ms: number; status: number }> => {
        const t0 = performance.now();
        const res = await fetch(`${api.url}/datasources/${datasourceId}/executions`, { method: 'POST', headers, body: JSON.stringify({ sql_query: sql }) });
        const body = (await res.json()) as { data?: { id: string } };
        return { id: body.data?.id ?? '', ms: performance.now() - t0, status: res.status };
      };
      /** Waits (watching the metadata database, not the API: 1,000 pollers would be the load) until all are finished. */
      const settle = async (ids: string[], timeoutMs: number): Promise<Timing[]> => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const { rows } = await direct.query<{ n: string }>('SELECT count(*) AS n FROM executions WHERE id = ANY($1) AND execution_status = ANY($2)', [
            ids,
            UNFINISHED,
          ]);
          if (Number(rows[0]!.n) === 0) break;
          if (Date.now() > deadline) throw new Error(`${rows[0]!.n} of ${ids.length} executions unfinished after ${timeoutMs} ms`);
          await sleep(20);
        }
        const { rows } = await direct.query<{ id: string; c: number; s: number; d: number; execution_status: string }>(
          `SELECT id, extract(epoch FROM created_at) * 1000 AS c, extract(epoch FROM started_at) * 1000 AS s, extract(epoch FROM completed_at) * 1000 AS d, execution_status
             FROM executions WHERE id = ANY($1)`,
          [ids],
        );
        return rows.map((r) => ({ id: r.id, created: Number(r.c), started: Number(r.s), completed: Number(r.d), status: r.execution_status }));
      };
      const runOne = async (sql: string) => (await settle([(await submit(sql)).id], 60_000))[0]!;

      // warm up every process (connections, JIT)
      for (let i = 0; i < 5; i++) await runOne(`SELECT ${i} AS warm /* ${++tag} */`);
      // t1: one execution alone, insert → done
      const singles: Timing[] = [];
      for (let i = 0; i < 15; i++) {
        singles.push(await runOne(`SELECT ${i} AS alone /* ${++tag} */`));
        await sleep(30);
      }
      const t1 = percentile(
        singles.map((s) => s.completed - s.created),
        50,
      );
      const run1 = percentile(
        singles.map((s) => s.completed - s.started),
        50,
      );
      ctx.log(
        `one execution alone: insert → done p50 ${t1.toFixed(1)} ms (running ${run1.toFixed(1)} ms, dispatch ${percentile(
          singles.map((s) => s.started - s.created),
          50,
        ).toFixed(1)} ms)`,
      );

      const burst = async (n: number): Promise<Timing[]> => {
        const run = ++tag;
        const subs = await pool(n, 64, (i) => submit(`SELECT ${i} AS n /* burst ${run} */`));
        const bad = subs.filter((s) => s.status !== 201);
        if (bad.length) throw new Error(`${bad.length} submits answered ${bad[0]!.status}`);
        return settle(
          subs.map((s) => s.id),
          Math.max(120_000, n * 1000),
        );
      };

      if (parts.has('burst')) {
        for (const n of envNumbers('BENCH_BURST_SIZES', [24, 200, 1000])) {
          const [w0, a0] = [await cpuMs(worker.pid), await cpuMs(api.pid)];
          const timings = (await burst(n)).sort((a, b) => a.created - b.created);
          const [w1, a1] = [await cpuMs(worker.pid), await cpuMs(api.pid)];
          const first = timings[0]!.created;
          const drain = Math.max(...timings.map((t) => t.completed)) - first;
          const ideal = (n * t1) / CONCURRENCY;
          // the k-th execution's turn: its wave (k / concurrency) done, or t1 after its own insert
          const late = timings.map((t, k) => t.completed - Math.max(first + (Math.floor(k / CONCURRENCY) + 1) * t1, t.created + t1));
          const failed = timings.filter((t) => t.status !== 'success').length;
          const runMs = percentile(
            timings.map((t) => t.completed - t.started),
            50,
          );
          ctx.log(`burst ${n}: running (start → done) p50 ${runMs.toFixed(0)} ms vs ${run1.toFixed(0)} ms alone`);
          ctx.log(
            `burst ${n}: last done after ${(drain / 1000).toFixed(2)} s, ideal ${(ideal / 1000).toFixed(2)} s, median done ${(
              (percentile(
                timings.map((t) => t.completed),
                50,
              ) -
                first) /
              1000
            ).toFixed(2)} s, latest beyond its turn ${(Math.max(...late) / 1000).toFixed(2)} s, ${failed} not success`,
          );
          metrics.push({
            metric: `burst ${n}: drain / ideal`,
            value: drain / ideal,
            unit: 'x',
            goal: '≤ 1.5',
            pass: drain / ideal <= 1.5 && failed === 0,
            note: `${(drain / 1000).toFixed(2)} s vs ${(ideal / 1000).toFixed(2)} s (t1 ${t1.toFixed(0)} ms × ${n} / ${CONCURRENCY})`,
          });
          metrics.push({
            metric: `burst ${n}: longest wait beyond its turn`,
            value: Math.max(...late) / 1000,
            unit: 's',
            goal: '≤ 2',
            pass: Math.max(...late) <= 2000,
          });
          // what bounds throughput on this machine: CPU per execution of the worker (one Node thread) and the api-server
          metrics.push({
            metric: `burst ${n}: CPU per execution, worker / api-server`,
            value: (w1 - w0) / n,
            unit: 'ms',
            note: `api-server ${((a1 - a0) / n).toFixed(1)} ms; worker busy ${(((w1 - w0) / drain) * 100).toFixed(0)}% of the drain`,
          });
        }
      }

      if (parts.has('dispatch')) {
        // (a) steady stream: CONCURRENCY / 2 clients, each submitting its next query when the last is done
        const stream: Timing[] = [];
        const until = Date.now() + envNumber('BENCH_DISPATCH_SECONDS', 10) * 1000;
        await Promise.all(
          Array.from({ length: CONCURRENCY / 2 }, async (_, c) => {
            for (let i = 0; Date.now() < until; i++) stream.push(await runOne(`SELECT ${i} AS n, ${c} AS client /* stream ${++tag} */`));
          }),
        );
        const wait = stream.map((t) => t.started - t.created);
        ctx.log(
          `steady stream (${CONCURRENCY / 2} clients, ${stream.length} executions): insert → start p50 ${percentile(wait, 50).toFixed(1)} ms p95 ${percentile(wait, 95).toFixed(1)} ms`,
        );
        metrics.push({
          metric: 'dispatch, busy queue with free slots: insert → start p95',
          value: percentile(wait, 95),
          unit: 'ms',
          goal: '< 50',
          pass: percentile(wait, 95) < 50,
          note: `p50 ${percentile(wait, 50).toFixed(1)} ms over ${stream.length}`,
        });
        // (b) standing backlog: a slot freeing → the next job starting
        const timings = await burst(200);
        const starts = timings.map((t) => t.started).sort((a, b) => a - b);
        const ends = timings.map((t) => t.completed).sort((a, b) => a - b);
        const handoff: number[] = [];
        for (let k = 0; k + CONCURRENCY < starts.length; k++) handoff.push(Math.max(0, starts[k + CONCURRENCY]! - ends[k]!));
        ctx.log(`standing backlog (200): slot free → next start p50 ${percentile(handoff, 50).toFixed(1)} ms p95 ${percentile(handoff, 95).toFixed(1)} ms`);
        metrics.push({
          metric: 'dispatch under a backlog: slot free → next start p95',
          value: percentile(handoff, 95),
          unit: 'ms',
          goal: '< 50',
          pass: percentile(handoff, 95) < 50,
          note: `p50 ${percentile(handoff, 50).toFixed(1)} ms`,
        });
      }

      if (parts.has('small')) {
        const rounds = envNumber('BENCH_SMALL_ROUNDS', 100);
        const e2e: number[] = [];
        const plain: number[] = [];
        for (let i = 0; i < rounds; i++) {
          const sql = `SELECT ${i} AS round, now() AS at /* small ${++tag} */`;
          const d0 = performance.now();
          await direct.query(sql);
          plain.push(performance.now() - d0);
          const t0 = performance.now();
          const { id } = await submit(sql);
          for (;;) {
            const e = (await (await fetch(`${api.url}/executions/${id}`, { headers })).json()) as {
              data: { attributes: { execution_status: string; error_message: string | null } };
            };
            if (e.data.attributes.execution_status === 'success') break;
            if (!UNFINISHED.includes(e.data.attributes.execution_status))
              throw new Error(`execution ${e.data.attributes.execution_status}: ${e.data.attributes.error_message}`);
            await sleep(2);
          }
          const token = (await (await fetch(`${api.url}/executions/${id}/data`, { headers })).json()) as { data_key: string; data_access_token: string };
          await (await fetch(`${data.url}/results/${token.data_key}`, { headers: { Authorization: `Data ${token.data_access_token}` } })).arrayBuffer();
          e2e.push(performance.now() - t0);
        }
        const overhead = percentile(e2e, 95) - percentile(plain, 95);
        ctx.log(
          `small query: e2e p50 ${percentile(e2e, 50).toFixed(1)} ms p95 ${percentile(e2e, 95).toFixed(1)} ms; direct p95 ${percentile(plain, 95).toFixed(2)} ms`,
        );
        metrics.push({
          metric: 'small query e2e p95 minus direct p95',
          value: overhead,
          unit: 'ms',
          goal: '< 50',
          pass: overhead < 50,
          note: `e2e p50 ${percentile(e2e, 50).toFixed(1)} / p95 ${percentile(e2e, 95).toFixed(1)} ms, direct p95 ${percentile(plain, 95).toFixed(2)} ms`,
        });
      }

      if (parts.has('submits')) {
        await direct.query('CREATE TABLE IF NOT EXISTS bench_hits (at timestamptz DEFAULT now())');
        await direct.query(
          'CREATE OR REPLACE FUNCTION bench_hit() RETURNS int LANGUAGE sql VOLATILE AS $$ INSERT INTO bench_hits DEFAULT VALUES RETURNING 1 $$',
        );
        const lock = await direct.connect();
        const run = ++tag;
        let subs: Array<{ id: string; ms: number; status: number }>;
        const apiCpu0 = await cpuMs(api.pid);
        let apiCpu1 = apiCpu0;
        try {
          await lock.query('SELECT pg_advisory_lock(716017)');
          subs = await Promise.all(
            Array.from({ length: 500 }, (_, i) =>
              submit(i % 2 === 0 ? `SELECT bench_hit(), pg_advisory_xact_lock(716017)::text /* same ${run} */` : `SELECT ${i} AS n /* distinct ${run} */`),
            ),
          );
          apiCpu1 = await cpuMs(api.pid);
        } finally {
          await lock.query('SELECT pg_advisory_unlock(716017)');
          lock.release();
        }
        const accepted = subs.filter((s) => s.status === 201).length;
        const same = new Set(subs.filter((_, i) => i % 2 === 0).map((s) => s.id));
        await settle(subs.map((s) => s.id).filter(Boolean), 300_000);
        const hits = Number((await direct.query('SELECT count(*) FROM bench_hits')).rows[0].count);
        const p95 = percentile(
          subs.map((s) => s.ms),
          95,
        );
        ctx.log(
          `500 concurrent submits: ${accepted} accepted, identical half → ${same.size} execution(s), ${hits} query run(s); submit p50 ${percentile(
            subs.map((s) => s.ms),
            50,
          ).toFixed(0)} ms p95 ${p95.toFixed(0)} ms`,
        );
        metrics.push({ metric: '500 concurrent submits: accepted', value: accepted, unit: 'of 500', goal: '500', pass: accepted === 500 });
        metrics.push({
          metric: '500 concurrent submits: identical half ran',
          value: hits,
          unit: 'queries',
          goal: '1',
          pass: hits === 1 && same.size === 1,
          note: `${same.size} execution id(s)`,
        });
        metrics.push({
          metric: '500 concurrent submits: submit p95',
          value: p95,
          unit: 'ms',
          goal: '< 500',
          pass: p95 < 500,
          note: `p50 ${percentile(
            subs.map((s) => s.ms),
            50,
          ).toFixed(0)} ms`,
        });
        // what bounds the burst on a busy machine: the api-server's one Node thread
        metrics.push({
          metric: '500 concurrent submits: api-server CPU per submit',
          value: (apiCpu1 - apiCpu0) / 500,
          unit: 'ms',
          note: `${((apiCpu1 - apiCpu0) / 1000).toFixed(2)} s CPU over the burst`,
        });
      }
      for (const [name, child] of [
        ['api-server', api],
        ['data-server', data],
        ['worker', worker],
      ] as const) {
        metrics.push({ metric: `peak RSS ${name}`, value: (await child.peakRss()) / 2 ** 20, unit: 'MB' });
      }
      return metrics;
    } finally {
      for (const c of children) await c.stop();
      await direct.end();
      await scratch.drop();
    }
  },
};
