// Scenario "data-server": serving a cached result.
// 1. Throughput: data servers (child processes) serving a BENCH_ROWS-row result (default 1M) vs a
//    plain Node static-file server sending the same bytes from a file, gzip passthrough and
//    identity, BENCH_ROUNDS interleaved rounds (default 5); ratio of medians. Data servers:
//    BENCH_THROUGHPUT_RUNTIMES (default bundle; see `Runtime`). Parts 4 and 5 run the
//    BENCH_DATA_RUNTIME data server (default bundle).
// 2. Store read alone (no HTTP): PgResultStore.readChunks vs COPY binary.
// 3. Peak RSS (VmHWM) of a fresh data-server process per runtime (BENCH_RUNTIMES, default
//    tsx,bundle), size (BENCH_RSS_ROWS, default 1M,10M) and format (BENCH_RSS_FORMATS,
//    default gzip,identity,csv). Results larger than BENCH_ROWS are copies of its chunks.
// 4. Small cached result (BENCH_SMALL_ROWS, default 10 rows): BENCH_SMALL_REQUESTS (default 6000)
//    requests over BENCH_SMALL_CONCURRENCY (default 50) connections, gzip and identity, vs bare Node
//    answering the same bytes from memory. Goal (issue 15): >= 0.3 of bare Node.
// 5. BENCH_CONCURRENT_DOWNLOADS (default 50) simultaneous downloads of the BENCH_ROWS-row result
//    (BENCH_CONCURRENT_FORMATS, default identity,gzip) on a fresh data server: peak RSS, and RSS
//    after the downloads (2 s later) next to the idle RSS. Goal: < 250 MB peak, back to idle.
// BENCH_DATA_PARTS (default throughput,store,small,concurrent,rss) runs a subset of 1-5.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataTokens, PgResultStore, ResultWriter, createDomainServices, newId, type ResultColumn } from '@sightline/domain';
import {
  MB,
  bundleApp,
  createScratchDatabase,
  download,
  downloadToFile,
  envList,
  envNumber,
  envNumbers,
  loadTest,
  median,
  startChild,
  type BenchMetric,
  type BenchScenario,
  type ChildServer,
  type ScratchDatabase,
} from './support/harness.js';

const SECRET = 'bench-data-token-secret-0123456789abcdef';
const ENCRYPTION_KEY_HEX = '07'.repeat(32);
const COLUMNS: ResultColumn[] = [
  { name: 'id', dbType: 'int8', dataType: 'Integer' },
  { name: 'customer', dbType: 'text', dataType: 'String' },
  { name: 'amount', dbType: 'numeric', dataType: 'Float' },
  { name: 'paid', dbType: 'bool', dataType: 'Boolean' },
  { name: 'created_at', dbType: 'timestamptz', dataType: 'DateTime' },
  { name: 'category', dbType: 'text', dataType: 'String' },
  { name: 'note', dbType: 'text', dataType: 'String' },
];
const CATEGORIES = ['hardware', 'software', 'services', 'training', 'support'];
const row = (i: number): unknown[] => [
  i,
  `customer ${i % 9973}`,
  Math.round(i * 731) / 100,
  i % 7 === 0,
  new Date(1_700_000_000_000 + i * 1000).toISOString(),
  CATEGORIES[i % 5],
  i % 11 === 0 ? null : `note ${i}`,
];

const GZIP = { 'Accept-Encoding': 'gzip' };
const IDENTITY = { 'Accept-Encoding': 'identity' };

interface Setup {
  scratch: ScratchDatabase;
  organizationId: string;
  datasourceId: string;
}

async function newExecution(s: Setup, dataKey: string): Promise<string> {
  const id = randomUUID();
  await s.scratch.db('executions').insert({
    id,
    organization_id: s.organizationId,
    datasource_id: s.datasourceId,
    execution_type: 'sql_query',
    execution_status: 'success',
    data_key: dataKey,
    sql_text: 'SELECT …',
    completed_at: new Date(),
  });
  return id;
}

