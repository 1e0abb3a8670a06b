// Issue 9, point 1: a backlog larger than the worker's concurrency must drain without stalls.
// pg-boss notify-enabled queues poll only every ~30 s; a worker that sleeps after each job until
// the next insert wakes it finishes 24 small queries (at concurrency 8) after ~30 s instead of ~1 s.
// The bound below (15 s) is generous for any machine but impossible with such a stall.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPlatformTestContext, waitForExecution, type PlatformTestContext } from '../../../test/support/platform.js';
import { expectValidJsonApi } from '../../../test/support/jsonapi-schema.js';

let t: PlatformTestContext;
let datasourceId: string;
const auth = () => `Api ${t.adminSecret}`;

beforeAll(async () => {
  t = await createPlatformTestContext({ env: { RESULT_ROW_LIMIT: '1000' } });
  const res = await t.api.post('/datasources').set('Authorization', auth()).send({
    data: { attributes: { name: 'PG', database_type: 'postgres', connection_mode: 'direct', host: '127.0.0.1', port: 5432, username: 'postgres', database: t.database.name, require_ssl: false } },
  });
  expect(res.status).toBe(201);
  datasourceId = res.body.data.id as string;
}, 60_000);

afterAll(async () => {
  await t?.close();
});

const submit = async (sql: string): Promise<string> => {
  const res = await t.api.post(`/datasources/${datasourceId}/executions`).set('Authorization', auth()).set('Content-Type', 'application/json').send(JSON.stringify({ sql_query: sql }));
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
  it('drains 24 distinct small queries submitted at once without waiting for a poll interval', async () => {
    expect(t.config.workerConcurrency).toBeLessThan(24);
    // warm up: the first query of a process pays for connections and JIT
    await allDone([await submit('SELECT 0 AS warm')], Date.now(), 30_000);
    const started = Date.now();
    const ids = await Promise.all(Array.from({ length: 24 }, (_, i) => submit(`SELECT ${i + 1} AS n`)));
    expect(new Set(ids).size).toBe(24);
    const done = await allDone(ids, started, 15_000);
    expect(done.map((a) => a.execution_status)).toEqual(Array(24).fill('success'));
  }, 60_000);

  it('keeps draining when a second burst arrives while the first is running', async () => {
    const started = Date.now();
    const first = await Promise.all(Array.from({ length: 24 }, (_, i) => submit(`SELECT ${i + 100} AS n, pg_sleep(0.05)`)));
    const second = await Promise.all(Array.from({ length: 24 }, (_, i) => submit(`SELECT ${i + 200} AS n`)));
    const done = await allDone([...first, ...second], started, 20_000);
    expect(done.every((a) => a.execution_status === 'success')).toBe(true);
  }, 60_000);
});
