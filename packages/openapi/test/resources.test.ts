// The OpenAPI schemas of a resource come from its field table: one line there is one property here.
import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { defineFields, f } from '@sightline/domain';
import { defineFieldResource, defineResource } from '@sightline/jsonapi';
import { attributesSchema, requestDocumentSchema, resourceObjectSchema } from '../src/index.js';

const widgetFields = defineFields({
  id: f.id(),
  organizationId: f.tenant(),
  ownerId: f.ref('users'),
  name: f.text({ max: 10 }).required(),
  kind: f.enum(['a', 'b']).default('a'),
  note: f.text({ max: 100 }).nullable(),
  token: f.text({ max: 50 }).nullable().visibleTo('Manage Datasources'),
  pin: f.text({ max: 8 }).nullable().writeOnly(),
  settings: f
    .json(z.object({ x: z.number() }))
    .readOnly()
    .dbDefault(),
  hidden: f.boolean().internal().dbDefault(),
  createdAt: f.createdAt(),
});
const widgets = defineFieldResource({ type: 'widgets', fields: widgetFields });

describe('resource schemas from a field table', () => {
  it('types every shown attribute; gated ones optional, write-only and internal ones absent', () => {
    const schema = attributesSchema(widgets) as { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
    expect(Object.keys(schema.properties)).toEqual(['name', 'kind', 'note', 'token', 'settings', 'created_at']);
    expect(schema.required).toEqual(['name', 'kind', 'note', 'settings', 'created_at']);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.name).toMatchObject({ type: 'string', maxLength: 10 });
    expect(schema.properties.kind).toMatchObject({ enum: ['a', 'b'] });
    expect(schema.properties.note).toEqual({ anyOf: [expect.objectContaining({ type: 'string', maxLength: 100 }), { type: 'null' }] });
    expect(schema.properties.settings).toMatchObject({ type: 'object', properties: { x: { type: 'number' } } });
    expect(schema.properties.created_at).toMatchObject({ type: 'string', format: 'date-time' });
  });

  it('describes relationships and the resource object', () => {
    const object = resourceObjectSchema(widgets) as { properties: Record<string, any> };
    expect(object.properties.type).toEqual({ const: 'widgets' });
    expect(object.properties.relationships.properties.owner.properties.data.anyOf[0].properties.type).toEqual({ const: 'users' });
  });

  it("takes Create and Update attributes from the table's request schemas", () => {
    const create = requestDocumentSchema(widgets, 'create') as any;
    const attributes = create.properties.data.properties.attributes;
    expect(attributes.required).toEqual(['name']);
    // write-only attributes are accepted on writes; read-only ones are accepted (and ignored)
    expect(Object.keys(attributes.properties)).toEqual(expect.arrayContaining(['name', 'kind', 'note', 'token', 'pin', 'settings']));
    expect(attributes.properties).not.toHaveProperty('hidden');
    expect(attributes.additionalProperties).toBe(false);
    const update = requestDocumentSchema(widgets, 'update') as any;
    // type and id may be left out, as the server takes them (the contract test sent such a body and got 200)
    expect(update.properties.data.required).toBeUndefined();
    expect(create.properties.data.required).toBeUndefined();
    expect(update.properties.data.properties).toMatchObject({ type: { const: 'widgets' }, id: { type: 'string' } });
    expect(update.properties.data.properties.attributes.required).toBeUndefined();
  });

  it('shows the wider set of values a field declares with shows(), and accepts only its schema on writes', () => {
    // a user's role: shown as admin too, but never set to it (the contract test found an admin's role outside the enum)
    const members = defineFieldResource({
      type: 'members',
      fields: defineFields({ id: f.id(), organizationId: f.tenant(), role: f.enum(['analyst', 'viewer']).shows(z.enum(['analyst', 'viewer', 'admin'])) }),
    });
    expect((attributesSchema(members) as any).properties.role).toMatchObject({ enum: ['analyst', 'viewer', 'admin'] });
    expect((requestDocumentSchema(members, 'update') as any).properties.data.properties.attributes.properties.role).toMatchObject({
      enum: ['analyst', 'viewer'],
    });
  });

  it('lists the names of a resource defined without a field table, unconstrained', () => {
    const plain = defineResource({ type: 'things', attributes: ['a', 'b'], relationships: {} });
    expect(attributesSchema(plain)).toEqual({ type: 'object', properties: { a: {}, b: {} }, additionalProperties: false });
  });
});
