import { describe, expect, it } from '@jest/globals';
import { defineFields, f } from '@sightline/domain';
import { defineFieldResource, serialize } from '../src/index.js';
import { expectValidJsonApi } from '../../../test/support/jsonapi-schema.js';

// Dashboards: relationships computed per caller are declared without linkage and filled by the presenter.
const boardFields = defineFields({ id: f.id(), organizationId: f.tenant(), name: f.text({ max: 20 }).required(), createdAt: f.createdAt() });
const boardResource = defineFieldResource({
  type: 'boards',
  fields: boardFields,
  relationships: { widgets: { type: 'widgets', many: true }, owner: { type: 'users', many: false, linkage: () => 'u1' } },
});
const board = { id: 'b1', organizationId: 'o1', name: 'B', createdAt: new Date('2026-01-01T00:00:00Z') };

describe('defineFieldResource: relationships without linkage', () => {
  it('are declared, left to the caller of present, and serialized once filled', () => {
    const record = boardResource.present(board);
    expect(record.relationships).toEqual({ owner: 'u1' });
    const doc = serialize(boardResource, { ...record, relationships: { ...record.relationships, widgets: ['w1', 'w2'] } });
    expectValidJsonApi(doc);
    expect((doc.data as { relationships: unknown }).relationships).toEqual({
      widgets: {
        data: [
          { type: 'widgets', id: 'w1' },
          { type: 'widgets', id: 'w2' },
        ],
      },
      owner: { data: { type: 'users', id: 'u1' } },
    });
  });
});
