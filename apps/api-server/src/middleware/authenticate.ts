import type { Middleware } from 'koa';
import type { ApiKeyService } from '@sightline/domain';

/** Resolves `Authorization: Api <secret>` to `ctx.state.principal`; 401 otherwise. */
export function authenticate(apiKeys: ApiKeyService): Middleware {
  return async (ctx, next) => {
    ctx.state.principal = await apiKeys.authenticate(ctx.get('authorization') || undefined);
    await next();
  };
}
