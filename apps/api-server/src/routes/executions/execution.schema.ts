import { z } from 'zod';
import { inputParametersSchema } from '../../schemas/input-parameters.schema.js';

/** Run Execution body (contract row 14; plain JSON). `reuse_seconds` is a Sightline extension. */
export const runExecutionBody = z
  .object({
    sql_query: z
      .string()
      .min(1)
      .max(1_000_000)
      .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters'),
    r_query: z.string().max(1_000_000).nullable().optional(),
    parameters: inputParametersSchema.optional(),
    reuse_seconds: z.number().int().min(0).max(86_400).optional(),
  })
  .strict();