/** Writes `rows` rows through ResultWriter (what the worker does). */
async function writeResult(s: Setup, dataKey: string, rows: number): Promise<string> {
  const store = new PgResultStore(s.scratch.db);
  const executionId = await newExecution(s, dataKey);
  await store.begin({ executionId, organizationId: s.organizationId, dataKey, kind: 'rows', timeZone: 'UTC' });
  const writer = new ResultWriter(store, executionId);
  writer.setColumns(COLUMNS);
  const BATCH = 10_000;
  for (let start = 0; start < rows; start += BATCH) {
    const batch: unknown[][] = [];
    for (let i = start; i < Math.min(rows, start + BATCH); i++) batch.push(row(i));
    await writer.write(batch);
  }
  await writer.finish({ rowLimitReached: false, dataTimestamp: new Date() });
  return executionId;
}

/** A result of `copies` × the rows of `sourceExecutionId`, made of copies of its stored chunks. */
async function cloneResult(s: Setup, sourceExecutionId: string, dataKey: string, copies: number): Promise<void> {
  const db = s.scratch.db;
  const executionId = await newExecution(s, dataKey);
  const source = await db('results').where({ execution_id: sourceExecutionId }).first();
  await db('results').insert({
    execution_id: executionId,
    organization_id: s.organizationId,
    data_key: dataKey,
    kind: 'rows',
    complete: false,
    fields: JSON.stringify(source.fields),
    sql_columns: source.sql_columns,
    time_zone: 'UTC',
    data_timestamp: new Date(),
  });
  await db.raw(
    `INSERT INTO result_chunks (execution_id, seq, first_row, row_count, raw_bytes, bytes)
     SELECT ?, c.seq + k * ?, c.first_row + k * ?, c.row_count, c.raw_bytes, c.bytes
       FROM result_chunks c CROSS JOIN generate_series(0, ? - 1) AS k
      WHERE c.execution_id = ?`,
    [executionId, source.chunk_count, Number(source.sql_rows), copies, sourceExecutionId],
  );
  await db.raw(
    `UPDATE results r SET complete = true, completed_at = now(), sql_rows = s.rows, chunk_count = s.chunks, stored_bytes = s.stored,
            size_in_bytes = s.raw + s.chunks - 1 + 2
       FROM (SELECT count(*) AS chunks, sum(row_count) AS rows, sum(raw_bytes) AS raw, sum(octet_length(bytes)) AS stored
               FROM result_chunks WHERE execution_id = ?) s
      WHERE r.execution_id = ?`,
    [executionId, executionId],
  );
}

/** `bundle`: `npm run start:data` as deployed (precompiled, plain node); `tsx`: the TypeScript loader. */
type Runtime = 'tsx' | 'bundle';
const SCRIPTS: Record<Exclude<Runtime, 'bundle'>, string> = { tsx: 'apps/data-server/src/main.ts' };
let bundlePath: string | undefined;

async function startDataServer(databaseUrl: string, runtime: Runtime): Promise<ChildServer> {
  if (runtime === 'bundle') bundlePath ??= await bundleApp('apps/data-server/src/main.ts', 'data-server');
  return startChild(
    runtime === 'bundle' ? bundlePath! : SCRIPTS[runtime],
    {
      DATABASE_URL: databaseUrl,
      SIGHTLINE_DATA_TOKEN_SECRET: SECRET,
      SIGHTLINE_ENCRYPTION_KEY: ENCRYPTION_KEY_HEX,
      DATA_PORT: '0',
      API_PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    },
    /Data server: (http:\/\/\S+)/,
  );
}

const mbps = (bytes: number, seconds: number) => bytes / MB / seconds;

interface Env {
  setup: Setup;
  tokens: DataTokens;
  children: ChildServer[];
  log(line: string): void;
  keyOf(n: number): string;
}

