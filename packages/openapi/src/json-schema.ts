import { z } from 'zod';

/** A JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) as a plain object. */
export type JsonSchema = { [key: string]: unknown };

/**
 * The JSON Schema of the JSON a client sends or receives for `schema`: the zod schema's *input* side
 * (what it validates, before transforms), so a timestamp field is a `date-time` string, not a `Date`.
 * Parts JSON Schema cannot express (refinements, transforms, custom checks) become unconstrained (`{}`):
 * the document then says less than the server checks, never more.
 */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as JsonSchema;
  delete out.$schema;
  return out;
}

/** `schema` or JSON `null`. */
export function nullable(schema: JsonSchema): JsonSchema {
  return { anyOf: [schema, { type: 'null' }] };
}
