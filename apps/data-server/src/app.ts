import Koa from 'koa';
import { Router } from '@koa/router';
import type { Clock, DataTokens, Knex, Logger, ResultStore } from '@sightline/domain';
import { PgExportFileStore, UnavailableError, pingDatabase, systemClock } from '@sightline/domain';
import { errorHandler, requestContext, routingErrors, sendJson, type RequestState } from '@sightline/http';
import { resultRoutes } from './results/result.router.js';
import { exportFileRoutes } from './exports/export-file.router.js';
import { cors } from './cors.js';

export interface DataAppDeps {
  db: Knex;
  logger: Logger;
  /** Where results and schema documents are read from. */
  resultStore: ResultStore;
  /** Verifies `Authorization: Data <token>` (stateless: no database lookup). */
  tokens: DataTokens;
  /** Export files (default: the PostgreSQL chunk table of `db`). */
  exportFiles?: PgExportFileStore;
  clock?: Clock;
  /** Origins whose pages may read results from a browser (the API server's, for the shared dashboard page). */
  corsOrigins?: () => readonly string[];
}

/**
 * The data server: streams stored results and schemas to holders of a data access token
 * (`Authorization: Data <token>`). It never runs a datasource query.
 */
export function createDataApp(deps: DataAppDeps): Koa<RequestState> {
  const app = new Koa<RequestState>();
  app.proxy = true;
  app.silent = true;
  const router = new Router<RequestState>();

  router.get('/health', async (ctx) => {
    try {
      await pingDatabase(deps.db);
    } catch (err) {
      throw new UnavailableError('The database is not reachable', { cause: err });
    }
    sendJson(ctx, 200, { status: 'ok', service: 'data-server' });
  });
  const results = resultRoutes({ resultStore: deps.resultStore, tokens: deps.tokens });
  const exportFiles = exportFileRoutes({
    exportFiles: deps.exportFiles ?? new PgExportFileStore(deps.db),
    tokens: deps.tokens,
    clock: deps.clock ?? systemClock,
  });

  // Errors after the headers went out (a failed chunk read, a client that hung up) can only end
  // the response; they are logged here.
  app.on('error', (err: Error & { code?: string }, ctx?: Koa.Context) => {
    const log = (ctx?.state.log as Logger | undefined) ?? deps.logger;
    if (err.code === 'ERR_STREAM_PREMATURE_CLOSE' || err.code === 'ECONNRESET') log.debug({ err }, 'client closed the response early');
    else log.error({ err }, 'response stream failed');
  });
  app.use(requestContext(deps.logger));
  app.use(errorHandler());
  app.use(routingErrors());
  if (deps.corsOrigins) app.use(cors(deps.corsOrigins));
  app.use(router.routes());
  app.use(router.allowedMethods());
  app.use(results.routes());
  app.use(results.allowedMethods());
  app.use(exportFiles.routes());
  app.use(exportFiles.allowedMethods());
  return app;
}
