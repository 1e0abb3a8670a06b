// Scenario "statements" (issue 9): metadata-database round trips of one execution, counted exactly.
// In process: the api-server's ExecutionService (submit) and the worker's ExecutionRunner (run) on
// one knex pool whose `query` events are counted (BEGIN/COMMIT included; pg-boss's own fetch and
// complete run on pg-boss's pool and add 2 per execution, not counted here). The datasource is the
// same PostgreSQL through the driver's own pool (not counted). Commits = COMMITs + statements run
// outside a transaction (each autocommits). BENCH_STATEMENTS_TRACE=1 prints the statements of the
// last small run.
import {
  ALL_PERMISSIONS,
  ExecutionRunner,
  Principal,
  createDomainServices,
  createJobQueue,
  createLogger,
  ensureQueues,
  startQueue,
  stopQueue,
  type ExecutionJob,
} from '@sightline/domain';
import { createScratchDatabase, envNumber, type BenchMetric, type BenchScenario } from './support/harness.js';

interface Count {
  statements: number;
  commits: number;
}

export const scenario: BenchScenario = {
  name: 'statements',
  description: 'issue 9: metadata statements and commits per execution (submit, run)',
  async run(ctx) {
    const scratch = await createScratchDatabase('bench_statements');
    const boss = await startQueue({ connectionString: scratch.url, logger: createLogger('warn', 'bench'), applicationName: 'bench-statements', max: 2 });
    try {
      await ensureQueues(boss);
      const sent: ExecutionJob[] = [];
      const queue = createJobQueue(boss);
      const services = createDomainServices({
        db: scratch.db,
        encryptionKey: Buffer.alloc(32, 7),
        queue: {
          send: async (name, data, o) => {
            sent.push(data as ExecutionJob);
            return queue.send(name, data, o);
          },
          cancel: queue.cancel,
        },
      });
      const { organization } = await services.organizations.create('Bench');
      const principal = new Principal(organization.id, 'bench', ALL_PERMISSIONS);
      const u = new URL(scratch.url);
      const ds = await services.datasources.create(principal, {
        name: 'bench',
        databaseType: 'postgres',
        connectionMode: 'direct',
        host: u.hostname,
        port: Number(u.port || 5432),
        username: decodeURIComponent(u.username) || 'postgres',
        password: u.password ? decodeURIComponent(u.password) : null,
        database: u.pathname.slice(1),
        requireSsl: false,
        maxConcurrentExecutions: 4,
      } as never);
      const runner = new ExecutionRunner({
        db: scratch.db,
        datasources: services.datasources,
        resultStore: services.resultStore,
        queue,
        logger: createLogger('warn', 'bench'),
        clock: services.clock,
        rowLimit: 100_000,
      });

      let counting: Count | undefined;
      let trace: string[] = [];
      scratch.db.on('query', (q: { sql: string; __knexTxId?: string }) => {
        if (!counting) return;
        counting.statements++;
        trace.push(`${q.__knexTxId ? '  [trx] ' : ''}${q.sql.replace(/\s+/g, ' ').slice(0, 160)}`);
        if (/^commit/i.test(q.sql.trim()) || (!q.__knexTxId && !/^(begin|rollback)/i.test(q.sql.trim()))) counting.commits++;
      });
      const measure = async (fn: () => Promise<unknown>): Promise<Count> => {
        counting = { statements: 0, commits: 0 };
        trace = [];
        try {
          await fn();
          return counting;
        } finally {
          counting = undefined;
        }
      };
      const n = envNumber('BENCH_STATEMENT_ROUNDS', 20);
      const submit: Count[] = [];
      const join: Count[] = [];
      const run: Count[] = [];
      const big: Count[] = [];
      for (let i = 0; i < n; i++) {
        const sql = `SELECT ${i} AS n /* statements ${i} */`;
        submit.push(await measure(() => services.executions.runAdHoc(principal, ds.id, { sqlQuery: sql })));
        join.push(await measure(() => services.executions.runAdHoc(principal, ds.id, { sqlQuery: sql })));
        run.push(await measure(() => runner.run(sent.shift()!)));
      }
      if (process.env.BENCH_STATEMENTS_TRACE) ctx.log(`statements of the last small run:\n    ${trace.join('\n    ')}`);
      for (let i = 0; i < 3; i++) {
        // a result of several chunks (about 1 MiB each)
        await services.executions.runAdHoc(principal, ds.id, { sqlQuery: `SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 15000 + ${i}) g` });
        big.push(await measure(() => runner.run(sent.shift()!)));
      }
      const { rows } = await scratch.db.raw(`SELECT execution_status, count(*)::int AS n FROM executions GROUP BY 1`);
      ctx.log(`executions: ${JSON.stringify(rows)}`);
      const avg = (xs: Count[], k: keyof Count) => xs.reduce((s, x) => s + x[k], 0) / xs.length;
      const metrics: BenchMetric[] = [];
      for (const [name, xs] of [
        ['submit (new key)', submit],
        ['submit (joins a running key)', join],
        ['worker run, small result', run],
        ['worker run, ~3 MB result', big],
      ] as const) {
        ctx.log(`${name}: ${avg(xs, 'statements').toFixed(1)} statements, ${avg(xs, 'commits').toFixed(1)} commits`);
        metrics.push({ metric: `${name}: statements`, value: avg(xs, 'statements'), unit: 'per execution' });
        metrics.push({ metric: `${name}: commits`, value: avg(xs, 'commits'), unit: 'per execution' });
      }
      return metrics;
    } finally {
      await stopQueue(boss, 2_000).catch(() => {});
      await scratch.drop();
    }
  },
};
