import { z } from 'zod';
import { inputParametersSchema } from '../../schemas/input-parameters.schema.js';

/** Smallest and largest render widths in px (the renderer's range). */
const MIN_PAGE_WIDTH = 320;
const MAX_PAGE_WIDTH = 8000;

/**
 * Export request body (rows 27, 28, 53–55): the contract's `{parameters}`, plus Sightline's
 * optional `page_width` (render width in px of PDF/PNG; default the dashboard's or report's
 * `default_page_width`).
 */
export const exportBody = z
  .object({
    parameters: inputParametersSchema.optional(),
    page_width: z.number().int().min(MIN_PAGE_WIDTH).max(MAX_PAGE_WIDTH).optional(),
  })
  .strict();
