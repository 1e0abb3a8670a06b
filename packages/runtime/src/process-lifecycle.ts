import { ConfigError, parseConfig, type Logger, type ResolvedConfig } from '@sightline/domain';

/**
 * The configuration of an app started on its own (`npm run start:api|start:data|start:worker`):
 * those need an external PostgreSQL (parseConfig then also requires both keys).
 * @throws ConfigError
 */
export function standaloneConfig(appName: string, env: Record<string, string | undefined> = process.env): ResolvedConfig {
  const config = parseConfig(env);
  if (!config.databaseUrl) {
    throw new ConfigError([`DATABASE_URL is required to run the ${appName} on its own (use \`npm start\` for the all-in-one mode)`]);
  }
  return config as ResolvedConfig;
}

/** A shutdown step; `remainingMs()` is the time left until the process's shutdown deadline. */
export type ShutdownStep = (remainingMs: () => number) => Promise<unknown>;

/** Time allowed for the steps after the deadline (closing pools, settling handed-back work). */
const SHUTDOWN_MARGIN_MS = 10_000;

/**
 * The one shutdown path of a process: on the first SIGINT/SIGTERM, runs `steps` in order (each
 * failure logged) with a deadline `timeoutMs` from the signal, then exits 0. If the steps have
 * not finished 10 s after the deadline, logs it and exits 1. Later signals are ignored (logged).
 */
export function stopOnSignals(logger: Logger, steps: ShutdownStep[], options: { timeoutMs?: number } = {}): void {
  const timeoutMs = options.timeoutMs ?? 30_000;
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'already shutting down');
      return;
    }
    stopping = true;
    const deadline = Date.now() + timeoutMs;
    const remainingMs = () => Math.max(0, deadline - Date.now());
    logger.info({ signal, timeout_ms: timeoutMs }, 'shutting down');
    setTimeout(() => {
      logger.error({ timeout_ms: timeoutMs }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, timeoutMs + SHUTDOWN_MARGIN_MS).unref();
    for (const step of steps) await step(remainingMs).catch((err: unknown) => logger.error({ err }, 'shutdown step failed'));
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

/** Runs a composition root; a start failure prints the config problems (or the error) and exits 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  });
}
