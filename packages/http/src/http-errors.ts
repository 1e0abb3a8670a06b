import { AppError } from '@sightline/domain';

// The errors only the HTTP layer raises (routing, content negotiation, body limits); the domain's
// own error types stay in packages/domain/src/errors.ts.

/** 405: the path exists but not with this method. */
export class MethodNotAllowedError extends AppError {
  constructor(allowed: string[]) {
    super(405, 'method_not_allowed', 'Method Not Allowed', { detail: `Allowed methods: ${allowed.join(', ')}`, meta: { allowed } });
  }
}

/** 406: the client accepts none of the media types this operation can answer with. */
export class NotAcceptableError extends AppError {
  constructor(detail: string) {
    super(406, 'not_acceptable', 'Not Acceptable', { detail, source: { header: 'Accept' } });
  }
}

/** 413: the request body exceeds the configured limit. */
export class PayloadTooLargeError extends AppError {
  constructor(limitBytes: number) {
    super(413, 'payload_too_large', 'Payload Too Large', { detail: `The request body exceeds the limit of ${limitBytes} bytes` });
  }
}

/** 415: unsupported request media type. */
export class UnsupportedMediaTypeError extends AppError {
  constructor(detail: string) {
    super(415, 'unsupported_media_type', 'Unsupported Media Type', { detail, source: { header: 'Content-Type' } });
  }
}
