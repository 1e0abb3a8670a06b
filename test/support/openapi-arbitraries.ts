import fc from 'fast-check';

/** A JSON Schema node of the OpenAPI document (draft 2020-12 as OpenAPI 3.1 uses it). */
export type Schema = { [key: string]: unknown };

/** How to generate values for a schema: `$ref`s resolve against `root`; `override` may replace a node's arbitrary. */
export interface ArbitraryContext {
  root: { components: { schemas: Record<string, Schema> } };
  /**
   * Called for every schema node before it is used, with the name of the property it describes
   * (array items: the array's): return an arbitrary to use instead (e.g. real ids for a relationship's
   * linkage, a loopback host), or undefined for the default.
   */
  override?: (name: string | undefined, schema: Schema) => fc.Arbitrary<unknown> | undefined;
}

/** Longest string and array generated for a valid value, whatever the schema allows (requests stay small). */
const MAX_STRING = 24;
const MAX_ITEMS = 3;

/** `schema` with its `$ref` (`#/components/schemas/<name>`) resolved, repeatedly. */
export function resolve(schema: Schema, ctx: Pick<ArbitraryContext, 'root'>): Schema {
  let s = schema;
  for (let i = 0; typeof s.$ref === 'string' && i < 20; i++) {
    const name = /^#\/components\/schemas\/(.+)$/.exec(s.$ref as string)?.[1];
    if (!name || !ctx.root.components.schemas[name]) throw new Error(`unresolvable $ref ${String(s.$ref)}`);
    s = ctx.root.components.schemas[name]!;
  }
  return s;
}

const isoDate = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString());

function stringArbitrary(s: Schema): fc.Arbitrary<string> {
  const minLength = (s.minLength as number | undefined) ?? 0;
  const maxLength = Math.max(minLength, Math.min((s.maxLength as number | undefined) ?? MAX_STRING, MAX_STRING));
  const fits = (v: string) => v.length >= minLength && v.length <= ((s.maxLength as number | undefined) ?? Infinity);
  if (s.format === 'date-time') return isoDate;
  if (s.format === 'email')
    return fc.tuple(fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/), fc.constantFrom('example.com', 'example.org')).map(([l, d]) => `${l}@${d}`);
  if (s.format === 'uuid') return fc.uuid();
  if (typeof s.pattern === 'string') return fc.stringMatching(new RegExp(s.pattern as string)).filter(fits);
  // mostly printable ASCII; now and then any code unit (NUL, control characters, lone surrogates)
  return fc.oneof(
    { arbitrary: fc.string({ minLength, maxLength, unit: 'grapheme-ascii' }), weight: 4 },
    { arbitrary: fc.string({ minLength, maxLength, unit: 'binary' }), weight: 1 },
  );
}

function numberArbitrary(s: Schema, integer: boolean): fc.Arbitrary<number> {
  // the edges the schema names (up to ±2^53), and values between
  const min = (s.minimum as number | undefined) ?? -1_000_000;
  const max = (s.maximum as number | undefined) ?? 1_000_000;
  if (integer) return fc.oneof(fc.constantFrom(min, max), fc.integer({ min, max }));
  return fc.oneof(fc.constantFrom(min, max), fc.double({ min, max, noNaN: true, noDefaultInfinity: true }));
}

/**
 * An arbitrary of JSON values valid for `schema` (as far as the subset of JSON Schema the generated
 * document uses goes: type, const, enum, anyOf/oneOf, properties/required, items, lengths, ranges,
 * pattern, date-time/email/uuid formats). An unconstrained schema (`{}`) gives small JSON values.
 */
export function valueArbitrary(schema: Schema, ctx: ArbitraryContext, depth = 0, name?: string): fc.Arbitrary<unknown> {
  const s = resolve(schema, ctx);
  const own = ctx.override?.(name, s);
  if (own) return own;
  if ('const' in s) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
  const alternatives = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (alternatives) return fc.oneof(...alternatives.map((a) => valueArbitrary(a, ctx, depth + 1, name)));
  if (Array.isArray(s.type)) return fc.oneof(...(s.type as string[]).map((t) => valueArbitrary({ ...s, type: t }, ctx, depth + 1, name)));
  switch (s.type) {
    case 'string':
      return stringArbitrary(s);
    case 'integer':
      return numberArbitrary(s, true);
    case 'number':
      return numberArbitrary(s, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = (s.minItems as number | undefined) ?? 0;
      const maxLength = Math.max(minLength, Math.min((s.maxItems as number | undefined) ?? MAX_ITEMS, MAX_ITEMS));
      return fc.array(s.items ? valueArbitrary(s.items as Schema, ctx, depth + 1, name) : fc.jsonValue({ maxDepth: 1 }), { minLength, maxLength });
    }
    case 'object':
      return objectArbitrary(s, ctx, depth);
    default:
      if (s.properties) return objectArbitrary(s, ctx, depth);
      return depth > 3 ? fc.constant(null) : fc.jsonValue({ maxDepth: 1 });
  }
}

function objectArbitrary(s: Schema, ctx: ArbitraryContext, depth: number): fc.Arbitrary<unknown> {
  const properties = (s.properties ?? {}) as Record<string, Schema>;
  const required = new Set((s.required ?? []) as string[]);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, p] of Object.entries(properties)) {
    // optional unconstrained properties (read-only attributes a create document tolerates) are left out
    if (!required.has(name) && Object.keys(resolve(p, ctx)).length === 0 && !ctx.override?.(name, p)) continue;
    model[name] = valueArbitrary(p, ctx, depth + 1, name);
  }
  return fc.record(model, { requiredKeys: Object.keys(model).filter((k) => required.has(k)) });
}

/** JSON Pointer-ish paths (arrays of keys) of every property of a JSON value, depth first. */
export function propertyPaths(value: unknown, prefix: string[] = []): string[][] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  const out: string[][] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out.push([...prefix, k]);
    out.push(...propertyPaths(v, [...prefix, k]));
  }
  return out;
}

/** A deep copy of `value` with the property at `path` set to `replacement` (or removed when `remove`). */
export function withProperty(value: unknown, path: string[], replacement: unknown, remove = false): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = path[path.length - 1]!;
  if (remove) delete node[last];
  else node[last] = replacement;
  return copy;
}
