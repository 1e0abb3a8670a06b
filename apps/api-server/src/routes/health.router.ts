import type { Knex } from 'knex';
import { UnavailableError, pingDatabase } from '@sightline/domain';
import { sendJson } from '@sightline/http';
import type { Router } from '@koa/router';

/** `GET /health`: 200 `{status:"ok"}` when the database answers, 503 otherwise. No authentication. */
export function registerHealthRoute(router: Router<any>, db: Knex, service: string): void {
  router.get('/health', async (ctx) => {
    try {
      await pingDatabase(db);
    } catch (err) {
      throw new UnavailableError('The database is not reachable', { cause: err });
    }
    sendJson(ctx, 200, { status: 'ok', service });
  });
}
