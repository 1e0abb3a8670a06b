import { z } from 'zod';
import { normalizeTimeOfDay } from '../dashboards/dashboard.permissions.js';

/** Text without NUL characters (PostgreSQL rejects them), at most `max` characters. */
export function nulFreeText(max: number) {
  return z
    .string()
    .max(max)
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');
}

/** A time of day `HH:MM` or `HH:MM:SS`, optionally with `Z`, normalised to `HH:MM` (contract §1.10). */
export const timeOfDaySchema = z
  .string()
  .max(20)
  .transform((s, ctx) => {
    const t = normalizeTimeOfDay(s);
    if (t === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be a time of day HH:MM or HH:MM:SS (optionally with Z)' });
      return z.NEVER;
    }
    return t;
  });
