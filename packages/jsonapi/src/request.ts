import { AppErrors, BadRequestError, ConflictError, ForbiddenError, ValidationError, type AppError } from '@sightline/domain';
import { z } from 'zod';
import type { ResourceDefinition } from './serializer.js';

/** Linkage in a request document, by relationship name: an id, null, or a list of ids. */
export type RequestRelationships = Record<string, string | null | string[]>;

/** A parsed create/update document: raw attributes (validated by the caller's zod schema) and linkage. */
export interface ParsedResourceDocument {
  attributes: Record<string, unknown>;
  relationships: RequestRelationships;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const identifierSchema = z.object({ type: z.string(), id: z.string().min(1).max(200) }).strict();

/**
 * Parses a JSON:API create or update body for `definition`. `data.type` and `data.id` may be
 * omitted (the Cluvio samples do) but must match when present.
 * @param expectedId the id from the URL (updates); undefined for creates
 * @throws BadRequestError for a malformed document, ConflictError (409) for a type or id mismatch,
 *   ForbiddenError (403) for a client-generated id on create, ValidationError (422) for unknown or
 *   malformed relationships
 */
export function parseResourceDocument(body: unknown, definition: ResourceDefinition, expectedId?: string): ParsedResourceDocument {
  if (!isObject(body)) throw new BadRequestError('The request body must be a JSON object with a "data" member', { source: { pointer: '' } });
  const unknownTop = Object.keys(body).filter((k) => !['data', 'meta', 'jsonapi'].includes(k));
  if (unknownTop.length) throw new BadRequestError(`Unknown top-level member(s): ${unknownTop.join(', ')}`, { source: { pointer: `/${unknownTop[0]}` } });
  const data = body.data;
  if (!isObject(data)) throw new BadRequestError('"data" must be a resource object', { source: { pointer: '/data' } });
  const unknownData = Object.keys(data).filter((k) => !['type', 'id', 'attributes', 'relationships', 'meta', 'links'].includes(k));
  if (unknownData.length)
    throw new BadRequestError(`Unknown member(s) of "data": ${unknownData.join(', ')}`, { source: { pointer: `/data/${unknownData[0]}` } });
  if (data.type !== undefined && data.type !== definition.type) {
    throw new ConflictError(`"data.type" must be "${definition.type}"`, { source: { pointer: '/data/type' }, code: 'type_mismatch' });
  }
  if (data.id !== undefined) {
    if (expectedId === undefined) throw new ForbiddenError('Client-generated ids are not supported', { source: { pointer: '/data/id' } });
    if (data.id !== expectedId) throw new ConflictError(`"data.id" must be "${expectedId}" (the id in the URL)`, { source: { pointer: '/data/id' } });
  }
  const attributes = data.attributes ?? {};
  if (!isObject(attributes)) throw new BadRequestError('"data.attributes" must be an object', { source: { pointer: '/data/attributes' } });
  const rawRelationships = data.relationships ?? {};
  if (!isObject(rawRelationships)) throw new BadRequestError('"data.relationships" must be an object', { source: { pointer: '/data/relationships' } });
  const relationships: RequestRelationships = {};
  const errors: AppError[] = [];
  for (const [name, value] of Object.entries(rawRelationships)) {
    const pointer = `/data/relationships/${name}`;
    const rel = definition.relationships[name];
    if (!rel) {
      errors.push(new ValidationError(`Unknown relationship "${name}"`, { source: { pointer } }));
      continue;
    }
    if (!isObject(value) || !('data' in value)) {
      errors.push(new ValidationError(`Relationship "${name}" must be an object with a "data" member`, { source: { pointer } }));
      continue;
    }
    const linkage = value.data;
    const check = (item: unknown, itemPointer: string): string | undefined => {
      const parsed = identifierSchema.safeParse(item);
      if (!parsed.success) {
        errors.push(new ValidationError(`Relationship "${name}" needs resource identifiers {"type","id"}`, { source: { pointer: itemPointer } }));
        return undefined;
      }
      if (parsed.data.type !== rel.type) {
        errors.push(new ValidationError(`Relationship "${name}" takes resources of type "${rel.type}"`, { source: { pointer: `${itemPointer}/type` } }));
        return undefined;
      }
      return parsed.data.id;
    };
    if (rel.many) {
      if (!Array.isArray(linkage)) {
        errors.push(new ValidationError(`Relationship "${name}" is to-many: "data" must be an array`, { source: { pointer: `${pointer}/data` } }));
        continue;
      }
      if (linkage.length > 10_000) {
        errors.push(new ValidationError(`Relationship "${name}" has too many members`, { source: { pointer: `${pointer}/data` } }));
        continue;
      }
      const ids = linkage.map((item, i) => check(item, `${pointer}/data/${i}`)).filter((id): id is string => id !== undefined);
      relationships[name] = [...new Set(ids)];
    } else if (linkage === null) {
      relationships[name] = null;
    } else {
      const id = check(linkage, `${pointer}/data`);
      if (id !== undefined) relationships[name] = id;
    }
  }
  if (errors.length) throw new AppErrors(errors);
  return { attributes, relationships };
}

// ---- validation messages: sentences for a person, made in this one place for every schema ----

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  tuple: 'a list',
  record: 'an object',
  map: 'an object',
  set: 'a list',
  null: 'null',
  date: 'a date',
  bigint: 'an integer',
  literal: 'a fixed value',
  enum: 'one of the listed values',
  undefined: 'absent',
  nan: 'a number',
};
const FORMAT_WORDS: Record<string, string> = {
  email: 'an e-mail address',
  url: 'a URL',
  uuid: 'a UUID',
  guid: 'a UUID',
  datetime: 'an ISO 8601 date and time',
  date: 'a date (YYYY-MM-DD)',
  time: 'a time of day (HH:MM[:SS])',
  duration: 'an ISO 8601 duration',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
  base64: 'base64 text',
  base64url: 'base64url text',
  json_string: 'a JSON string',
  e164: 'a phone number in E.164 form',
};

