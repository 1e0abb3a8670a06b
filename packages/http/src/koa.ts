import { randomUUID } from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';
import getRawBody from 'raw-body';
import { AppError, BadRequestError, NotFoundError, RateLimitedError, UnavailableError, isAppError, translatePgError, type Logger } from '@sightline/domain';
import { JSONAPI_MEDIA_TYPE, JSON_MEDIA_TYPE, errorDocument, internalErrorDocument } from '@sightline/jsonapi';
import { MethodNotAllowedError, PayloadTooLargeError, UnsupportedMediaTypeError } from './http-errors.js';

/** What the shared middlewares put on `ctx.state`. */
export interface RequestState {
  requestId: string;
  log: Logger;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every request an id (a sane incoming `X-Request-Id` is kept), a child logger that puts the id
 * on every line, the `X-Request-Id` response header, and one access log line.
 */
export function requestContext(logger: Logger): Middleware {
  return async (ctx: Context, next: Next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const log = logger.child({ request_id: requestId });
    ctx.state.requestId = requestId;
    ctx.state.log = log;
    ctx.set('X-Request-Id', requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      const ms = Math.round((performance.now() - started) * 10) / 10;
      // one line per request: a failure's error rides on it (503s, e.g. a database outage, are warnings)
      const level = ctx.status === 503 ? 'warn' : ctx.status >= 500 ? 'error' : 'info';
      const err = ctx.state.error as unknown;
      log[level]({ method: ctx.method, path: ctx.path, status: ctx.status, ms, ...(err === undefined ? {} : { err }) }, 'request');
    }
  };
}

function statusOf(err: unknown): number | undefined {
  const e = err as { status?: unknown; statusCode?: unknown; expose?: unknown };
  const status = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  return status !== undefined && status >= 400 && status < 500 ? status : undefined;
}

/**
 * Maps HTTP errors thrown by libraries (raw-body, koa, router) and database errors (by SQLSTATE,
 * `translatePgError`) to `AppError`s; others stay as they are.
 */
function toAppError(caught: unknown): unknown {
  const err = translatePgError(caught);
  if (isAppError(err)) return err;
  const status = statusOf(err);
  if (status === undefined) return err;
  const type = (err as { type?: string }).type;
  if (status === 413) return new PayloadTooLargeError((err as { limit?: number }).limit ?? 0);
  if (status === 415) return new UnsupportedMediaTypeError('Unsupported request body encoding');
  if (type === 'request.aborted') return new BadRequestError('The request was aborted');
  return new AppError(status, 'http_error', (err as Error).message || 'Client error', { detail: (err as Error).message });
}

/**
 * First middleware of both apps: answers every error as a JSON:API error document. Unexpected errors
 * are logged with the request id and answered 500 without message or stack.
 */
export function errorHandler(): Middleware {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (caught) {
      const err = toAppError(caught);
      ctx.type = JSONAPI_MEDIA_TYPE;
      if (isAppError(err)) {
        ctx.status = err.status;
        if (err instanceof MethodNotAllowedError) ctx.set('Allow', ((err.meta?.allowed as string[]) ?? []).join(', '));
        if (err.status === 401) ctx.set('WWW-Authenticate', ctx.state.authScheme ?? 'Api');
        if ((err instanceof RateLimitedError || err instanceof UnavailableError) && err.retryAfterSeconds !== undefined)
          ctx.set('Retry-After', String(err.retryAfterSeconds));
        ctx.body = errorDocument(err);
        // logged once, on the request's line (requestContext)
        if (err.status >= 500) ctx.state.error = caught;
      } else {
        ctx.status = 500;
        ctx.state.error = caught;
        ctx.body = internalErrorDocument(String(ctx.state.requestId ?? 'unknown'));
      }
    }
  };
}

/**
 * Wraps the router (`router.routes()` then `router.allowedMethods()`): turns "no route matched" into a
 * JSON:API 404 and "path known, method not" into a JSON:API 405 with an `Allow` header.
 */
export function routingErrors(): Middleware {
  return async (ctx: Context, next: Next) => {
    await next();
    if (ctx.status === 405 || ctx.status === 501) {
      const allowed = (ctx.response.get('Allow') || '')
        .split(',')
        .map((m) => m.trim())
        .filter(Boolean);
      throw new MethodNotAllowedError(allowed);
    }
    if (ctx.status === 404 && ctx.body == null) {
      throw new NotFoundError(`No route for ${ctx.method} ${ctx.path}`, { code: 'route_not_found' });
    }
  };
}

export type BodyMediaType = 'jsonapi' | 'json';

export interface ReadBodyOptions {
  /** Largest body in bytes. */
  limit: number;
  /** Media types this operation documents; plain JSON is always accepted too (real clients send it). */
  mediaType: BodyMediaType;
  /** When true a missing body is a 400; when false it reads as `undefined`. */
  required: boolean;
}

function hasBody(ctx: Context): boolean {
  const length = ctx.get('content-length');
  if (length !== '') return Number(length) > 0;
  return ctx.get('transfer-encoding') !== '';
}

/**
 * Reads and parses a JSON request body with content negotiation and a size limit.
 * @throws UnsupportedMediaTypeError (415), PayloadTooLargeError (413), BadRequestError (400)
 */
export async function readJsonBody(ctx: Context, options: ReadBodyOptions): Promise<unknown> {
  if (!hasBody(ctx)) {
    if (options.required) throw new BadRequestError('A JSON request body is required', { source: { pointer: '' } });
    return undefined;
  }
  const type = ctx.request.type;
  if (type === JSONAPI_MEDIA_TYPE) {
    // JSON:API 1.0: a media type parameter on the JSON:API media type is a 415.
    const raw = ctx.get('content-type');
    if (/;/.test(raw) && !/;\s*charset=utf-8\s*$/i.test(raw))
      throw new UnsupportedMediaTypeError(`"${JSONAPI_MEDIA_TYPE}" must be sent without media type parameters`);
  } else if (type !== JSON_MEDIA_TYPE) {
    const expected = options.mediaType === 'jsonapi' ? `"${JSONAPI_MEDIA_TYPE}" (or "${JSON_MEDIA_TYPE}")` : `"${JSON_MEDIA_TYPE}"`;
    throw new UnsupportedMediaTypeError(`Content-Type must be ${expected}${type ? `, not "${type}"` : ''}`);
  }
  const charset = ctx.request.charset;
  if (charset && charset.toLowerCase() !== 'utf-8' && charset.toLowerCase() !== 'utf8')
    throw new UnsupportedMediaTypeError('Only the utf-8 charset is supported');
  let text: string;
  try {
    text = await getRawBody(ctx.req, { limit: options.limit, encoding: 'utf8', length: ctx.get('content-length') || undefined });
  } catch (err) {
    throw toAppError(err);
  }
  if (!text.trim()) {
    if (options.required) throw new BadRequestError('A JSON request body is required', { source: { pointer: '' } });
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(`The request body is not valid JSON: ${(err as Error).message}`, { source: { pointer: '' }, code: 'malformed_json' });
  }
}

/** Sends a JSON:API document. */
export function sendJsonApi(ctx: Context, status: number, document: unknown): void {
  ctx.status = status;
  ctx.type = JSONAPI_MEDIA_TYPE;
  ctx.body = document;
}

/** Sends plain JSON. */
export function sendJson(ctx: Context, status: number, body: unknown): void {
  ctx.status = status;
  ctx.type = JSON_MEDIA_TYPE;
  ctx.body = body;
}

/** Sends an empty 204. */
export function sendNoContent(ctx: Context): void {
  ctx.status = 204;
  ctx.body = null;
}
