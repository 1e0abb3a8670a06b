import { z } from 'zod';
import { inputParametersSchema } from '../../schemas/input-parameters.schema.js';

/** Poll Dashboard Status body (row 23). */
export const pollStatusBody = z.object({ refresh_data: z.boolean().default(false), parameters: inputParametersSchema.optional() }).strict();

/** Refresh Dashboard / Refresh Report body (rows 24, 50). */
export const refreshBody = z.object({ parameters: inputParametersSchema.optional() }).strict();

/** Get Report Data body (row 52). */
export const reportDataBody = z
  .object({
    parameters: inputParametersSchema.optional(),
    data_format: z.enum(['json', 'csv']).default('json'),
    csv_column_separator: z.enum([',', ';', '\t']).optional(),
    csv_decimal_separator: z.enum(['.', ',', '/']).optional(),
    csv_quote_style: z.enum(['necessary', 'always']).optional(),
  })
  .strict();

/** Drop-down options bodies (rows 61, 62). */
export const filterOptionsBody = z.object({ dashboard_id: z.string().min(1).max(64).optional(), parameters: inputParametersSchema.optional() }).strict();
