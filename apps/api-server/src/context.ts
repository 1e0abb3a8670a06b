import type { Router, RouterContext } from '@koa/router';
import type { Principal } from '@sightline/domain';
import type { RequestState } from '@sightline/http';

/** `ctx.state` of an API request: request id, logger and (after authentication) the calling key. */
export interface ApiState extends RequestState {
  principal: Principal;
}

export type ApiContext = RouterContext<ApiState>;
export type ApiRouter = Router<ApiState>;
