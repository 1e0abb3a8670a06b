// A throw-away MariaDB server of one test file: its own data directory (mariadb-install-db), a
// free port, no grant tables (root without a password) and, like every new server, EMPTY
// time-zone tables. The shared MariaDB of the machine is never touched.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { closedPort } from './support.js';

const execFileAsync = promisify(execFile);

export interface PrivateMariaDb {
  port: number;
  /** Runs SQL (or a dump piped into the `mysql` client) on it. */
  client(): Promise<mysql.Connection>;
  /** Loads the time-zone tables exactly as `.ci/run` does on the shared server. */
  loadTimeZoneTables(): Promise<void>;
  stop(): Promise<void>;
}

const asRoot = process.getuid?.() === 0;

/** Initialises and starts a private `mariadbd`. @throws when the server binaries are missing or it does not start */
export async function startPrivateMariaDb(): Promise<PrivateMariaDb> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sightline-mariadb-'));
  const datadir = path.join(dir, 'data');
  const user = asRoot ? ['--user=root'] : [];
  await execFileAsync('mariadb-install-db', ['--no-defaults', `--datadir=${datadir}`, '--skip-test-db', '--auth-root-authentication-method=normal', ...user], {
    timeout: 120_000,
  });
  const port = await closedPort();
  const child: ChildProcess = spawn(
    'mariadbd',
    [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--socket=${path.join(dir, 'mysqld.sock')}`,
      `--pid-file=${path.join(dir, 'mysqld.pid')}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--skip-grant-tables',
      '--skip-log-bin',
      '--innodb-buffer-pool-size=16M',
      `--log-error=${path.join(dir, 'error.log')}`,
      ...user,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const connect = () => mysql.createConnection({ host: '127.0.0.1', port, user: 'root' });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await (await connect()).end();
      break;
    } catch (err) {
      const log = (() => {
        try {
          return readFileSync(path.join(dir, 'error.log'), 'utf8');
        } catch {
          return '';
        }
      })();
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the private mariadbd did not start: ${String(err)}\n${log}`, { cause: err });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    port,
    client: connect,
    loadTimeZoneTables: async () => {
      // the command of .ci/run, pointed at this server
      await execFileAsync(
        'bash',
        ['-o', 'pipefail', '-c', `mysql_tzinfo_to_sql /usr/share/zoneinfo 2>/dev/null | mysql -h 127.0.0.1 -P ${port} -u root mysql`],
        { timeout: 120_000 },
      );
    },
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
