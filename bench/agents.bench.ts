// Scenario "agents": the same queries on one PostgreSQL through a direct datasource and through a
// datasource agent (api-server with its relay, worker and agent each as their own process).
// 1. Ingest BENCH_AGENT_ROWS rows (default 200k,1M): execution time through the agent / direct, and
//    peak RSS of the agent and the API server (the relay) afterwards (memory must stay bounded).
// 2. Small query end to end (POST → success): p50 through the agent / direct over
//    BENCH_AGENT_SMALL_ROUNDS rounds (default 50): the cost of a session through relay and agent.
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
  RESULT_ROW_LIMIT: '20000000',
};

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const ingestSql = (rows: number) =>
  `SELECT g AS id, md5(g::text) AS label, (g % 1000) * 1.25 AS amount, g % 3 = 0 AS flag,
          timestamptz '2024-01-01' + g * interval '1 second' AS at FROM generate_series(1, ${rows}) AS g`;

export const scenario: BenchScenario = {
  name: 'agents',
  description: 'queries through a datasource agent vs direct: ingest time, small-query latency, relay/agent memory',
  async run(ctx) {
    const metrics: BenchMetric[] = [];
    const scratch = await createScratchDatabase('bench_agents');
    const children: ChildServer[] = [];
    try {
      const services = createDomainServices({ db: scratch.db, encryptionKey: Buffer.from(ENCRYPTION_KEY_HEX, 'hex') });
      const { adminKey } = await services.organizations.create('Bench');
      const env = { ...ENV, DATABASE_URL: scratch.url };
      children.push(await startChild('apps/worker/src/main.ts', env, /(Worker ready)/));
      const api = await startChild('apps/api-server/src/main.ts', env, /API server: (\S+)/);
      children.push(api);
      const headers = { Authorization: `Api ${adminKey.secret}`, 'Content-Type': 'application/json' };
      const post = async (path: string, body: unknown) => {
        const res = await fetch(`${api.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
        if (res.status !== 201) throw new Error(`POST ${path} answered ${res.status}: ${await res.text()}`);
        return (await res.json()) as { data: { id: string; attributes: Record<string, unknown> } };
      };
      const agentDoc = await post('/datasource_agents', { data: { attributes: { name: 'bench agent' } } });
      const agent = await startChild(
        'apps/agent/src/main.ts',
        { SIGHTLINE_AGENT_SERVER: api.url, SIGHTLINE_AGENT_SECRET: String(agentDoc.data.attributes.secret_key) },
        /(connected) to/,
      );
      children.push(agent);
      const u = new URL(scratch.url);
      const connection = {
        database_type: 'postgres',
        host: u.hostname,
        port: Number(u.port || 5432),
        username: decodeURIComponent(u.username) || 'postgres',
        password: u.password ? decodeURIComponent(u.password) : null,
        database: u.pathname.slice(1),
        require_ssl: false,
        max_concurrent_executions: 20,
      };
      const direct = (await post('/datasources', { data: { attributes: { name: 'direct', connection_mode: 'direct', ...connection } } })).data.id;
      const viaAgent = (
        await post('/datasources', {
          data: {
            attributes: { name: 'agent', connection_mode: 'agent', ...connection },
            relationships: { agents: { data: [{ type: 'datasource_agents', id: agentDoc.data.id }] } },
          },
        })
      ).data.id;

      const runExecution = async (datasourceId: string, sql: string, pollMs: number) => {
        const res = await post(`/datasources/${datasourceId}/executions`, { sql_query: sql });
        for (;;) {
          const e = (await (await fetch(`${api.url}/executions/${res.data.id}`, { headers })).json()) as { data: { attributes: { execution_status: string } } };
          const status = e.data.attributes.execution_status;
          if (status === 'success') return;
          if (!['starting', 'running', 'waiting', 'scheduled'].includes(status)) throw new Error(`execution ${status}`);
          await new Promise((r) => setTimeout(r, pollMs));
        }
      };
      const timed = async (datasourceId: string, sql: string, pollMs: number) => {
        const t0 = performance.now();
        await runExecution(datasourceId, sql, pollMs);
        return performance.now() - t0;
      };

      // 1. Ingest through the agent vs direct (best of 2 each; a comment makes every run a new data key).
      for (const rows of envNumbers('BENCH_AGENT_ROWS', [200_000, 1_000_000])) {
        const best = async (ds: string) =>
          Math.min(
            await timed(ds, `${ingestSql(rows)} /* ${ds} a ${Date.now()} */`, 20),
            await timed(ds, `${ingestSql(rows)} /* ${ds} b ${Date.now()} */`, 20),
          );
        const d = await best(direct);
        const a = await best(viaAgent);
        const agentRss = await agent.peakRss();
        const apiRss = await api.peakRss();
        ctx.log(
          `${rows} rows: agent ${(a / 1000).toFixed(2)} s, direct ${(d / 1000).toFixed(2)} s; peak RSS agent ${(agentRss / 2 ** 20).toFixed(0)} MB, api-server ${(apiRss / 2 ** 20).toFixed(0)} MB`,
        );
        metrics.push({
          metric: `ingest ${rows.toLocaleString('en-US')} rows: agent / direct`,
          value: a / d,
          unit: 'x',
          goal: '≤ 1.5',
          pass: a / d <= 1.5,
          note: `${(a / 1000).toFixed(2)} s vs ${(d / 1000).toFixed(2)} s`,
        });
        metrics.push({
          metric: `agent peak RSS after ${rows.toLocaleString('en-US')} rows`,
          value: agentRss / 2 ** 20,
          unit: 'MB',
          goal: '< 150',
          pass: agentRss < 150 * 2 ** 20,
        });
        metrics.push({
          metric: `api-server (relay) peak RSS after ${rows.toLocaleString('en-US')} rows`,
          value: apiRss / 2 ** 20,
          unit: 'MB',
          goal: '< 250',
          pass: apiRss < 250 * 2 ** 20,
        });
      }

      // 2. Small queries: each opens a session (through relay and agent, or directly).
      const rounds = envNumber('BENCH_AGENT_SMALL_ROUNDS', 50);
      const d: number[] = [];
      const a: number[] = [];
      for (let i = 0; i < rounds; i++) {
        d.push(await timed(direct, `SELECT ${i} AS round, now() AS at /* d */`, 2));
        a.push(await timed(viaAgent, `SELECT ${i} AS round, now() AS at /* a */`, 2));
      }
      ctx.log(`small query p50: agent ${median(a).toFixed(1)} ms, direct ${median(d).toFixed(1)} ms`);
      metrics.push({
        metric: 'small query end to end p50: agent / direct',
        value: median(a) / median(d),
        unit: 'x',
        goal: '≤ 2',
        pass: median(a) / median(d) <= 2,
        note: `${median(a).toFixed(1)} ms vs ${median(d).toFixed(1)} ms`,
      });
      return metrics;
    } finally {
      for (const c of children.reverse()) await c.stop();
      await scratch.drop();
    }
  },
};
