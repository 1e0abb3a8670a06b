// Results served from rows the database encoded (PostgreSQL COPY of JSON rows, the execution
// runner's path) are byte for byte the results served from the cursor path's values.
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDriver, rowJsonOf, type Driver } from '@sightline/domain';
import { TYPES_SQL } from '../../../packages/domain/test/drivers/encoded-types.js';
import { createDataTestContext, dataAuth, type DataTestContext } from './support/data-context.js';

let t: DataTestContext;
let driver: Driver;

beforeAll(async () => {
  t = await createDataTestContext();
  const u = new URL(t.database.url);
  driver = createDriver({
    databaseType: 'postgres',
    host: u.hostname,
    port: Number(u.port || 5432),
    username: decodeURIComponent(u.username) || 'postgres',
    password: u.password ? decodeURIComponent(u.password) : null,
    database: u.pathname.slice(1),
    requireSsl: false,
    verifySsl: false,
    dataTimeZone: 'Europe/Amsterdam',
    connectTimeoutMs: 15_000,
  });
});

afterAll(async () => {
  await driver.close();
  await t.close();
});

/** Runs `sql` through one path, stores it, and answers its served bytes (identity and gzip). */
async function served(sql: string, jsonText: boolean, dataKey: string): Promise<{ identity: Buffer; gzip: Buffer; encodedRows: number }> {
  const query = await driver.query(sql, [], { timeoutMs: 60_000, batchSize: 500, jsonText });
  const columns = await query.columns();
  let encodedRows = 0;
  const batches = (async function* () {
    for await (const batch of query.rows()) {
      encodedRows += rowJsonOf(batch)?.length ?? 0;
      yield batch;
    }
  })();
  await t.storeBatches({ dataKey, columns, batches, timeZone: 'Europe/Amsterdam' });
  const identity = await t.request(`/results/${dataKey}`, { ...dataAuth(t.token(dataKey)), 'Accept-Encoding': 'identity' });
  const gzip = await t.request(`/results/${dataKey}`, { ...dataAuth(t.token(dataKey)), 'Accept-Encoding': 'gzip' });
  expect(identity.status).toBe(200);
  expect(gzip.headers['content-encoding']).toBe('gzip');
  // the two results differ only in their execution ids
  const sameId = (body: Buffer) => Buffer.from(body.toString('utf8').replace(/^\{"execution_id":"[0-9a-f-]{36}"/, '{"execution_id":"-"'));
  return { identity: sameId(identity.body), gzip: sameId(gunzipSync(gzip.body)), encodedRows };
}

describe('results of database-encoded rows', () => {
  it('serves every encoded type exactly as the cursor path (rows, fields and statistics)', async () => {
    const viaCursor = await served(TYPES_SQL, false, 'org1/sql_query/cursor0001');
    const viaCopy = await served(TYPES_SQL, true, 'org1/sql_query/copy000001');
    expect(viaCursor.encodedRows).toBe(0);
    expect(viaCopy.encodedRows).toBeGreaterThan(0);
    expect(viaCopy.identity.toString('utf8')).toBe(viaCursor.identity.toString('utf8'));
    expect(viaCopy.gzip.equals(viaCursor.identity)).toBe(true);
  });

  it('serves a multi-chunk result exactly as the cursor path', async () => {
    const sql = `SELECT g AS id, md5(g::text) AS label, (g % 1000) * 1.25 AS amount, g % 3 = 0 AS flag,
                        timestamptz '2024-01-01' + g * interval '1 second' AS at, g::int8 * 1000003 AS big,
                        ((g * 31) % 100000) / 100.0 AS price, date '2024-01-01' + (g % 365) AS day,
                        CASE WHEN g % 11 = 0 THEN NULL ELSE 'note ' || g END AS note, g::float8 / 3 AS ratio
                   FROM generate_series(1, 30000) AS g`;
    const viaCursor = await served(sql, false, 'org1/sql_query/cursor0002');
    const viaCopy = await served(sql, true, 'org1/sql_query/copy000002');
    expect(viaCopy.encodedRows).toBe(30_000);
    expect(viaCopy.identity.length).toBeGreaterThan(2 << 20);
    expect(viaCopy.identity.equals(viaCursor.identity)).toBe(true);
    expect(viaCopy.gzip.equals(viaCursor.identity)).toBe(true);
  });
});
