// R post-processing of SQL results (`r_query`): Rscript as a separate, limited process.
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, statSync, accessSync, constants as fsConstants } from 'node:fs';
import { chown, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { QueryError, type DataType, type ResultColumn } from '../drivers/driver.types.js';
import { toResultCell } from '../results/result-writer.js';
import { R_WRAPPER } from './r-wrapper.js';

/**
 * How the R process is isolated from the worker:
 * - `separate-user` (worker runs as root): own network, PID and mount namespaces (no network, no view
 *   of other processes) and the unprivileged user `nobody` (65534), so nothing of the worker's is readable;
 * - `user-namespace` (unprivileged worker): `unshare -rn` with own PID namespace: no network, no view
 *   of other processes, but files the worker's user can read stay readable;
 * - `none`: neither is allowed on this machine; R runs with the worker's network and user.
 */
export type RNetworkIsolation = 'separate-user' | 'user-namespace' | 'none';

/** The unprivileged user R runs as under `separate-user` isolation (Debian's `nobody`/`nogroup`). */
const NOBODY = 65_534;
const NAMESPACES = ['-n', '-p', '-f', '--mount-proc'];

export interface RRuntimeOptions {
  /** Path of `Rscript`; default: `Rscript` found on PATH. */
  rscriptPath?: string;
  /** Wall-clock limit of one R run (ms). */
  timeoutMs: number;
  /** Address-space limit of the R process (bytes). */
  memoryLimitBytes: number;
}

/** The SQL result handed to R. */
export interface RInput {
  columns: ResultColumn[];
  /** Positional rows in batches; read once. */
  rows: AsyncIterable<unknown[][]>;
  /** Most rows passed to R; more are not read (and `inputRowLimitReached` says so). */
  rowLimit: number;
}

/** What R returned, as result columns and rows (streamed from R's output file). */
export interface ROutput {
  columns: ResultColumn[];
  inputRowLimitReached: boolean;
  /** Batches of positional rows; read once; the working directory is removed after it ends (or `dispose`). */
  rows(): AsyncIterable<unknown[][]>;
  /** Removes the working directory (idempotent). */
  dispose(): Promise<void>;
}

const R_TYPES: ReadonlySet<string> = new Set(['Integer', 'Float', 'Boolean', 'String', 'Date', 'DateTime']);
const BATCH = 1_000;
/** Stderr kept for diagnostics when R dies without an error message. */
const STDERR_LIMIT = 8_192;

/** Finds an executable on PATH. */
function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The strongest network isolation this machine allows for a child process. */
function detectIsolation(): RNetworkIsolation {
  if (process.platform !== 'linux' || !which('unshare')) return 'none';
  const works = (command: string[]) => spawnSync(command[0]!, command.slice(1), { stdio: 'ignore', timeout: 5_000 }).status === 0;
  if (
    process.getuid?.() === 0 &&
    which('setpriv') &&
    works(['unshare', ...NAMESPACES, '--', 'setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', 'true'])
  ) {
    return 'separate-user';
  }
  if (works(['unshare', '-r', ...NAMESPACES, 'true'])) return 'user-namespace';
  return 'none';
}

/** A value as the text R reads (`null` handled by the mask column). */
function cellText(value: unknown): string {
  const cell = toResultCell(value);
  return cell === null ? '' : String(cell);
}

/** One CSV field, always quoted (`"` doubled). */
const quote = (text: string) => `"${text.replace(/"/g, '""')}"`;

/** Writes `text`, waiting when the file stream is full (bounded memory). */
async function put(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/**
 * A streaming reader of the CSV R writes (every field quoted or empty, `"` doubled, newlines
 * inside quotes kept): yields records of raw field texts.
 */
async function* readCsv(file: string): AsyncGenerator<string[]> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 16 });
  let field = '';
  let record: string[] = [];
  let inQuotes = false;
  let quotePending = false; // saw `"` inside quotes: either the closing quote or the first of `""`
  let fieldStarted = false;
  for await (const chunk of stream as AsyncIterable<string>) {
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i]!;
      if (inQuotes) {
        if (quotePending) {
          quotePending = false;
          if (ch === '"') {
            field += '"';
            continue;
          }
          inQuotes = false;
          // fall through: `ch` follows the closing quote
        } else if (ch === '"') {
          quotePending = true;
          continue;
        } else {
          field += ch;
          continue;
        }
      }
      if (ch === '"') {
        inQuotes = true;
        fieldStarted = true;
      } else if (ch === ',') {
        record.push(field);
        field = '';
        fieldStarted = false;
      } else if (ch === '\n') {
        record.push(field);
        yield record;
        record = [];
        field = '';
        fieldStarted = false;
      } else if (ch !== '\r') {
        field += ch;
        fieldStarted = true;
      }
    }
  }
  if (record.length || fieldStarted || field) {
    record.push(field);
    yield record;
  }
}

