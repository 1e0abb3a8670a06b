import { ValidationError } from '../errors.js';

/** Attachment formats of dashboard schedules (contract §3.6, §4.8 rule 50). */
export const SCHEDULE_ATTACHMENT_FORMATS = ['excel', 'csv', 'png', 'dark_png', 'inline_png', 'dark_inline_png', 'pdf', 'dark_pdf'] as const;
/** One of `SCHEDULE_ATTACHMENT_FORMATS`. */
export type ScheduleAttachmentFormat = (typeof SCHEDULE_ATTACHMENT_FORMATS)[number];

/** Attachment formats of SQL alerts (contract §3.10). */
export const ALERT_ATTACHMENT_FORMATS = ['csv', 'excel'] as const;
/** One of `ALERT_ATTACHMENT_FORMATS`. */
export type AlertAttachmentFormat = (typeof ALERT_ATTACHMENT_FORMATS)[number];

/**
 * Parses `attach_as`: a comma-separated subset of `allowed` (blanks ignored, duplicates kept once,
 * order kept). An empty text is an empty list.
 * @throws ValidationError (422, code `invalid_attach_as`) naming the unknown format
 */
export function parseAttachAs<T extends string>(text: string | null | undefined, allowed: readonly T[]): T[] {
  if (text === null || text === undefined || text.trim() === '') return [];
  const out: T[] = [];
  text
    .split(',')
    .map((s) => s.trim())
    .forEach((item, i) => {
      if (!(allowed as readonly string[]).includes(item)) {
        const shown = JSON.stringify(item.length > 40 ? `${item.slice(0, 40)}…` : item);
        throw new ValidationError(`attach_as: ${shown} (item ${i + 1}) is not a format; use a comma-separated list of ${allowed.join(', ')}`, {
          code: 'invalid_attach_as',
          source: { pointer: '/data/attributes/attach_as' },
        });
      }
      if (!out.includes(item as T)) out.push(item as T);
    });
  return out;
}
