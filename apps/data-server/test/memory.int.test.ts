import http from 'node:http';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { ResultColumn, ResultStore, StoredChunk, StoredResult } from '@sightline/domain';
import { createDataTestContext, type DataTestContext } from './support/data-context.js';

// Constant memory means back-pressure: while a client does not read, the data server must stop
// pulling chunks from the store (a few in flight, not the result). Peak RSS at 1M and 10M rows
// is measured in a separate process by `npm run bench -- data-server`.

let t: DataTestContext;
let result: StoredResult;
let chunksPulled = 0;
/** When set, the store fails after yielding this many chunks (a database lost mid-download). */
let failAfter: number | undefined;
const KEY = 'org1/sql_query/memory0001';
const ROWS = 300_000;
const COLUMNS: ResultColumn[] = [
  { name: 'id', dbType: 'int4', dataType: 'Integer' },
  { name: 'label', dbType: 'text', dataType: 'String' },
  { name: 'amount', dbType: 'float8', dataType: 'Float' },
  { name: 'created_at', dbType: 'timestamptz', dataType: 'DateTime' },
];

/** The store with a counter of the chunks the data server pulled. */
function counting(store: ResultStore): ResultStore {
  return Object.assign(Object.create(store) as ResultStore, {
    async *readChunks(executionId: string, fromSeq: number, toSeq: number): AsyncIterable<StoredChunk> {
      for await (const chunk of store.readChunks(executionId, fromSeq, toSeq)) {
        if (failAfter !== undefined && chunksPulled >= failAfter) throw new Error('connection to the result store lost');
        chunksPulled++;
        yield chunk;
      }
    },
  });
}

beforeAll(async () => {
  t = await createDataTestContext({ serveFrom: counting });
  const rows = Array.from({ length: ROWS }, (_, i) => [
    i,
    `label ${i} ${'·'.repeat(i % 17)}`,
    i * 1.25,
    new Date(1_700_000_000_000 + i * 60_000).toISOString(),
  ]);
  result = await t.storeRows({ dataKey: KEY, columns: COLUMNS, rows });
}, 120_000);
afterAll(async () => {
  await t.close();
});

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a download, stops reading after the first bytes for `pauseMs`, then reads the rest. */
function pausedDownload(path: string, headers: Record<string, string>, pauseMs: number): Promise<{ bytes: number; pulledWhilePaused: number }> {
  const url = new URL(t.server.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path, headers, agent: false }, (res) => {
      expect(res.statusCode).toBe(200);
      let bytes = 0;
      res.once('data', (first: Buffer) => {
        bytes += first.length;
        res.pause();
        void wait(pauseMs).then(() => {
          const pulledWhilePaused = chunksPulled;
          res.on('data', (b: Buffer) => {
            bytes += b.length;
          });
          res.on('end', () => resolve({ bytes, pulledWhilePaused }));
          res.resume();
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

it.each([
  ['JSON, identity', '', 'identity'],
  ['CSV', '?format=csv', 'identity'],
  ['NDJSON', '?format=ndjson', 'identity'],
])(
  'stops reading the store while a client does not read (%s)',
  async (_label, query, encoding) => {
    expect(result.chunkCount).toBeGreaterThanOrEqual(20);
    chunksPulled = 0;
    const { bytes, pulledWhilePaused } = await pausedDownload(
      `/results/${KEY}${query}`,
      { Authorization: `Data ${t.token(KEY)}`, 'Accept-Encoding': encoding },
      1500,
    );
    // socket buffers + the read-ahead hold a few chunks; without back-pressure all would be read
    // (identity only: a few MB of kernel socket buffer hold many gzip-compressed chunks)
    expect(pulledWhilePaused).toBeLessThanOrEqual(8);
    expect(chunksPulled).toBe(result.chunkCount);
    if (query === '') expect(bytes).toBeGreaterThan(result.sizeInBytes);
  },
  60_000,
);

it('aborts the response when the store fails mid-stream (never a cut body that looks whole)', async () => {
  const url = new URL(t.server.url);
  for (const encoding of ['identity', 'gzip']) {
    chunksPulled = 0;
    failAfter = 3;
    try {
      const outcome = await new Promise<{ status: number; complete: boolean; bytes: number; error?: string }>((resolve) => {
        const req = http.request(
          {
            host: url.hostname,
            port: url.port,
            path: `/results/${KEY}`,
            headers: { Authorization: `Data ${t.token(KEY)}`, 'Accept-Encoding': encoding },
            agent: false,
          },
          (res) => {
            let bytes = 0;
            res.on('data', (b: Buffer) => {
              bytes += b.length;
            });
            res.on('error', (err) => resolve({ status: res.statusCode ?? 0, complete: res.complete, bytes, error: err.message }));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, complete: res.complete, bytes }));
          },
        );
        req.on('error', (err) => resolve({ status: 0, complete: false, bytes: 0, error: err.message }));
        req.end();
      });
      expect(outcome.status).toBe(200);
      expect(outcome.complete).toBe(false);
      expect(outcome.error).toBeDefined();
    } finally {
      failAfter = undefined;
    }
  }
  // the server is fine afterwards
  const res = await t.request('/health');
  expect(res.status).toBe(200);
}, 60_000);