const urlOf = (env: Env, server: ChildServer, n: number, query = '') => `${server.url}/results/${env.keyOf(n)}${query}`;
const auth = (env: Env, n: number) => ({
  Authorization: `Data ${env.tokens.sign({ organizationId: env.setup.organizationId, dataKey: env.keyOf(n), kind: 'result', format: 'json' })}`,
});

async function stopAll(children: ChildServer[]): Promise<void> {
  while (children.length) await children.pop()!.stop();
}

/** Data servers vs static file server, same bytes, interleaved rounds (round 0 warms up). */
async function measureThroughput(env: Env, dir: string, rows: number, rounds: number, runtimes: Runtime[]): Promise<BenchMetric[]> {
  const metrics: BenchMetric[] = [];
  const servers = new Map<string, ChildServer>();
  for (const runtime of runtimes) {
    const server = await startDataServer(env.setup.scratch.url, runtime);
    env.children.push(server);
    servers.set(runtime, server);
  }
  const first = servers.get(runtimes[0]!)!;
  const gzBytes = await downloadToFile(urlOf(env, first, rows), { ...auth(env, rows), ...GZIP }, join(dir, 'result.json.gz'));
  const rawBytes = await downloadToFile(urlOf(env, first, rows), { ...auth(env, rows), ...IDENTITY }, join(dir, 'result.json'));
  env.log(`response bodies: gzip ${(gzBytes / MB).toFixed(1)} MB, identity ${(rawBytes / MB).toFixed(1)} MB; data servers: ${runtimes.join(', ')}`);
  const statik = await startChild('bench/support/static-server.ts', { STATIC_DIR: dir }, /Static server: (http:\/\/\S+)/);
  env.children.push(statik);

  const modes = [
    { name: 'gzip passthrough', headers: GZIP, staticUrl: `${statik.url}/result.json.gz`, bytes: gzBytes },
    { name: 'identity (gunzip on the fly)', headers: IDENTITY, staticUrl: `${statik.url}/result.json`, bytes: rawBytes },
  ];
  const contenders = ['static', ...runtimes];
  const times = new Map(modes.map((m) => [m.name, new Map(contenders.map((c) => [c, [] as number[]]))]));
  // CPU seconds each server spent per download: steadier than wall time on a shared machine
  const cpu = new Map(modes.map((m) => [m.name, new Map(contenders.map((c) => [c, [] as number[]]))]));
  const serverOf = (who: string) => (who === 'static' ? statik : servers.get(who)!);
  for (let round = 0; round <= rounds; round++) {
    for (const mode of modes) {
      // rotate the order every round so no contender always runs first (cache, CPU boost)
      const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]!);
      for (const who of order) {
        const cpu0 = await serverOf(who).cpuSeconds();
        const d =
          who === 'static'
            ? await download(mode.staticUrl, mode.headers)
            : await download(urlOf(env, servers.get(who)!, rows), { ...auth(env, rows), ...mode.headers });
        const cpuUsed = (await serverOf(who).cpuSeconds()) - cpu0;
        if (d.bytes !== mode.bytes) throw new Error(`${who} ${mode.name}: ${d.bytes} bytes, expected ${mode.bytes}`);
        if (round > 0) times.get(mode.name)!.get(who)!.push(d.seconds);
        if (round > 0) cpu.get(mode.name)!.get(who)!.push(cpuUsed);
      }
    }
    if (round > 0)
      env.log(
        `round ${round}: ${modes.map((m) => `${m.name}: ${contenders.map((c) => `${c} ${times.get(m.name)!.get(c)!.at(-1)!.toFixed(3)} s`).join(', ')}`).join('; ')}`,
      );
  }
  for (const mode of modes) {
    const staticS = median(times.get(mode.name)!.get('static')!);
    metrics.push({
      metric: `${mode.name}: static file server, same bytes`,
      value: mbps(mode.bytes, staticS),
      unit: 'MB/s',
      note: `${staticS.toFixed(3)} s per download (median of ${rounds})`,
    });
    for (const runtime of runtimes) {
      const dataS = median(times.get(mode.name)!.get(runtime)!);
      const ratio = staticS / dataS;
      metrics.push({
        metric: `${mode.name}: data server (${runtime}), ${rows.toLocaleString()} rows`,
        value: mbps(mode.bytes, dataS),
        unit: 'MB/s',
        note: `${dataS.toFixed(3)} s per download`,
      });
      metrics.push({ metric: `${mode.name}: ratio data (${runtime}) / static`, value: ratio, unit: 'x', goal: '>= 0.8', pass: ratio >= 0.8 });
      const staticCpu = median(cpu.get(mode.name)!.get('static')!);
      const dataCpu = median(cpu.get(mode.name)!.get(runtime)!);
      metrics.push({
        metric: `${mode.name}: CPU per download, static / data (${runtime})`,
        value: staticCpu / Math.max(dataCpu, 0.01),
        unit: 'x',
        note: `static ${staticCpu.toFixed(2)} s, data ${dataCpu.toFixed(2)} s CPU (median)`,
      });
    }
  }
  // transcoding (informational): csv and ndjson of the same result
  for (const format of ['csv', 'ndjson']) {
    const d = await download(urlOf(env, first, rows, `?format=${format}`), { ...auth(env, rows), ...IDENTITY });
    metrics.push({
      metric: `${format} transcoding (${runtimes[0]}), ${rows.toLocaleString()} rows`,
      value: mbps(d.bytes, d.seconds),
      unit: 'MB/s',
      note: `${d.seconds.toFixed(2)} s, ${(d.bytes / MB).toFixed(1)} MB`,
    });
  }
  await stopAll(env.children);
  return metrics;
}

