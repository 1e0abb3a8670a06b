// A result of at most one chunk is begun, stored and published in one statement
// (PgResultStore.storeWhole, used by ResultWriter.finish): what readers get is the same as through
// begin/appendChunk/finish, and a retried attempt replaces every chunk an earlier one left.
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ALL_PERMISSIONS,
  ExecutionRepository,
  PgResultStore,
  Principal,
  ResultWriter,
  createDomainServices,
  newUuid,
  type Datasource,
} from '@sightline/domain';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database.js';

let database: TestDatabase;
let store: PgResultStore;
let organizationId: string;
let datasource: Datasource;

beforeAll(async () => {
  database = await createTestDatabase();
  const services = createDomainServices({ db: database.db, encryptionKey: Buffer.alloc(32, 7) });
  organizationId = (await services.organizations.create('Whole results')).organization.id;
  datasource = await services.datasources.create(new Principal(organizationId, 'test', ALL_PERMISSIONS), {
    name: 'whole',
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
  store = new PgResultStore(database.db);
});
afterAll(async () => {
  await database.drop();
});

async function newExecution(): Promise<string> {
  const id = newUuid();
  await new ExecutionRepository(database.db).insert({
    id,
    organization_id: organizationId,
    datasource_id: datasource.id,
    execution_type: 'sql_query',
    execution_status: 'running',
    priority: 'interactive',
    data_key: `whole-${id}`,
    sql_text: 'SELECT 1',
    sql_values: [],
    r_query: null,
    time_zone: 'UTC',
    options: {},
    job_id: null,
  });
  return id;
}

async function write(executionId: string, rows: unknown[][], retry: boolean) {
  const writer = new ResultWriter(store, executionId, { executionId, organizationId, dataKey: `whole-${executionId}`, kind: 'rows', timeZone: 'UTC', retry });
  writer.setColumns([
    { name: 'n', dbType: 'int4', dataType: 'Integer' },
    { name: 's', dbType: 'text', dataType: 'String' },
  ]);
  if (rows.length) await writer.write(rows);
  return writer.finish({ rowLimitReached: false, dataTimestamp: new Date('2026-12-01T00:00:00Z') });
}

async function storedText(executionId: string): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of store.readChunks(executionId, 0, 100)) out.push(gunzipSync(chunk.bytes).toString());
  return out;
}

describe('a result of one chunk, stored in one statement', () => {
  it('is complete and readable like any result', async () => {
    const id = await newExecution();
    const stored = await write(
      id,
      [
        [1, 'a'],
        [2, 'b'],
      ],
      false,
    );
    expect(stored).toMatchObject({ executionId: id, sqlRows: 2, sqlColumns: 2, chunkCount: 1, sizeInBytes: '[1,"a"],[2,"b"]'.length + 2 });
    expect(await store.findByExecution(organizationId, id)).toEqual(stored);
    expect(await storedText(id)).toEqual(['[1,"a"],[2,"b"]']);
    expect((await store.findLatest(organizationId, `whole-${id}`))?.executionId).toBe(id);
  });

  it('replaces the chunks a failed earlier attempt left (retry), with rows and with none', async () => {
    for (const rows of [[[3, 'c']], []]) {
      const id = await newExecution();
      // an earlier attempt stored three chunks and never finished
      await store.begin({ executionId: id, organizationId, dataKey: `whole-${id}`, kind: 'rows', timeZone: 'UTC' });
      for (const seq of [0, 1, 2]) await store.appendChunk(id, { seq, firstRow: seq, rowCount: 1, bytes: Buffer.from(`old ${seq}`) }, 5);
      const stored = await write(id, rows, true);
      expect(stored).toMatchObject({ sqlRows: rows.length, chunkCount: rows.length, sizeInBytes: rows.length ? '[3,"c"]'.length + 2 : 2 });
      expect(await store.chunkIndex(id)).toEqual(rows.length ? [{ seq: 0, firstRow: 0, rowCount: 1 }] : []);
      if (rows.length) expect(await storedText(id)).toEqual(['[3,"c"]']);
    }
  });
});