/** A cell of R's output as a result value. */
function parseCell(text: string, type: DataType): unknown {
  switch (type) {
    case 'Integer':
      return Number.parseInt(text, 10);
    case 'Float': {
      const n = Number(text);
      return Number.isFinite(n) ? n : text;
    }
    case 'Boolean':
      return text === 'true';
    default:
      return text;
  }
}

/**
 * Runs `r_query` code on SQL results with `Rscript`: one process per run, in a temporary working
 * directory (removed afterwards), with a wall-clock limit, an address-space limit (`ulimit -v`,
 * also a CPU-time limit), isolated from the network and the worker as `isolation` says, and an
 * environment holding nothing of the worker's (no database URLs or keys).
 */
export class RRuntime {
  /** The Rscript used, or undefined when this machine has no R. */
  readonly rscriptPath: string | undefined;
  private detectedIsolation: RNetworkIsolation | undefined;

  constructor(private readonly options: RRuntimeOptions) {
    const configured = options.rscriptPath;
    this.rscriptPath = configured ? (existsSync(configured) ? configured : undefined) : which('Rscript');
  }

  /** How R is kept off the network on this machine (probed once, on first use). */
  get isolation(): RNetworkIsolation {
    this.detectedIsolation ??= this.rscriptPath ? detectIsolation() : 'none';
    return this.detectedIsolation;
  }

  /** True when R post-processing can run here. */
  get available(): boolean {
    return this.rscriptPath !== undefined;
  }

  /**
   * Passes `input` to R as the data frame `data`, runs `script`, and returns the data frame it ends
   * with. `signal` stops the run (the process group is killed).
   * @throws QueryError kind `query_error` (R error, bad result, memory), `timed_out`, `cancelled`
   */
  async run(script: string, input: RInput, signal: AbortSignal): Promise<ROutput> {
    if (!this.rscriptPath) throw new QueryError('query_error', 'R post-processing (r_query) is not available: this worker has no R runtime');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sightline-r-'));
    let disposed = false;
    const dispose = async () => {
      if (disposed) return;
      disposed = true;
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    };
    try {
      const inputRowLimitReached = await this.writeInput(dir, script, input, signal);
      await this.execute(dir, signal);
      const columns = await this.readColumns(dir);
      const file = path.join(dir, 'result.csv');
      return {
        columns,
        inputRowLimitReached,
        rows: () => this.readRows(file, columns, dispose),
        dispose,
      };
    } catch (err) {
      await dispose();
      throw err;
    }
  }

  private async writeInput(dir: string, script: string, input: RInput, signal: AbortSignal): Promise<boolean> {
    await writeFile(path.join(dir, 'run.R'), R_WRAPPER, 'utf8');
    await writeFile(path.join(dir, 'query.R'), script, 'utf8');
    await writeFile(path.join(dir, 'columns.csv'), input.columns.map((c) => `${quote(c.name)},${quote(c.dataType)}\n`).join(''), 'utf8');
    const out = createWriteStream(path.join(dir, 'data.csv'), { encoding: 'utf8' });
    const closed = new Promise<void>((resolve, reject) => {
      out.once('close', resolve);
      out.once('error', reject);
    });
    let rows = 0;
    let limitReached = false;
    try {
      for await (const batch of input.rows) {
        if (signal.aborted) throw new QueryError('cancelled', 'Cancelled');
        let text = '';
        for (const row of batch) {
          if (rows >= input.rowLimit) {
            limitReached = true;
            break;
          }
          rows++;
          if (!input.columns.length) continue;
          text += input.columns.map((_, i) => (row[i] === null || row[i] === undefined ? ',"1"' : `${quote(cellText(row[i]))},""`)).join(',') + '\n';
        }
        if (text) await put(out, text);
        if (limitReached) break;
      }
    } finally {
      out.end();
      await closed;
    }
    return limitReached;
  }

