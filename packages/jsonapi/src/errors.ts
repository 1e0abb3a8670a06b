import type { AppError } from '@sightline/domain';
import { AppErrors } from '@sightline/domain';
import type { JsonApiDocument } from './serializer.js';

/** One JSON:API error object as Sightline emits it (`code` is the HTTP status as a string, as in Cluvio). */
export interface JsonApiError {
  code: string;
  status: string;
  title: string;
  detail?: string;
  source?: { pointer?: string; parameter?: string; header?: string };
  meta?: Record<string, unknown>;
}

function toErrorObject(error: AppError): JsonApiError {
  const out: JsonApiError = { code: String(error.status), status: String(error.status), title: error.title };
  if (error.detail) out.detail = error.detail;
  if (error.source && Object.keys(error.source).length) out.source = { ...error.source };
  out.meta = { error_code: error.code, ...(error.meta ?? {}) };
  return out;
}

/**
 * The error document for an `AppError` (or every error of an `AppErrors`). Identical error objects
 * appear once: JSON:API's `errors` holds unique items, and two checks of one value can fail with the
 * same sentence (an e-mail's format and its pattern).
 */
export function errorDocument(error: AppError): JsonApiDocument {
  const list = error instanceof AppErrors ? error.errors : [error];
  const seen = new Set<string>();
  const errors = list.map(toErrorObject).filter((e) => {
    const key = JSON.stringify(e);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { errors };
}

/** The error document of an unexpected failure: no message, no stack, only the request id. */
export function internalErrorDocument(requestId: string): JsonApiDocument {
  return {
    errors: [
      {
        code: '500',
        status: '500',
        title: 'Internal Server Error',
        detail: `An unexpected error occurred; quote request id ${requestId} when reporting it`,
        meta: { error_code: 'internal_error', request_id: requestId },
      },
    ],
  };
}
