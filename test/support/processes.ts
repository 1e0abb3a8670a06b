import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { TEST_ENCRYPTION_KEY } from './context.js';

/** An app started as its own process with the README's command (`npm run start:<app>`). */
export interface AppProcess {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Base URL of a server (API or data server), from its start line. */
  url: string | undefined;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const READY: Record<'worker' | 'api' | 'data', RegExp> = {
  worker: /^Worker ready$/m,
  api: /^API server: (\S+)$/m,
  data: /^Data server: (\S+)$/m,
};

const started = new Set<ChildProcess>();

/**
 * Starts `npm run start:<app>` (its script, run by this node) against `databaseUrl` and waits until
 * it says it is ready. Ports default to 0 (any free port).
 * @throws Error with the process's output when it exits or is not ready within 90 s
 */
export async function startAppProcess(app: 'worker' | 'api' | 'data', databaseUrl: string, env: Record<string, string> = {}): Promise<AppProcess> {
  const script = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts[`start:${app}`]!;
  const [program, ...args] = script.split(/\s+/);
  if (program !== 'node') throw new Error(`start:${app} does not start with node: ${script}`);
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      SIGHTLINE_DATA_TOKEN_SECRET: 'test-data-token-secret-at-least-32-chars',
      SIGHTLINE_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY.toString('hex'),
      LOG_LEVEL: 'info',
      API_PORT: '0',
      DATA_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      started.delete(child);
      resolve({ code, signal });
    }),
  );
  const deadline = Date.now() + 90_000;
  let match: RegExpMatchArray | null;
  while (!(match = out.match(READY[app]))) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${app} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${app} not ready within 90 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    output: () => out,
    url: match[1],
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Kills every app process a test started and has not stopped (afterAll). */
export async function killAppProcesses(): Promise<void> {
  await Promise.all(
    [...started].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** The JSON log lines a process printed (pino), parsed; other lines are returned under `text`. */
export function logLines(output: string): { json: Array<Record<string, unknown>>; text: string[] } {
  const json: Array<Record<string, unknown>> = [];
  const text: string[] = [];
  for (const line of output.split('\n')) {
    if (!line.trim()) continue;
    try {
      const parsed = JSON.parse(line) as unknown;
      if (parsed && typeof parsed === 'object') json.push(parsed as Record<string, unknown>);
      else text.push(line);
    } catch {
      text.push(line);
    }
  }
  return { json, text };
}
