// A private OpenSSH server for tests: Debian's /usr/sbin/sshd (package openssh-server, installed by
// .ci/run) on a free 127.0.0.1 port, with its own config, host key and authorized_keys in a temp dir.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const SSHD_PATH = '/usr/sbin/sshd';

export interface TestSshd {
  port: number;
  /** The login the server accepts keys for (the user running the tests). */
  user: string;
  /** `SHA256:…` of the current host key. */
  hostFingerprint: string;
  /** Replaces authorized_keys (read at each login). */
  authorize(...publicKeys: string[]): void;
  /** Starts the server (again) on the same port. */
  start(): Promise<void>;
  /** Kills the server and every connection it serves (SIGKILL): tunnels break mid-stream. */
  kill(): Promise<void>;
  /** A new host key (takes effect at the next start). */
  regenerateHostKey(): void;
  /** Kills the server and removes its directory. */
  stop(): Promise<void>;
}

/** A TCP port on 127.0.0.1 with nothing listening (bound once, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Pids of every descendant of `pid` (from /proc), deepest last. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // the process ended meanwhile
    }
  }
  const out: number[] = [];
  const visit = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      visit(c);
    }
  };
  visit(pid);
  return out;
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${stderr()}`);
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`sshd did not listen on ${port} within ${ms} ms: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a private sshd. Skips nothing: without /usr/sbin/sshd the test fails with a clear message. */
export async function startSshd(): Promise<TestSshd> {
  if (!existsSync(SSHD_PATH)) throw new Error(`${SSHD_PATH} is missing: install openssh-server (.ci/run does)`);
  // sshd running as root insists on its privilege separation directory.
  if (process.getuid?.() === 0 && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sl-sshd-'));
  const port = await freePort();
  const user = os.userInfo().username;
  const hostKey = path.join(dir, 'host_ed25519');
  const fingerprintOf = () => execFileSync('ssh-keygen', ['-l', '-f', `${hostKey}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  const regenerateHostKey = () => {
    rmSync(hostKey, { force: true });
    rmSync(`${hostKey}.pub`, { force: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  };
  regenerateHostKey();
  writeFileSync(path.join(dir, 'authorized_keys'), '', { mode: 0o600 });
  writeFileSync(
    path.join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'AllowTcpForwarding yes',
      'AllowAgentForwarding no',
      'X11Forwarding no',
      'PermitTTY no',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  let stderr = '';
  const server: TestSshd = {
    port,
    user,
    hostFingerprint: fingerprintOf(),
    authorize: (...keys) => writeFileSync(path.join(dir, 'authorized_keys'), keys.map((k) => `${k.trim()}\n`).join(''), { mode: 0o600 }),
    start: async () => {
      stderr = '';
      const c = spawn(SSHD_PATH, ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
      c.stderr!.on('data', (d: Buffer) => {
        if (stderr.length < 10_000) stderr += d.toString();
      });
      child = c;
      await waitForPort(port, c, () => stderr);
      server.hostFingerprint = fingerprintOf();
    },
    kill: async () => {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      for (const pid of [c.pid!, ...descendants(c.pid!)]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await exited;
    },
    regenerateHostKey,
    stop: async () => {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