/**
 * Where the time goes: reading the stored chunks alone, in this process, through
 * `PgResultStore.readChunks` (knex, bytea as hex text) and, when `pg-copy-streams` is installed,
 * through `COPY … TO STDOUT (FORMAT binary)` (raw bytes, no hex).
 */
async function measureStoreRead(env: Env, executionId: string, rounds: number): Promise<BenchMetric[]> {
  const db = env.setup.scratch.db;
  const store = new PgResultStore(db);
  const { chunk_count: chunks, stored_bytes: storedBytes } = await db('results').where({ execution_id: executionId }).first();
  const viaStore: number[] = [];
  const viaCopy: number[] = [];
  let copyTo: ((sql: string) => unknown) | undefined;
  try {
    copyTo = ((await import('pg-copy-streams')) as unknown as { to: (sql: string) => unknown }).to;
  } catch {
    env.log('pg-copy-streams not installed: no COPY figure');
  }
  if (!/^[0-9a-f-]{36}$/.test(executionId)) throw new Error('unexpected execution id');
  for (let round = 0; round < Math.max(3, rounds); round++) {
    let started = performance.now();
    let bytes = 0;
    for await (const chunk of store.readChunks(executionId, 0, chunks - 1)) bytes += chunk.bytes.length;
    viaStore.push((performance.now() - started) / 1000);
    if (bytes !== Number(storedBytes)) throw new Error(`readChunks gave ${bytes} bytes, expected ${storedBytes}`);
    if (copyTo) {
      const conn = (await db.client.acquireConnection()) as { query(q: unknown): AsyncIterable<Buffer> };
      try {
        started = performance.now();
        // the execution id is checked above: COPY takes no bind parameters
        for await (const piece of conn.query(
          copyTo(`COPY (SELECT bytes FROM result_chunks WHERE execution_id = '${executionId}' ORDER BY seq) TO STDOUT (FORMAT binary)`),
        ))
          bytes += piece.length;
        viaCopy.push((performance.now() - started) / 1000);
      } finally {
        await db.client.releaseConnection(conn);
      }
    }
  }
  const metrics: BenchMetric[] = [
    {
      metric: 'store read alone: PgResultStore.readChunks',
      value: mbps(Number(storedBytes), median(viaStore)),
      unit: 'MB/s',
      note: `${median(viaStore).toFixed(3)} s for ${(Number(storedBytes) / MB).toFixed(1)} MB stored`,
    },
  ];
  if (viaCopy.length)
    metrics.push({
      metric: 'store read alone: COPY TO STDOUT (FORMAT binary)',
      value: mbps(Number(storedBytes), median(viaCopy)),
      unit: 'MB/s',
      note: `${median(viaCopy).toFixed(3)} s; what readChunks could reach`,
    });
  return metrics;
}

