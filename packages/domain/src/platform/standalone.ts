import { ConfigError, parseConfig, type ResolvedConfig } from '../config/config.js';
import type { Logger } from '../logger.js';

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

/** On the first SIGINT/SIGTERM, runs `steps` in order (each failure logged), then exits 0. */
export function stopOnSignals(logger: Logger, steps: Array<() => Promise<unknown>>): void {
  const shutdown = async () => {
    logger.info('shutting down');
    for (const step of steps) await step().catch((err: unknown) => logger.error({ err }, 'shutdown step failed'));
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

/** Runs a composition root; a start failure prints the config problems (or the error) and exits 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  });
}
