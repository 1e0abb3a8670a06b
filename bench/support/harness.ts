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
 * Bundles an app entry point (its workspace TypeScript compiled in, npm packages left external) to
 * `node_modules/.cache/sightline-bench/<name>.mjs`, so it runs on plain `node` as precompiled JS
 * would, without the tsx loader. Returns the bundle path.
 */
export async function bundleApp(entry: string, name: string): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = `node_modules/.cache/sightline-bench/${name}.mjs`;
  await build({
    entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, logLevel: 'warning',
    plugins: [{
      name: 'external-packages',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@sightline/') ? undefined : { path: args.path, external: true }));
      },
    }],
  });
  return outfile;
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
export async function startChild(script: string, env: Record<string, string>, urlPattern: RegExp): Promise<ChildServer> {
  // the same V8 flags as the npm start scripts
  const args = script.endsWith('.ts') ? ['--max-semi-space-size=4', '--import', 'tsx', script] : ['--max-semi-space-size=4', script];
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
        child.stdout!.resume();
        resolve(m[1]!);
      }
    };
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
    http.get(url, { headers, agent }, async (res) => {
      if (res.statusCode !== 200) return reject(new Error(`GET ${url} answered ${res.statusCode}`));
      const { createWriteStream } = await import('node:fs');
      const { pipeline } = await import('node:stream/promises');
      let bytes = 0;
      res.on('data', (b: Buffer) => {
        bytes += b.length;
      });
      pipeline(res, createWriteStream(file)).then(() => resolve(bytes), reject);
    }).on('error', reject);
  });
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
  const body = rows.map((r) => [r.scenario, r.metric, formatValue(r.value), r.unit, r.goal ?? '', r.pass === undefined ? '' : r.pass ? 'yes' : 'NO', r.note ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
