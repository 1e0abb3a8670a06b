import type { FieldMap, FieldTable } from '@sightline/domain';
import type { ResourceDefinition } from '@sightline/jsonapi';
import { jsonSchemaOf, nullable, type JsonSchema } from './json-schema.js';

type AnyTable = FieldTable<FieldMap>;

/** The field table behind a resource definition made by `defineFieldResource`, if any. */
function tableOf(definition: ResourceDefinition): AnyTable | undefined {
  const fields = (definition as { fields?: unknown }).fields;
  return fields && typeof fields === 'object' && 'entries' in fields && 'createSchema' in fields ? (fields as AnyTable) : undefined;
}

const linkage = (type: string): JsonSchema => ({
  type: 'object',
  required: ['type', 'id'],
  properties: { type: { const: type }, id: { type: 'string' } },
});

function relationshipSchema(type: string, many: boolean): JsonSchema {
  return {
    type: 'object',
    properties: { data: many ? { type: 'array', items: linkage(type) } : nullable(linkage(type)) },
  };
}

/**
 * The attributes object of a resource as the API shows it. From a field table every attribute is
 * typed by its field's schema (nullable where the field is); permission-gated attributes are
 * optional, write-only ones absent. A resource defined by name lists only (`defineResource`) gets
 * its names with unconstrained values.
 */
export function attributesSchema(definition: ResourceDefinition): JsonSchema {
  const table = tableOf(definition);
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  if (table) {
    for (const e of table.entries) {
      if (!e.attribute || e.spec.writeOnly) continue;
      const schema = jsonSchemaOf(e.spec.shownSchema ?? e.spec.schema);
      properties[e.attribute] = e.spec.nullable ? nullable(schema) : schema;
      if (!e.spec.visibleTo) required.push(e.attribute);
    }
  }
  // names outside the table (a resource's extra attributes, or all of a name-only definition)
  const tableNames = new Set(table?.attributes ?? []);
  for (const name of definition.attributes) if (!tableNames.has(name)) properties[name] ??= {};
  return { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false };
}

/** A resource object (`{type, id, attributes, relationships}`) as responses carry it. */
export function resourceObjectSchema(definition: ResourceDefinition): JsonSchema {
  const relationships = Object.entries(definition.relationships);
  return {
    type: 'object',
    required: ['type', 'id', 'attributes'],
    properties: {
      type: { const: definition.type },
      id: { type: 'string' },
      attributes: attributesSchema(definition),
      ...(relationships.length
        ? {
            relationships: {
              type: 'object',
              properties: Object.fromEntries(relationships.map(([name, r]) => [name, relationshipSchema(r.type, r.many)])),
              additionalProperties: false,
            },
          }
        : {}),
      links: { type: 'object' },
      meta: { type: 'object' },
    },
  };
}

function writableRelationships(definition: ResourceDefinition): JsonSchema | undefined {
  const relationships = Object.entries(definition.relationships);
  if (!relationships.length) return undefined;
  return { type: 'object', properties: Object.fromEntries(relationships.map(([name, r]) => [name, relationshipSchema(r.type, r.many)])) };
}

/**
 * The request document of Create (`op: 'create'`, no id) or Update (`op: 'update'`, the id of the
 * URL). `data.type` and `data.id` are optional, as `parseResourceDocument` takes them. With a field table the attributes are its `createSchema`/`updateSchema` (the very schemas
 * the routes validate with); otherwise the definition's attribute names.
 */
export function requestDocumentSchema(definition: ResourceDefinition, op: 'create' | 'update'): JsonSchema {
  const table = tableOf(definition);
  let attributes: JsonSchema;
  if (table) attributes = jsonSchemaOf(op === 'create' ? table.createSchema : table.updateSchema);
  else attributes = { type: 'object', properties: Object.fromEntries(definition.attributes.map((n) => [n, {}])) };
  const relationships = writableRelationships(definition);
  return {
    type: 'object',
    required: ['data'],
    properties: {
      data: {
        type: 'object',
        // `type` and `id` may be left out (the Cluvio samples do), but must match when given (409)
        properties: {
          type: { const: definition.type },
          ...(op === 'update' ? { id: { type: 'string' } } : {}),
          attributes,
          ...(relationships ? { relationships } : {}),
        },
      },
    },
  };
}
