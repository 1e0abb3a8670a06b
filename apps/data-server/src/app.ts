import Koa from 'koa';
import { Router } from '@koa/router';
import type { Knex, Logger } from '@sightline/domain';
import { UnavailableError, pingDatabase } from '@sightline/domain';
import { errorHandler, requestContext, routingErrors, sendJson, type RequestState } from '@sightline/jsonapi';

export interface DataAppDeps {
  db: Knex;
  logger: Logger;
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

  app.use(requestContext(deps.logger));
  app.use(errorHandler());
  app.use(routingErrors());
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
