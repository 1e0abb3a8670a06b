import type { Router } from '@koa/router';
import { NotFoundError } from '@sightline/domain';

/**
 * The shape every id in a path can have: resource ids (`8qxn-y9ex-65vd`), UUIDs (executions,
 * export jobs), base64url secrets and agent ids (43 characters), invitation tokens. Anything else
 * (NUL and other control characters, quotes, dots, slashes, non-ASCII, over 128 characters) names
 * nothing, and must not reach a query, where PostgreSQL would reject it ("invalid byte sequence").
 */
const ID_SHAPE = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Checks every path parameter of every route of `routers` in one place: each parameter name any
 * route declares (`:id`, `:token`, …) gets a param middleware that answers 404 for a value that
 * cannot be an id, before the route's handler (and its body parsing) runs. Call it after all
 * routes are registered; routes added later to the same router get the checks too.
 */
export function checkPathIds(...routers: Router<any>[]): void {
  for (const router of routers) {
    const names = new Set(router.stack.flatMap((layer) => layer.paramNames.map((p) => String(p.name))));
    for (const name of names) {
      router.param(name, (value, _ctx, next) => {
        if (typeof value !== 'string' || !ID_SHAPE.test(value)) {
          throw new NotFoundError('Not found: no resource has an id of this form', { source: { parameter: name } });
        }
        return next();
      });
    }
  }
}
