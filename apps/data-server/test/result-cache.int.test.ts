// Small results from memory (CachedResultStore, issue 15): the same bytes as from the database,
// no database read for a cached key, and a newer or deleted result seen once PostgreSQL notifies.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CachedResultStore, createLogger, type ResultColumn, type ResultStore } from '@sightline/domain';
import { listen, type RunningServer } from '@sightline/http';
import { createDataApp } from '@sightline/data-server';
import { createDataTestContext, dataAuth, rawRequest, type DataTestContext } from './support/data-context.js';

let t: DataTestContext;
let cache: CachedResultStore;
let plain: RunningServer;
const reads = { findLatest: 0, readChunks: 0 };

/** Counts the reads that reach the database store. */
function counting(store: ResultStore): ResultStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop === 'findLatest' || prop === 'readChunks') {
        return (...args: unknown[]) => {
          reads[prop]++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const COLUMNS: ResultColumn[] = [
  { name: 'id', dbType: 'int4', dataType: 'Integer' },
  { name: 'name', dbType: 'text', dataType: 'String' },
];
const SMALL = 'org1/sql_query/cached-small';
const BIG = 'org1/sql_query/cached-big';

async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 45_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met within 45 s');
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  t = await createDataTestContext({
    serveFrom: (store) => {
      cache = new CachedResultStore(counting(store), { maxResultBytes: 64 * 1024 });
      return cache;
    },
  });
  await cache.listen(t.database.url);
  expect(cache.isListening).toBe(true);
  plain = await listen(createDataApp({ db: t.database.db, logger: createLogger('silent', 'test'), resultStore: t.store, tokens: t.tokens }), '127.0.0.1', 0);
  await t.storeRows({ dataKey: SMALL, columns: COLUMNS, rows: Array.from({ length: 10 }, (_, i) => [i, `name ${i} ünï`]) });
  // random text compresses badly: well over 64 KiB stored
  await t.storeRows({ dataKey: BIG, columns: COLUMNS, rows: Array.from({ length: 5000 }, (_, i) => [i, Math.random().toString(36).repeat(4)]) });
}, 60_000);

afterAll(async () => {
  await cache?.close();
  await plain?.close();
  await t?.close();
});

describe('small results from memory', () => {
  const variants: Array<[string, Record<string, string>]> = [
    ['', { 'Accept-Encoding': 'identity' }],
    ['', { 'Accept-Encoding': 'gzip' }],
    ['?format=csv', { 'Accept-Encoding': 'identity' }],
    ['?format=ndjson', { 'Accept-Encoding': 'gzip' }],
    ['?offset=3&limit=4', { 'Accept-Encoding': 'identity' }],
    ['?offset=3&limit=4', { 'Accept-Encoding': 'gzip' }],
  ];

  it('answers byte for byte what the data server without cache answers, without reading the database again', async () => {
    const auth = dataAuth(t.token(SMALL));
    // a lookup that races a notification (those of the results stored just before) keeps nothing
    await until(async () => (await t.request(`/results/${SMALL}`, { ...auth })).status === 200 && cache.size > 0);
    const before = { ...reads };
    // twice: the second round answers from the whole bodies kept with the result
    for (const [query, headers] of [...variants, ...variants]) {
      const cached = await t.request(`/results/${SMALL}${query}`, { ...auth, ...headers });
      const direct = await rawRequest(plain.url, `/results/${SMALL}${query}`, { ...auth, ...headers });
      expect(cached.status).toBe(200);
      expect(cached.body.equals(direct.body)).toBe(true);
      expect(cached.headers['content-type']).toBe(direct.headers['content-type']);
      expect(cached.headers['content-encoding']).toBe(direct.headers['content-encoding']);
    }
    expect(reads).toEqual(before);
    expect(cache.size).toBeGreaterThan(0);
  });

  it('reads results larger than the limit from the database every time', async () => {
    const auth = dataAuth(t.token(BIG));
    const first = await t.request(`/results/${BIG}`, auth);
    const before = { ...reads };
    const second = await t.request(`/results/${BIG}`, auth);
    expect(second.body.equals(first.body)).toBe(true);
    expect(reads.findLatest).toBe(before.findLatest + 1);
    expect(reads.readChunks).toBeGreaterThan(before.readChunks);
  });

  it('serves a newer result of the key once it completes', async () => {
    const auth = dataAuth(t.token(SMALL));
    const old = (await t.request(`/results/${SMALL}`, auth)).json;
    const newer = await t.storeRows({ dataKey: SMALL, columns: COLUMNS, rows: [[42, 'newer']] });
    await until(async () => (await t.request(`/results/${SMALL}`, auth)).json.execution_id === newer.executionId);
    const now = (await t.request(`/results/${SMALL}`, auth)).json;
    expect(now.rows).toEqual([[42, 'newer']]);
    expect(now.execution_id).not.toBe(old.execution_id);
  });

  it('answers 404 once the results of the key are deleted', async () => {
    const auth = dataAuth(t.token(SMALL));
    expect((await t.request(`/results/${SMALL}`, auth)).status).toBe(200);
    await t.database.db('results').where({ data_key: SMALL }).delete();
    await until(async () => (await t.request(`/results/${SMALL}`, auth)).status === 404);
  });

  it('keeps nothing and reads the database while not listening', async () => {
    const key = 'org1/sql_query/cached-after-close';
    await t.storeRows({ dataKey: key, columns: COLUMNS, rows: [[1, 'a']] });
    await cache.close();
    expect(cache.isListening).toBe(false);
    expect(cache.size).toBe(0);
    const auth = dataAuth(t.token(key));
    const before = { ...reads };
    await t.request(`/results/${key}`, auth);
    await t.request(`/results/${key}`, auth);
    expect(reads.findLatest).toBe(before.findLatest + 2);
    expect(cache.size).toBe(0);
  });
});
