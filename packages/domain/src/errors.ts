/**
 * The one error type of Sightline. Services and repositories throw `AppError`s; the HTTP apps map
 * them to JSON:API error documents in one middleware, the worker decides retry vs terminal by `status`.
 */
export interface ErrorSource {
  /** JSON pointer into the request document, e.g. `/data/attributes/name`. */
  pointer?: string;
  /** Name of the query or path parameter that caused the error. */
  parameter?: string;
  /** Name of the request header that caused the error. */
  header?: string;
}

export interface AppErrorOptions {
  detail?: string;
  source?: ErrorSource;
  meta?: Record<string, unknown>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail?: string;
  readonly source?: ErrorSource;
  readonly meta?: Record<string, unknown>;

  constructor(status: number, code: string, title: string, options: AppErrorOptions = {}) {
    super(options.detail ?? title, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = options.detail;
    this.source = options.source;
    this.meta = options.meta;
  }
}

/** 400: the request is malformed (bad JSON, unknown query parameter, wrong shape). */
export class BadRequestError extends AppError {
  constructor(detail: string, options: Omit<AppErrorOptions, 'detail'> & { code?: string } = {}) {
    super(400, options.code ?? 'bad_request', 'Bad Request', { ...options, detail });
  }
}

/** 401: no, malformed, unknown, disabled or expired credentials. */
export class UnauthenticatedError extends AppError {
  constructor(detail = 'Missing or invalid credentials', options: Omit<AppErrorOptions, 'detail'> = {}) {
    super(401, 'unauthenticated', 'Unauthorized', { ...options, detail });
  }
}

/** 403: valid credentials without the needed permission. */
export class ForbiddenError extends AppError {
  constructor(detail = 'The API key lacks the permission for this operation', options: Omit<AppErrorOptions, 'detail'> = {}) {
    super(403, 'forbidden', 'Forbidden', { ...options, detail });
  }
}

/** 404: unknown id, or one the caller may not see (never distinguish the two). */
export class NotFoundError extends AppError {
  constructor(detail = 'Not found', options: Omit<AppErrorOptions, 'detail'> & { code?: string } = {}) {
    super(404, options.code ?? 'not_found', 'Not Found', { ...options, detail });
  }
}

/** 409: a conflict with the current state or an id/type mismatch in a JSON:API document. */
export class ConflictError extends AppError {
  constructor(detail: string, options: Omit<AppErrorOptions, 'detail'> & { code?: string } = {}) {
    super(409, options.code ?? 'conflict', 'Conflict', { ...options, detail });
  }
}

/** 422: well-formed input that breaks a business rule or a value constraint. */
export class ValidationError extends AppError {
  constructor(detail: string, options: Omit<AppErrorOptions, 'detail'> & { code?: string } = {}) {
    super(422, options.code ?? 'validation_failed', 'Unprocessable Entity', { ...options, detail });
  }
}

/** 429: too many requests. `retryAfterSeconds` becomes the `Retry-After` header (and `meta.retry_after_seconds`). */
export class RateLimitedError extends AppError {
  readonly retryAfterSeconds?: number;
  constructor(detail = 'Too many requests', options: { retryAfterSeconds?: number } = {}) {
    super(429, 'rate_limited', 'Too Many Requests', {
      detail,
      meta: options.retryAfterSeconds === undefined ? undefined : { retry_after_seconds: options.retryAfterSeconds },
    });
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** 503: a dependency (database, queue) is unavailable or a statement was cancelled. */
export class UnavailableError extends AppError {
  /** Seconds after which a retry may succeed (the `Retry-After` header), when known. */
  readonly retryAfterSeconds?: number;
  constructor(detail = 'Service unavailable', options: Omit<AppErrorOptions, 'detail'> & { code?: string; retryAfterSeconds?: number } = {}) {
    const { code, retryAfterSeconds, ...rest } = options;
    super(503, code ?? 'unavailable', 'Service Unavailable', { ...rest, detail });
    if (retryAfterSeconds !== undefined) this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Several errors at once (e.g. every invalid attribute of a request body); the status of the first wins. */
export class AppErrors extends AppError {
  readonly errors: AppError[];
  constructor(errors: AppError[]) {
    const first = errors[0];
    if (!first) throw new Error('AppErrors needs at least one error');
    super(first.status, first.code, first.title, { detail: errors.map((e) => e.detail ?? e.title).join('; ') });
    this.errors = errors;
  }
}

/** True for any `AppError` (including subclasses). */
export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
