import { z } from 'zod';
import { ValidationError, isAppError } from '../errors.js';
import { parseEmailList } from '../mail/email-list.js';
import { AGGREGATION_OPTIONS, type AggregationOption } from '../query/query.types.js';
import { parseAttachAs } from './attach-as.js';
import { parseSchedule, MAX_SCHEDULE_LENGTH } from './schedule-grammar.js';

/** A selected value: string, number, boolean or null (contract FilterInput). */
const selectedValue = z.union([z.string().max(10_000), z.number().finite(), z.boolean(), z.null()]);

/** Contract InputParameters (§1.10): the shape is checked here, the meaning by the query compiler. */
export const inputParametersSchema = z
  .object({
    timerange: z.string().max(200).optional(),
    aggregation: z.enum(AGGREGATION_OPTIONS as readonly AggregationOption[] as [AggregationOption, ...AggregationOption[]]).optional(),
    tz: z.string().max(100).optional(),
    filters: z
      .array(
        z
          .object({
            variable_name: z
              .string()
              .min(1)
              .max(200)
              .regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, "_" or "-"'),
            selected_values: z.array(selectedValue).max(10_000),
          })
          .strict(),
      )
      .max(500)
      .optional(),
  })
  .strict();

/** Runs a domain parser as a zod refinement: its 422 detail becomes the issue message. */
function refineWith(text: string, ctx: z.RefinementCtx, check: (text: string) => unknown, prefix?: string): void {
  try {
    check(text);
  } catch (err) {
    if (!isAppError(err)) throw err;
    const detail = err.detail ?? err.title;
    ctx.addIssue({ code: 'custom', message: prefix && detail.startsWith(prefix) ? detail.slice(prefix.length) : detail });
  }
}

/**
 * A comma-separated list of e-mail addresses (each checked; at most 50), as written.
 * @param minOne at least one address (a schedule's `emails`)
 */
export function emailListSchema(attribute: string, minOne = false) {
  return z
    .string()
    .max(20_000)
    .superRefine((text, ctx) => {
      refineWith(
        text,
        ctx,
        (t) => {
          if (parseEmailList(t, attribute).length === 0 && minOne) throw new ValidationError('needs at least one address');
        },
        `${attribute}: `,
      );
    });
}

/** A dashboard schedule's `schedule` (§4.8 grammar), as written; the message points at the wrong part. */
export const scheduleSchema = z
  .string()
  .max(MAX_SCHEDULE_LENGTH)
  .superRefine((text, ctx) => refineWith(text, ctx, (t) => parseSchedule(t)));

/** A comma-separated subset of `formats` (blank = none), as written. */
export function attachAsSchema(formats: readonly string[]) {
  return z
    .string()
    .max(500)
    .superRefine((text, ctx) => refineWith(text, ctx, (t) => parseAttachAs(t, formats), 'attach_as: '));
}
