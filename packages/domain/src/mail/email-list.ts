import { z } from 'zod';
import { ValidationError } from '../errors.js';

const EMAIL = z.email();

/** Most addresses in one comma-separated recipient list. */
export const MAX_LIST_ADDRESSES = 50;

/**
 * Parses a comma-separated list of e-mail addresses (`emails`, `cc_emails`, … of schedules and
 * alerts). Blanks around commas are ignored; an empty or blank text is an empty list; duplicates
 * are kept once.
 * @param attribute attribute name for the error (`/data/attributes/<attribute>`)
 * @throws ValidationError (422, code `invalid_email`) naming the first bad address and its position
 */
export function parseEmailList(text: string | null | undefined, attribute: string): string[] {
  if (text === null || text === undefined || text.trim() === '') return [];
  const pointer = `/data/attributes/${attribute}`;
  const items = text.split(',').map((s) => s.trim());
  if (items.length > MAX_LIST_ADDRESSES) {
    throw new ValidationError(`${attribute} lists ${items.length} addresses; at most ${MAX_LIST_ADDRESSES} are allowed`, {
      code: 'invalid_email',
      source: { pointer },
    });
  }
  const out: string[] = [];
  items.forEach((item, i) => {
    if (item === '') throw new ValidationError(`${attribute}: address ${i + 1} is empty (a stray comma?)`, { code: 'invalid_email', source: { pointer } });
    if (item.length > 254 || !EMAIL.safeParse(item).success) {
      const shown = JSON.stringify(item.length > 80 ? `${item.slice(0, 80)}…` : item);
      throw new ValidationError(`${attribute}: ${shown} (address ${i + 1}) is not a valid e-mail address`, { code: 'invalid_email', source: { pointer } });
    }
    if (!out.some((a) => a.toLowerCase() === item.toLowerCase())) out.push(item);
  });
  return out;
}