/** Peak RSS (VmHWM) of a fresh data-server process per runtime, size and format. */
async function measurePeakRss(env: Env, rows: number, sizes: number[], formats: string[], runtimes: Runtime[]): Promise<BenchMetric[]> {
  const metrics: BenchMetric[] = [];
  for (const runtime of runtimes) {
    for (const n of sizes) {
      const actual = n === rows ? rows : Math.max(1, Math.round(n / rows)) * rows;
      for (const format of formats) {
        const server = await startDataServer(env.setup.scratch.url, runtime);
        env.children.push(server);
        const idle = await server.rss();
        const headers = format === 'gzip' ? GZIP : IDENTITY;
        const query = format === 'gzip' || format === 'identity' ? '' : `?format=${format}`;
        const d = await download(urlOf(env, server, n, query), { ...auth(env, n), ...headers });
        const peak = await server.peakRss();
        const line = `${(d.bytes / MB).toFixed(0)} MB in ${d.seconds.toFixed(1)} s`;
        env.log(`${runtime}, ${actual.toLocaleString()} rows, ${format}: idle RSS ${(idle / MB).toFixed(0)} MB, peak ${(peak / MB).toFixed(0)} MB (${line})`);
        metrics.push({
          metric: `data-server peak RSS (${runtime}), ${actual.toLocaleString()} rows, ${format}`,
          value: peak / MB,
          unit: 'MB',
          goal: '< 150, flat',
          pass: peak / MB < 150,
          note: `idle ${(idle / MB).toFixed(0)} MB, +${((peak - idle) / MB).toFixed(0)} MB; ${line}`,
        });
        await stopAll(env.children);
      }
    }
  }
  return metrics;
}

/** A small cached result under 50 connections vs bare Node answering the same bytes from memory. */
async function measureSmall(env: Env, dir: string, rows: number, total: number, concurrency: number): Promise<BenchMetric[]> {
  const metrics: BenchMetric[] = [];
  const server = await startDataServer(env.setup.scratch.url, (process.env.BENCH_DATA_RUNTIME ?? 'bundle') as Runtime);
  env.children.push(server);
  const smallDir = join(dir, 'small');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(smallDir, { recursive: true });
  const headers = auth(env, rows);
  await downloadToFile(urlOf(env, server, rows), { ...headers, ...GZIP }, join(smallDir, 'small.json.gz'));
  const identityBytes = await downloadToFile(urlOf(env, server, rows), { ...headers, ...IDENTITY }, join(smallDir, 'small.json'));
  const bare = await startChild('bench/support/static-server.ts', { STATIC_DIR: smallDir, STATIC_MEMORY: '1' }, /Static server: (http:\/\/\S+)/);
  env.children.push(bare);
  for (const mode of [
    { name: 'identity', headers: IDENTITY, file: 'small.json' },
    { name: 'gzip', headers: GZIP, file: 'small.json.gz' },
  ]) {
    // warm-up, then interleaved rounds; the best round of each
    await loadTest(urlOf(env, server, rows), { headers: { ...headers, ...mode.headers }, total: 500, concurrency });
    const data: number[] = [];
    const plain: number[] = [];
    for (let round = 0; round < 3; round++) {
      data.push((await loadTest(urlOf(env, server, rows), { headers: { ...headers, ...mode.headers }, total: Math.ceil(total / 3), concurrency })).rps);
      plain.push((await loadTest(`${bare.url}/${mode.file}`, { headers: mode.headers, total: Math.ceil(total / 3), concurrency })).rps);
    }
    const d = Math.max(...data);
    const b = Math.max(...plain);
    env.log(
      `${rows}-row result, ${mode.name}, ${concurrency} connections: data server ${d.toFixed(0)} req/s, bare Node ${b.toFixed(0)} req/s (${identityBytes} bytes identity)`,
    );
    metrics.push({
      metric: `${rows}-row cached result (${mode.name}), ${concurrency} connections`,
      value: d,
      unit: 'req/s',
      note: `bare Node ${b.toFixed(0)} req/s`,
    });
    metrics.push({ metric: `${rows}-row cached result (${mode.name}): ratio data / bare Node`, value: d / b, unit: 'x', goal: '>= 0.3', pass: d / b >= 0.3 });
  }
  await stopAll(env.children);
  return metrics;
}

