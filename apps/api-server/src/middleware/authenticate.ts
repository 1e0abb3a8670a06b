import type { Middleware } from 'koa';
import type { ApiKeyService } from '@sightline/domain';

/**
 * Resolves `Authorization: Api <secret>` to `ctx.state.principal`; 401 otherwise, or 429 when the
 * client address or key prefix failed too often (`ctx.ip`: the socket's address unless the app
 * trusts a proxy).
 */
export function authenticate(apiKeys: ApiKeyService): Middleware {
  return async (ctx, next) => {
    ctx.state.principal = await apiKeys.authenticate(ctx.get('authorization') || undefined, { clientAddress: ctx.ip || undefined });
    await next();
  };
}