function typeWord(expected: string): string {
  return TYPE_WORDS[expected] ?? `a ${expected}`;
}

/** What the client sent, in words (`text`, `1.5`, `a list`, …). */
function describeInput(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  switch (typeof input) {
    case 'string':
      return 'text';
    case 'number':
      return Number.isFinite(input) && String(input).length <= 24 ? String(input) : 'a number';
    case 'boolean':
      return 'true or false';
    case 'object':
      return 'an object';
    default:
      return typeof input;
  }
}

function listValues(values: readonly unknown[]): string {
  const shown = values.slice(0, 30).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  return values.length > 30 ? `${shown.join(', ')}, …` : shown.join(', ');
}

interface SchemaLike {
  _zod?: { def?: { type?: string; innerType?: SchemaLike; entries?: Record<string, unknown>; values?: unknown[] } };
}

/** The allowed values of an enum or literal schema (looking through optional/nullable/default wrappers). */
function allowedValues(schema: SchemaLike | undefined): unknown[] | undefined {
  for (let s = schema, depth = 0; s?._zod?.def && depth < 10; s = s._zod.def.innerType, depth++) {
    const def = s._zod.def;
    if (def.type === 'enum' && def.entries) return Object.values(def.entries);
    if (def.type === 'literal' && def.values) return def.values;
  }
  return undefined;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

type Issue = z.core.$ZodRawIssue;

/**
 * The message of one issue as a fragment that follows the field name (`is required; one of a, b`,
 * `must be a whole number, not 1.5`). Schema-level custom messages (`refine(…, 'must …')`) take
 * precedence in zod and follow the same convention.
 */
function describeIssue(issue: Issue): string {
  const i = issue as Issue & Record<string, unknown>;
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined || i.expected === 'nonoptional') {
        const values = allowedValues(issue.inst as SchemaLike);
        return values ? `is required; one of ${listValues(values)}` : 'is required';
      }
      return `must be ${typeWord(String(i.expected))}, not ${describeInput(issue.input)}`;
    }
    case 'invalid_value': {
      const values = (i.values as unknown[] | undefined) ?? [];
      return values.length === 1 ? `must be ${JSON.stringify(values[0])}` : `must be one of ${listValues(values)}`;
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = Number(small ? i.minimum : i.maximum);
      const inclusive = i.inclusive !== false;
      switch (i.origin) {
        case 'string':
          if (small && bound === 1) return 'must not be empty';
          return `must be ${small ? 'at least' : 'at most'} ${plural(bound, 'character', 'characters')} long`;
        case 'array':
        case 'set':
          if (small && bound === 1) return 'must not be empty';
          return `must have ${small ? 'at least' : 'at most'} ${plural(bound, 'item', 'items')}`;
        case 'date':
          return `must be ${small ? 'on or after' : 'on or before'} ${String(small ? i.minimum : i.maximum)}`;
        default:
          if (inclusive) return `must be ${small ? 'at least' : 'at most'} ${bound}`;
          return `must be ${small ? 'greater' : 'less'} than ${bound}`;
      }
    }
    case 'invalid_format': {
      const format = String(i.format);
      if (format === 'regex') return 'has the wrong format';
      if (format === 'starts_with') return `must start with "${String(i.prefix)}"`;
      if (format === 'ends_with') return `must end with "${String(i.suffix)}"`;
      if (format === 'includes') return `must contain "${String(i.includes)}"`;
      return `must be ${FORMAT_WORDS[format] ?? `a valid ${format}`}`;
    }
    case 'not_multiple_of':
      return `must be a multiple of ${String(i.divisor)}`;
    case 'invalid_union': {
      // a union of plain types: name them ("text or a number")
      const branches = (i.errors as Array<Array<{ code: string; expected?: string; path: unknown[] }>> | undefined) ?? [];
      const expected = branches.map((b) => (b.length === 1 && b[0]!.code === 'invalid_type' && b[0]!.path.length === 0 ? b[0]!.expected : undefined));
      if (expected.length && expected.every((e) => e !== undefined))
        return `must be ${[...new Set(expected.map((e) => typeWord(e!)))].join(' or ')}, not ${describeInput(issue.input)}`;
      return 'matches none of the accepted forms';
    }
    case 'invalid_key':
      return 'has a key that is not allowed';
    case 'invalid_element':
      return 'has an element that is not allowed';
    case 'unrecognized_keys':
      return 'has unknown members';
    default:
      return 'is not valid';
  }
}

