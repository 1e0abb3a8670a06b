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
  if (unknownData.length) throw new BadRequestError(`Unknown member(s) of "data": ${unknownData.join(', ')}`, { source: { pointer: `/data/${unknownData[0]}` } });
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

/** Turns zod issues into 422 errors pointing into the request (`/data/attributes/...` or a body path). */
export function zodErrors(error: z.ZodError, pointerPrefix: string): AppErrors {
  return new AppErrors(
    error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        const base = [pointerPrefix, ...issue.path.map(String)].join('/');
        return new ValidationError(`Unknown attribute(s): ${issue.keys.join(', ')}`, { source: { pointer: `${base}/${issue.keys[0]}` } });
      }
      const path = issue.path.map(String);
      const pointer = [pointerPrefix, ...path].join('/');
      const where = path.length ? `"${path.join('.')}"` : 'the body';
      return new ValidationError(`${where}: ${issue.message}`, { source: { pointer } });
    }),
  );
}

/**
 * Validates `input` against `schema`.
 * @throws AppErrors (422) listing every problem with its JSON pointer
 */
export function validate<S extends z.ZodType>(schema: S, input: unknown, pointerPrefix = '/data/attributes'): z.output<S> {
  const parsed = schema.safeParse(input);
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
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
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
      throw new BadRequestError(`Unsupported query parameter "${name}"${allowed.length ? `; allowed: ${allowed.join(', ')}` : ''}`, { source: { parameter: name } });
    }
  }
}