  /** Runs Rscript on the prepared directory. */
  private async execute(dir: string, signal: AbortSignal): Promise<void> {
    const memoryKb = Math.max(65_536, Math.floor(this.options.memoryLimitBytes / 1024));
    const cpuSeconds = Math.max(1, Math.ceil(this.options.timeoutMs / 1000) + 5);
    const isolation =
      this.isolation === 'separate-user'
        ? ['unshare', ...NAMESPACES, '--', 'setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--']
        : this.isolation === 'user-namespace'
          ? ['unshare', '-r', ...NAMESPACES, '--']
          : [];
    // R (as nobody) writes its results into the working directory.
    if (this.isolation === 'separate-user') await chown(dir, NOBODY, NOBODY);
    // The limits are set by a shell right before exec: they hold for R and everything it starts.
    const args = [
      '-c',
      'ulimit -v "$1" && ulimit -t "$2" && shift 2 && exec "$@"',
      'sh',
      String(memoryKb),
      String(cpuSeconds),
      ...isolation,
      this.rscriptPath!,
      '--vanilla',
      'run.R',
    ];
    const child = spawn('/bin/sh', args, {
      cwd: dir,
      detached: true, // its own process group: a timeout or cancel kills R and anything it started
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: dir, TMPDIR: dir, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', R_LIBS_USER: path.join(dir, 'lib') },
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      if (stderr.length < STDERR_LIMIT) stderr += d;
    });
    let stopped: 'timed_out' | 'cancelled' | undefined;
    const kill = (reason: 'timed_out' | 'cancelled') => {
      if (stopped || child.exitCode !== null) return;
      stopped = reason;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => kill('timed_out'), this.options.timeoutMs);
    const onAbort = () => kill('cancelled');
    signal.addEventListener('abort', onAbort);
    if (signal.aborted) onAbort();
    const [code, exitSignal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    if (stopped === 'cancelled') throw new QueryError('cancelled', 'Cancelled');
    if (stopped === 'timed_out') throw new QueryError('timed_out', `R post-processing did not finish within ${Math.round(this.options.timeoutMs / 1000)} s`);
    if (code === 0) return;
    const errorText = await readFile(path.join(dir, 'error.txt'), 'utf8').catch(() => '');
    if (code === 3 && errorText.trim()) throw new QueryError('query_error', `R error: ${errorText.trim()}`);
    if (exitSignal === 'SIGXCPU' || exitSignal === 'SIGKILL')
      throw new QueryError('query_error', `R post-processing was stopped by its resource limits (${exitSignal})`);
    const detail = lastLines(stderr) || (exitSignal ? `killed by ${exitSignal}` : `exit status ${code}`);
    throw new QueryError('query_error', `R post-processing failed: ${detail}`);
  }

  private async readColumns(dir: string): Promise<ResultColumn[]> {
    const file = path.join(dir, 'result_columns.csv');
    if (!(await stat(file).catch(() => undefined))) throw new QueryError('query_error', 'R post-processing ended without a result');
    const columns: ResultColumn[] = [];
    // (a zero-column result has an empty file)
    for await (const [name, type] of readCsv(file)) {
      const dataType = (type && R_TYPES.has(type) ? type : 'String') as DataType;
      columns.push({ name: name ?? '', dbType: `R ${dataType}`, dataType });
    }
    return columns;
  }

  private async *readRows(file: string, columns: ResultColumn[], dispose: () => Promise<void>): AsyncGenerator<unknown[][]> {
    try {
      let batch: unknown[][] = [];
      for await (const record of readCsv(file)) {
        const row = new Array<unknown>(columns.length);
        for (let i = 0; i < columns.length; i++) {
          row[i] = record[2 * i + 1] === '1' ? null : parseCell(record[2 * i] ?? '', columns[i]!.dataType);
        }
        batch.push(row);
        if (batch.length >= BATCH) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length) yield batch;
    } finally {
      await dispose();
    }
  }
}

/** The last few lines of R's stderr (what R printed before dying). */
function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' ').slice(0, 500);
}
