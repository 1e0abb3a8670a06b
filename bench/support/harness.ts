// Shared pieces of the benchmark scenarios: the scenario shape, a scratch database, child
// processes with peak-RSS sampling, HTTP downloads, statistics and the summary table.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import pg from 'pg';
import { createDb, migrateLatest, type Knex } from '@sightline/domain';

/** One figure of a scenario. `goal` is a human-readable target; `pass` says whether it was met. */
export interface BenchMetric {
  metric: string;
  value: number;
  unit: string;
  goal?: string;
  pass?: boolean;
  note?: string;
}

interface BenchContext {
  log(line: string): void;
}

/** A benchmark scenario: a `bench/<name>.bench.ts` file exports one as `scenario`. */
export interface BenchScenario {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<BenchMetric[]>;
}

/** Integer from the environment, with a default (accepts `1e6`, `1_000_000`). */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw.replaceAll('_', ''));
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got "${raw}"`);
  return value;
}

/** Comma list of integers from the environment. */
export function envNumbers(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (!raw) return fallback;
  return raw.split(',').map((p) => {
    const v = Number(p.trim().replaceAll('_', ''));
    if (!Number.isFinite(v)) throw new Error(`${name}: "${p}" is not a number`);
    return v;
  });
}

export interface ScratchDatabase {
  url: string;
  db: Knex;
  drop(): Promise<void>;
}

/** A fresh, migrated database on the local PostgreSQL (or the server of `DATABASE_URL`). */
export async function createScratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const admin = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  admin.pathname = '/postgres';
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const u = new URL(admin);
  u.pathname = `/${name}`;
  const url = u.toString();
  const db = createDb(url, { applicationName: 'sightline-bench', poolMax: 4 });
  await migrateLatest(db);
  return {
    url,
    db,
    drop: async () => {
      await db.destroy();
      const c = new pg.Client({ connectionString: admin.toString() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * The precompiled bundle of an app entry point (`dist/<name>.mjs`, built by scripts/build-apps.mjs
 * as `npm install` and `npm start` do), so it runs on plain `node` without the tsx loader.
 */
export async function bundleApp(entry: string, name: string): Promise<string> {
  const buildScript: string = '../../scripts/build-apps.mjs';
  const { APPS, buildApps } = (await import(buildScript)) as { APPS: Record<string, string>; buildApps(apps: string[]): Promise<string[]> };
  const app = Object.keys(APPS).find((a) => APPS[a] === entry) ?? name;
  const [outfile] = await buildApps([app]);
  return outfile!;
}

/** A child process that printed `pattern` (its listening URL) on stdout. */
export interface ChildServer {
  url: string;
  pid: number;
  process: ChildProcess;
  /** Peak resident set size so far (`VmHWM`), in bytes. */
  peakRss(): Promise<number>;
  /** Current resident set size (`VmRSS`), in bytes. */
  rss(): Promise<number>;
  /** Everything the child printed on stdout so far (first 100 kB). */
  output(): string;
  /** CPU time the process used so far (user + system, from `/proc/<pid>/stat`), in seconds. */
  cpuSeconds(): Promise<number>;
  stop(): Promise<void>;
}

async function procStatus(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/**
 * Starts `node [--import tsx] <script>` with `env` and waits for a line matching `urlPattern`
 * (first capture = the URL). Node runs the script directly (not through the `tsx` CLI wrapper)
 * so the pid is the server's own and `/proc/<pid>/status` measures it.
 */
export async function startChild(script: string, env: Record<string, string>, urlPattern: RegExp, scriptArgs: string[] = []): Promise<ChildServer> {
  // the same V8 flags as the npm start scripts
  // BENCH_CPU_PROF=<dir>: every child writes a V8 CPU profile there on exit (see bench/support/profile-top.ts)
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const args = script.endsWith('.ts')
    ? ['--max-semi-space-size=4', ...profile, '--import', 'tsx', script, ...scriptArgs]
    : ['--max-semi-space-size=4', ...profile, script, ...scriptArgs];
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => {
    stderr += b.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = urlPattern.exec(out);
      if (m) {
        child.stdout!.off('data', onData);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', (b: Buffer) => {
      if (stdout.length < 100_000) stdout += b.toString();
    });
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before listening:\n${stderr}`)));
    setTimeout(() => reject(new Error(`${script} did not start within 60 s:\n${stderr}`)), 60_000).unref();
  });
  const pid = child.pid!;
  return {
    url,
    pid,
    process: child,
    peakRss: () => procStatus(pid, 'VmHWM'),
    rss: () => procStatus(pid, 'VmRSS'),
    output: () => stdout,
    cpuSeconds: async () => {
      // fields 14 and 15 (utime, stime) after the command name in parentheses; clock ticks of 1/100 s
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
      }),
  };
}