/** `count` simultaneous downloads of one big result on a fresh data server: peak and after RSS. */
async function measureConcurrent(env: Env, rows: number, count: number, formats: string[]): Promise<BenchMetric[]> {
  const metrics: BenchMetric[] = [];
  for (const format of formats) {
    const server = await startDataServer(env.setup.scratch.url, (process.env.BENCH_DATA_RUNTIME ?? 'bundle') as Runtime);
    env.children.push(server);
    const idle = await server.rss();
    const started = performance.now();
    const headers = { ...auth(env, rows), ...(format === 'gzip' ? GZIP : IDENTITY) };
    const { default: http } = await import('node:http');
    const manyAgent = new http.Agent({ keepAlive: false, maxSockets: count });
    let bytes = 0;
    await Promise.all(
      Array.from(
        { length: count },
        () =>
          new Promise<void>((resolve, reject) => {
            http
              .get(urlOf(env, server, rows), { headers, agent: manyAgent }, (res) => {
                if (res.statusCode !== 200) return reject(new Error(`answered ${res.statusCode}`));
                res.on('data', (b: Buffer) => {
                  bytes += b.length;
                });
                res.on('end', resolve);
                res.on('error', reject);
              })
              .on('error', reject);
          }),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    const peak = await server.peakRss();
    await new Promise((r) => setTimeout(r, 2000));
    const after = await server.rss();
    env.log(
      `${count} × ${rows.toLocaleString()} rows ${format}: ${(bytes / MB).toFixed(0)} MB in ${seconds.toFixed(1)} s; RSS idle ${(idle / MB).toFixed(0)} MB, peak ${(peak / MB).toFixed(0)} MB, 2 s after ${(after / MB).toFixed(0)} MB`,
    );
    metrics.push({
      metric: `${count} concurrent downloads (${format}), ${rows.toLocaleString()} rows: peak RSS`,
      value: peak / MB,
      unit: 'MB',
      goal: '< 250',
      pass: peak / MB < 250,
      note: `${(bytes / count / MB).toFixed(0)} MB each, ${seconds.toFixed(1)} s in all`,
    });
    metrics.push({
      metric: `${count} concurrent downloads (${format}): RSS 2 s after`,
      value: after / MB,
      unit: 'MB',
      goal: 'idle',
      pass: after - idle < 30 * MB,
      note: `idle ${(idle / MB).toFixed(0)} MB`,
    });
    await stopAll(env.children);
  }
  return metrics;
}

export const scenario: BenchScenario = {
  name: 'data-server',
  description: 'cached result: data server vs static file server throughput, and data-server peak RSS',
  async run({ log }) {
    const rows = envNumber('BENCH_ROWS', 1_000_000);
    const rounds = envNumber('BENCH_ROUNDS', 5);
    const rssSizes = envNumbers('BENCH_RSS_ROWS', [1_000_000, 10_000_000]);
    const rssFormats = (process.env.BENCH_RSS_FORMATS ?? 'gzip,identity,csv').split(',').map((f) => f.trim());
    const runtimes = (process.env.BENCH_RUNTIMES ?? 'tsx,bundle').split(',').map((r) => r.trim() as Runtime);
    const throughputRuntimes = (process.env.BENCH_THROUGHPUT_RUNTIMES ?? 'bundle').split(',').map((r) => r.trim() as Runtime);
    const parts = new Set(envList('BENCH_DATA_PARTS', ['throughput', 'store', 'small', 'concurrent', 'rss']));
    const smallRows = envNumber('BENCH_SMALL_ROWS', 10);
    const metrics: BenchMetric[] = [];
    const scratch = await createScratchDatabase('sightline_bench');
    const dir = await mkdtemp(join(tmpdir(), 'sightline-bench-'));
    const children: ChildServer[] = [];
    try {
      const services = createDomainServices({ db: scratch.db, encryptionKey: Buffer.from(ENCRYPTION_KEY_HEX, 'hex') });
      const { organization } = await services.organizations.create('Bench');
      const datasourceId = newId();
      await scratch
        .db('datasources')
        .insert({ id: datasourceId, organization_id: organization.id, name: 'bench', database_type: 'postgres', connection_mode: 'direct' });
      const setup: Setup = { scratch, organizationId: organization.id, datasourceId };
      const env: Env = { setup, tokens: new DataTokens(SECRET, 24 * 3600), children, log, keyOf: (n) => `${organization.id}/sql_query/bench-${n}` };

      let started = performance.now();
      const sourceExecution = await writeResult(setup, env.keyOf(rows), rows);
      const writeSeconds = (performance.now() - started) / 1000;
      const stored = await scratch.db('results').where({ execution_id: sourceExecution }).first();
      log(
        `wrote ${rows.toLocaleString()} rows in ${writeSeconds.toFixed(1)} s: ${stored.chunk_count} chunks, ${(Number(stored.size_in_bytes) / MB).toFixed(1)} MB JSON, ${(Number(stored.stored_bytes) / MB).toFixed(1)} MB gzip`,
      );
      metrics.push({ metric: `ResultWriter ${rows.toLocaleString()} rows (in-process, incl. column stats)`, value: rows / writeSeconds, unit: 'rows/s' });
      if (parts.has('small')) await writeResult(setup, env.keyOf(smallRows), smallRows);
      for (const n of parts.has('rss') ? rssSizes : []) {
        if (n === rows) continue;
        const copies = Math.max(1, Math.round(n / rows));
        started = performance.now();
        await cloneResult(setup, sourceExecution, env.keyOf(n), copies);
        if (copies * rows !== n) log(`note: ${n} rows rounded to ${copies * rows} (copies of the ${rows}-row chunks)`);
        log(`built the ${(copies * rows).toLocaleString()}-row result from chunk copies in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      }

      if (rounds > 0 && parts.has('throughput')) metrics.push(...(await measureThroughput(env, dir, rows, rounds, throughputRuntimes)));
      if (rounds > 0 && parts.has('store')) metrics.push(...(await measureStoreRead(env, sourceExecution, rounds)));
      if (parts.has('small'))
        metrics.push(...(await measureSmall(env, dir, smallRows, envNumber('BENCH_SMALL_REQUESTS', 6000), envNumber('BENCH_SMALL_CONCURRENCY', 50))));
      if (parts.has('concurrent'))
        metrics.push(
          ...(await measureConcurrent(env, rows, envNumber('BENCH_CONCURRENT_DOWNLOADS', 50), envList('BENCH_CONCURRENT_FORMATS', ['identity', 'gzip']))),
        );
      if (parts.has('rss')) metrics.push(...(await measurePeakRss(env, rows, rssSizes, rssFormats, runtimes)));
      return metrics;
    } finally {
      await stopAll(children);
      await scratch.drop();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
