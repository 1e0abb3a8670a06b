// Issue 9, point 1: a backlog larger than the worker's concurrency must drain without stalls.
// pg-boss notify-enabled queues are polled only at the notify backstop; a worker slot that sleeps
// after each job until the next insert wakes it leaves the rest of a burst queued until that poll.
// Here the worker's execution queues poll only every 10 minutes (no slot ever wakes by polling
// within the test), so the backlog drains only if each slot fetches again as soon as its job is
// done; the liveness bound (120 s) is generous for the slowest machine and still far below the
// stall (removing workEagerly's `notifyWorker` wake-up makes this file fail).
// Also point 5: `row_limit_reached` is true only when the result had more rows than RESULT_ROW_LIMIT.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPlatformTestContext, waitForExecution, type PlatformTestContext } from '../../../test/support/platform.js';
import { expectValidJsonApi } from '../../../test/support/jsonapi-schema.js';

/** Poll interval of the worker's execution queues: a slot waiting for a poll would stall this long. */
const STALL_SECONDS = 600;
/** Liveness bound of a burst: far beyond any machine's drain time, far below the stall. */
const BOUND_MS = 120_000;

let t: PlatformTestContext;
let datasourceId: string;
let mariaId: string;
const auth = () => `Api ${t.adminSecret}`;

beforeAll(async () => {
  t = await createPlatformTestContext({
    env: { RESULT_ROW_LIMIT: '1000' },
    executionPolling: { pollingIntervalSeconds: STALL_SECONDS, notifyPollingIntervalSeconds: STALL_SECONDS },
  });
  const res = await t.api
    .post('/datasources')
    .set('Authorization', auth())
    .send({
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
    });
  expect(res.status).toBe(201);
  datasourceId = res.body.data.id as string;
  const maria = await t.api
    .post('/datasources')
    .set('Authorization', auth())
    .send({
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
    });
  expect(maria.status).toBe(201);
  mariaId = maria.body.data.id as string;
}, 60_000);

afterAll(async () => {
  await t?.close();
});

const submit = async (sql: string, ds = datasourceId): Promise<string> => {
  const res = await t.api
    .post(`/datasources/${ds}/executions`)
    .set('Authorization', auth())
    .set('Content-Type', 'application/json')
    .send(JSON.stringify({ sql_query: sql }));
  expectValidJsonApi(res.body);
  expect(res.status).toBe(201);
  return res.body.data.id as string;
};

/** Waits until every execution is finished; fails once `boundMs` has passed since `since`. */
async function allDone(ids: string[], since: number, boundMs: number): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  for (const id of ids) out.push(await waitForExecution(t, t.adminSecret, id, Math.max(1, since + boundMs - Date.now())));
  return out;
}

describe('a backlog larger than the worker concurrency', () => {
  it(
    'drains 24 distinct small queries submitted at once without waiting for a poll interval',
    async () => {
      expect(t.config.workerConcurrency).toBeLessThan(24);
      // warm up: the first query of a process pays for connections and JIT
      await allDone([await submit('SELECT 0 AS warm')], Date.now(), BOUND_MS);
      const started = Date.now();
      const ids = await Promise.all(Array.from({ length: 24 }, (_, i) => submit(`SELECT ${i + 1} AS n`)));
      expect(new Set(ids).size).toBe(24);
      const done = await allDone(ids, started, BOUND_MS);
      expect(done.map((a) => a.execution_status)).toEqual(Array(24).fill('success'));
    },
    BOUND_MS + 60_000,
  );

  it(
    'keeps draining when a second burst arrives while the first is running',
    async () => {
      const started = Date.now();
      const first = await Promise.all(Array.from({ length: 24 }, (_, i) => submit(`SELECT ${i + 100} AS n, pg_sleep(0.05)`)));
      const second = await Promise.all(Array.from({ length: 24 }, (_, i) => submit(`SELECT ${i + 200} AS n`)));
      const done = await allDone([...first, ...second], started, BOUND_MS);
      expect(done.every((a) => a.execution_status === 'success')).toBe(true);
    },
    BOUND_MS + 60_000,
  );
});

describe('row_limit_reached (RESULT_ROW_LIMIT 1000)', () => {
  const result = async (id: string) => {
    const done = await waitForExecution(t, t.adminSecret, id, 30_000);
    expect(done.execution_status).toBe('success');
    const data = await t.api.get(`/executions/${id}/data`).set('Authorization', auth());
    expect(data.status).toBe(200);
    const res = await t.data.get(`/results/${data.body.data_key}`).set('Authorization', `Data ${data.body.data_access_token}`);
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text) as { rows: unknown[][]; row_limit_reached: boolean };
    return { resultRows: done.result_rows, rows: body.rows.length, reached: body.row_limit_reached, last: body.rows.at(-1) };
  };
  const cases: Array<[string, () => string]> = [
    ['PostgreSQL', () => datasourceId],
    ['MariaDB', () => mariaId],
  ];
  for (const [label, ds] of cases) {
    it(
      `${label}: exactly the limit is complete, one more row is cut`,
      async () => {
        const series = (n: number) =>
          label === 'MariaDB'
            ? `WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ${n}) SELECT g FROM s /* ${n} */`
            : `SELECT g FROM generate_series(1, ${n}) g /* ${n} */`;
        const [below, exact, above, far] = await Promise.all([999, 1000, 1001, 5000].map((n) => submit(series(n), ds())));
        expect(await result(below!)).toEqual({ resultRows: 999, rows: 999, reached: false, last: [999] });
        expect(await result(exact!)).toEqual({ resultRows: 1000, rows: 1000, reached: false, last: [1000] });
        expect(await result(above!)).toEqual({ resultRows: 1000, rows: 1000, reached: true, last: [1000] });
        expect(await result(far!)).toEqual({ resultRows: 1000, rows: 1000, reached: true, last: [1000] });
      },
      BOUND_MS,
    );
  }
});