export interface Download {
  status: number;
  bytes: number;
  seconds: number;
  headers: http.IncomingHttpHeaders;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/** GETs `url`, discarding the body (counts bytes only: the client must not be the bottleneck). */
export function download(url: string, headers: Record<string, string> = {}): Promise<Download> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.get(url, { headers, agent }, (res) => {
      let bytes = 0;
      res.on('data', (b: Buffer) => {
        bytes += b.length;
      });
      res.on('error', reject);
      res.on('end', () => {
        const seconds = (performance.now() - started) / 1000;
        if (res.statusCode !== 200) return reject(new Error(`GET ${url} answered ${res.statusCode}`));
        resolve({ status: res.statusCode, bytes, seconds, headers: res.headers });
      });
    });
    req.on('error', reject);
  });
}

/** Downloads `url` into a file (the static server's copy of the same bytes). */
export function downloadToFile(url: string, headers: Record<string, string>, file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent }, async (res) => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${url} answered ${res.statusCode}`));
        const { createWriteStream } = await import('node:fs');
        const { pipeline } = await import('node:stream/promises');
        let bytes = 0;
        res.on('data', (b: Buffer) => {
          bytes += b.length;
        });
        pipeline(res, createWriteStream(file)).then(() => resolve(bytes), reject);
      })
      .on('error', reject);
  });
}

export interface LoadResult {
  rps: number;
  p50: number;
  p95: number;
}

/**
 * Sends `total` requests to `url`, `concurrency` at a time over keep-alive connections, and
 * measures throughput and latency. Each answer must have status 200; bodies are discarded.
 */
export async function loadTest(
  url: string,
  options: { method?: string; body?: string; headers?: Record<string, string>; total: number; concurrency: number },
): Promise<LoadResult> {
  const loadAgent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const headers = {
    ...(options.body !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(options.body)) } : {}),
    ...options.headers,
  };
  const one = () =>
    new Promise<number>((resolve, reject) => {
      const started = performance.now();
      const req = http.request(url, { method: options.method ?? 'GET', agent: loadAgent, headers }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`${url} answered ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(options.body);
    });
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < options.total) {
          next++;
          latencies.push(await one());
        }
      }),
    );
  } finally {
    loadAgent.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { rps: options.total / seconds, p50: latencies[Math.floor(latencies.length * 0.5)]!, p95: latencies[Math.floor(latencies.length * 0.95)]! };
}

/** Comma list of names from the environment (`BENCH_PARTS=small,concurrent`); empty → all. */
export function envList(name: string, fallback: string[]): string[] {
  const raw = process.env[name];
  if (!raw) return fallback;
  return raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const MB = 1024 * 1024;

function formatValue(v: number): string {
  if (Number.isNaN(v)) return '-';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(3);
}

/** The summary table printed at the end of a run. */
export function formatTable(rows: Array<BenchMetric & { scenario: string }>): string {
  const header = ['scenario', 'metric', 'value', 'unit', 'goal', 'ok', 'note'];
  const body = rows.map((r) => [
    r.scenario,
    r.metric,
    formatValue(r.value),
    r.unit,
    r.goal ?? '',
    r.pass === undefined ? '' : r.pass ? 'yes' : 'NO',
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
