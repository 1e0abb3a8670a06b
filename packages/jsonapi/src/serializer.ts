// jsonapi-serializer is CommonJS: under native ESM only the default import is reliable.
import JSONAPISerializer from 'jsonapi-serializer';

const { Serializer } = JSONAPISerializer;

/** A relationship of a resource type: the related type and whether it is to-many. */
export interface RelationshipDefinition {
  type: string;
  many: boolean;
}

/**
 * A JSON:API resource type: its `type`, the allowlist of attributes (nothing else is ever emitted)
 * and its relationships. Names are exactly those of the API contract (snake_case).
 */
export interface ResourceDefinition {
  type: string;
  attributes: readonly string[];
  relationships: Readonly<Record<string, RelationshipDefinition>>;
}

/** Defines a resource type (see `ResourceDefinition`). */
export function defineResource<const T extends ResourceDefinition>(definition: T): T {
  return definition;
}

/** Linkage of one relationship: an id, null, or a list of ids. */
export type Linkage = string | null | readonly string[];

/** What presenters hand to `serialize`: the id, the attribute values and relationship linkage. */
export interface ResourceRecord {
  id: string;
  attributes: Record<string, unknown>;
  relationships?: Record<string, Linkage>;
}

/** Related records to put into `included`. */
export interface IncludedSet {
  definition: ResourceDefinition;
  records: readonly ResourceRecord[];
  omitRelationships?: readonly string[];
  omitAttributes?: readonly string[];
}

export interface SerializeOptions {
  included?: readonly IncludedSet[];
  /** Relationships the caller may not see (permission-dependent visibility). */
  omitRelationships?: readonly string[];
  /** Attributes the caller may not see (e.g. credentials). */
  omitAttributes?: readonly string[];
  meta?: Record<string, unknown>;
}

/** A JSON:API top-level document. */
export interface JsonApiDocument {
  data?: unknown;
  included?: unknown[];
  errors?: unknown[];
  meta?: Record<string, unknown>;
}

const identity = (key: string) => key;

function serializerFor(definition: ResourceDefinition, options: SerializeOptions) {
  const omitAttributes = new Set(options.omitAttributes ?? []);
  const omitRelationships = new Set(options.omitRelationships ?? []);
  const attributes = definition.attributes.filter((a) => !omitAttributes.has(a));
  const relationships = Object.entries(definition.relationships).filter(([name]) => !omitRelationships.has(name));
  const config: Record<string, unknown> = {
    attributes: [...attributes, ...relationships.map(([name]) => name)],
    keyForAttribute: identity,
    pluralizeType: false,
    typeForAttribute: (attribute: string) => definition.relationships[attribute]?.type ?? attribute,
    meta: options.meta,
  };
  for (const [name] of relationships) config[name] = { ref: 'id', included: false };
  return { serializer: new Serializer(definition.type, config), attributes, relationships };
}

function flatten(
  record: ResourceRecord,
  attributes: readonly string[],
  relationships: ReadonlyArray<[string, RelationshipDefinition]>,
): Record<string, unknown> {
  const flat: Record<string, unknown> = { id: record.id };
  // undefined = not visible to this caller (omitted); null = no value
  for (const a of attributes) if (record.attributes[a] !== undefined) flat[a] = record.attributes[a];
  for (const [name, rel] of relationships) {
    const linkage = record.relationships?.[name];
    if (rel.many) flat[name] = ((linkage as readonly string[] | undefined) ?? []).map((id) => ({ id }));
    else flat[name] = typeof linkage === 'string' ? { id: linkage } : null;
  }
  return flat;
}

/**
 * Builds a JSON:API document for one record or a list, with `included` de-duplicated.
 * Attributes a record leaves `undefined` are omitted (use `null` for "no value"); attributes outside
 * the definition are never emitted.
 */
export function serialize(definition: ResourceDefinition, data: ResourceRecord | readonly ResourceRecord[], options: SerializeOptions = {}): JsonApiDocument {
  const { serializer, attributes, relationships } = serializerFor(definition, options);
  const flat = Array.isArray(data)
    ? (data as readonly ResourceRecord[]).map((r) => flatten(r, attributes, relationships))
    : flatten(data as ResourceRecord, attributes, relationships);
  const doc = serializer.serialize(flat) as unknown as JsonApiDocument;
  if (options.included) {
    const seen = new Set<string>();
    const included: unknown[] = [];
    const primary = Array.isArray(data) ? (data as readonly ResourceRecord[]) : [data as ResourceRecord];
    for (const r of primary) seen.add(`${definition.type}:${r.id}`);
    for (const set of options.included) {
      const inner = serializerFor(set.definition, { omitAttributes: set.omitAttributes, omitRelationships: set.omitRelationships });
      for (const record of set.records) {
        const key = `${set.definition.type}:${record.id}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const item = (inner.serializer.serialize(flatten(record, inner.attributes, inner.relationships)) as unknown as { data: unknown }).data;
        included.push(item);
      }
    }
    doc.included = included;
  }
  return doc;
}
