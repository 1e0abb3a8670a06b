import type { DomainServices, Knex, Logger, PgBoss } from '@sightline/domain';

export interface WorkerDeps {
  db: Knex;
  boss: PgBoss;
  logger: Logger;
  services: DomainServices;
  /** Jobs run at once in this process. */
  concurrency: number;
}

/** A running worker: the pg-boss consumers of this process. */
export interface Worker {
  stop(): Promise<void>;
}

/** Registers every job consumer of Sightline on `boss`. */
export async function startWorker(deps: WorkerDeps): Promise<Worker> {
  deps.logger.info({ concurrency: deps.concurrency }, 'worker started');
  return {
    stop: async () => {
      deps.logger.info('worker stopping');
    },
  };
}
