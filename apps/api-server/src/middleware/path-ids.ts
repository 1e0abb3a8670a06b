import type { Router } from '@koa/router';
import { NotFoundError } from '@sightline/domain';

/**
 * The shape every id in a path can have: resource ids (`8qxn-y9ex-65vd`), UUIDs (executions,
 * export jobs), base64url secrets and agent ids (43 characters), invitation tokens. Anything else
 * (NUL and other control characters, quotes, dots, slashes, non-ASCII, over 128 characters) names
 * nothing, and must not reach a query, where PostgreSQL would reject it ("invalid byte sequence").
 */
const ID_SHAPE = /^[A-Za-z0-9_-]{1,128}$/;

/** Path parameters that are not ids (checked by their own route): `:file` of the shared page's assets. */
const NOT_ID_PARAMETERS: ReadonlySet<string> = new Set(['file']);

/**
 * Checks every id path parameter of every route of `routers` in one place: each parameter name any
 * route declares (`:id`, `:token`, …; all but `NOT_ID_PARAMETERS`) gets a param middleware that
 * answers 404 for a value that cannot be an id, before the route's handler (and its body parsing)
 * runs. Call it after all routes are registered; later routes with the same names are checked too.
 */
export function checkPathIds(...routers: Router<any>[]): void {
  for (const router of routers) {
    const names = new Set(router.stack.flatMap((layer) => layer.paramNames.map((p) => String(p.name))));
    for (const name of names) {
      if (NOT_ID_PARAMETERS.has(name)) continue;
      router.param(name, (value, _ctx, next) => {
        if (typeof value !== 'string' || !ID_SHAPE.test(value)) {
          throw new NotFoundError('Not found: no resource has an id of this form', { source: { parameter: name } });
        }
        return next();
      });
    }
  }
}
