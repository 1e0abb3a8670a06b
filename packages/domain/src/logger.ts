import { pino, type Logger } from 'pino';

export type { Logger };

/** The process logger: JSON lines on stdout (pipe through `pino-pretty` to read them as text). */
export function createLogger(level: string, name: string): Logger {
  return pino({
    name,
    level,
    redact: { paths: ['req.headers.authorization', '*.password', '*.secret', '*.bigquery_service_key'], censor: '[redacted]' },
  });
}
