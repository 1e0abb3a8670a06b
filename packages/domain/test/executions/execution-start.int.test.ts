// Starting executions in batches (ExecutionService.start → ExecutionStarter) on real PostgreSQL and
// a real pg-boss: many starts at once, distinct and identical keys, one that cannot be written.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ALL_PERMISSIONS,
  Principal,
  QUEUES,
  computeDataKey,
  createDomainServices,
  createJobQueue,
  createLogger,
  ensureQueues,
  startQueue,
  stopQueue,
  type Datasource,
  type DomainServices,
  type Execution,
  type PgBoss,
  type StartExecutionInput,
} from '@sightline/domain';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database.js';

let database: TestDatabase;
let boss: PgBoss;
let services: DomainServices;
let organizationId: string;
let datasource: Datasource;

beforeAll(async () => {
  database = await createTestDatabase();
  boss = await startQueue({ connectionString: database.url, logger: createLogger('silent', 'test'), applicationName: 'execution-start-test', max: 3 });
  await ensureQueues(boss);
  services = createDomainServices({ db: database.db, encryptionKey: Buffer.alloc(32, 7), queue: createJobQueue(boss) });
  organizationId = (await services.organizations.create('Starts')).organization.id;
  const principal = new Principal(organizationId, 'test', ALL_PERMISSIONS);
  datasource = await services.datasources.create(principal, {
    name: 'starts',
    databaseType: 'postgres',
    connectionMode: 'direct',
    host: '127.0.0.1',
    port: 5432,
    username: 'postgres',
    password: null,
    database: 'postgres',
    requireSsl: false,
    maxConcurrentExecutions: 4,
  } as never);
});
afterAll(async () => {
  await stopQueue(boss, 2_000);
  await database.drop();
});

const input = (sql: string, ds: Datasource = datasource): StartExecutionInput => ({
  organizationId,
  datasource: ds,
  executionType: 'sql_query',
  priority: 'interactive',
  sqlText: sql,
  sqlValues: [],
  timeZone: 'UTC',
  dataKey: computeDataKey({ organizationId, kind: 'executions', datasourceId: ds.id, sql, values: [], timeZone: 'UTC', rQuery: null }),
});

describe('starting executions together', () => {
  it('gives distinct keys their own execution and job, identical ones one', async () => {
    const tag = Date.now();
    const distinct = Array.from({ length: 30 }, (_, i) => input(`SELECT ${i} /* distinct ${tag} */`));
    const same = input(`SELECT 1 /* same ${tag} */`);
    let inserts = 0;
    const onQuery = (q: { sql: string }) => {
      if (/^insert into "executions"/i.test(q.sql)) inserts++;
    };
    database.db.on('query', onQuery);
    // all asked for in one tick: they go in one batch, one insert statement
    const started = await Promise.all([
      ...distinct.map((d) => services.executions.start(d)),
      ...Array.from({ length: 30 }, () => services.executions.start(same)),
    ]);
    database.db.off('query', onQuery);
    expect(inserts).toBe(1);
    const distinctIds = new Set(started.slice(0, 30).map((e) => e.id));
    const sameIds = new Set(started.slice(30).map((e) => e.id));
    expect(distinctIds.size).toBe(30);
    expect(sameIds.size).toBe(1);
    expect(distinctIds.has([...sameIds][0]!)).toBe(false);
    // each execution is its key's and has its job in the queue, sent in the same transaction
    for (const [i, e] of started.slice(0, 31).entries()) {
      expect(e.dataKey).toBe(i < 30 ? distinct[i]!.dataKey : same.dataKey);
      expect(e.executionStatus).toBe('starting');
      const job = await boss.getJobById<{ executionId: string; organizationId: string }>(QUEUES.executionsInteractive, e.jobId!);
      expect(job?.data).toEqual({ executionId: e.id, organizationId });
    }
    const { rows } = await database.db.raw('SELECT count(*)::int AS n FROM executions WHERE sql_text LIKE ?', [`%${tag}%`]);
    expect(rows[0].n).toBe(31);
  });

  it('fails only the start that cannot be written', async () => {
    const tag = Date.now();
    // a datasource that does not exist: its row violates the foreign key, in the batch of the others
    const broken = input(`SELECT 2 /* broken ${tag} */`, { ...datasource, id: 'no_such_datasource' });
    const results = await Promise.allSettled([
      ...Array.from({ length: 5 }, (_, i) => services.executions.start(input(`SELECT ${i} /* beside broken ${tag} */`))),
      services.executions.start(broken),
    ]);
    expect(results.map((r) => r.status)).toEqual([...Array(5).fill('fulfilled'), 'rejected']);
    const ids = results.slice(0, 5).map((r) => (r as PromiseFulfilledResult<Execution>).value.id);
    expect(new Set(ids).size).toBe(5);
  });

  it('joins the unfinished execution of a key started earlier', async () => {
    const one = input(`SELECT 3 /* earlier ${Date.now()} */`);
    const first = await services.executions.start(one);
    const again = await Promise.all([services.executions.start(one), services.executions.start(one)]);
    expect(again.map((e) => e.id)).toEqual([first.id, first.id]);
  });
});