/** `layout[0].row` for the path `['layout', 0, 'row']`. */
function fieldName(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out;
}

/** The sentence of an error at `path`: the field in backticks, then the fragment (or a full sentence as is). */
function sentence(path: readonly PropertyKey[], message: string, pointerPrefix: string): string {
  if (/^[A-Z]/.test(message)) return message;
  if (!path.length) return `${pointerPrefix === '/data/attributes' ? 'The attributes' : 'The request body'} ${message}`;
  return `\`${fieldName(path)}\` ${message}`;
}

/**
 * Turns zod issues into 422 errors pointing into the request (`/data/attributes/...` or a body
 * path), each with a sentence for a person: "`connection_mode` is required; one of direct,
 * ssh_tunnel, agent". Custom messages of schemas are fragments that follow the field name
 * (`'must …'`, `'is …'`) or full sentences starting with a capital letter.
 */
export function zodErrors(error: z.ZodError, pointerPrefix: string): AppErrors {
  return new AppErrors(
    error.issues.flatMap((issue) => {
      const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
      const base = [pointerPrefix, ...path.map(String)].join('/');
      if (issue.code === 'unrecognized_keys') {
        const what = pointerPrefix === '/data/attributes' && path.length === 0 ? 'attribute' : 'member';
        return issue.keys.map(
          (key) => new ValidationError(`\`${fieldName([...path, key])}\` is not a known ${what}`, { source: { pointer: `${base}/${key}` } }),
        );
      }
      return [new ValidationError(sentence(path, issue.message, pointerPrefix), { source: { pointer: base } })];
    }),
  );
}

/**
 * Validates `input` against `schema`; every problem becomes a sentence for a person (see `zodErrors`).
 * @throws AppErrors (422) listing every problem with its JSON pointer
 */
export function validate<S extends z.ZodType>(schema: S, input: unknown, pointerPrefix = '/data/attributes'): z.output<S> {
  const parsed = schema.safeParse(input, { error: describeIssue });
  if (!parsed.success) throw zodErrors(parsed.error, pointerPrefix);
  return parsed.data;
}

/**
 * Parses the `include` query parameter (a comma list) against an allowlist.
 * @throws BadRequestError for an unknown or malformed include path
 */
export function parseInclude(value: unknown, allowed: readonly string[]): Set<string> {
  if (value === undefined) return new Set();
  if (typeof value !== 'string') throw new BadRequestError('"include" must be given once, as a comma-separated list', { source: { parameter: 'include' } });
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = items.filter((i) => !allowed.includes(i));
  if (unknown.length) {
    throw new BadRequestError(
      allowed.length ? `Unsupported include path(s): ${unknown.join(', ')}; allowed: ${allowed.join(', ')}` : 'This endpoint supports no "include"',
      { source: { parameter: 'include' } },
    );
  }
  return new Set(items);
}

/**
 * Rejects query parameters outside `allowed` (JSON:API: unsupported parameters are a 400).
 * @throws BadRequestError naming the first unknown parameter
 */
export function checkQueryParameters(query: Record<string, unknown>, allowed: readonly string[]): void {
  for (const name of Object.keys(query)) {
    if (!allowed.includes(name)) {
      throw new BadRequestError(`Unsupported query parameter "${name}"${allowed.length ? `; allowed: ${allowed.join(', ')}` : ''}`, {
        source: { parameter: name },
      });
    }
  }
}
