import { describe, expect, it } from '@jest/globals';
import { AppErrors, ValidationError, defineFields, f, type RecordOf } from '@sightline/domain';
import { defineFieldResource, parseResourceDocument, readInput, serialize } from '../src/index.js';
import { expectValidJsonApi } from '../../../test/support/jsonapi-schema.js';

const agentFields = defineFields({
  id: f.id(),
  organizationId: f.tenant(),
  name: f.text({ max: 20 }).required(),
  enabled: f.boolean().default(true),
  host: f.text({ max: 20 }).nullable().visibleTo('Manage Datasources'),
  ownerId: f.ref('users').nullable(),
  datasourceIds: f.refs('datasources'),
  createdAt: f.createdAt(),
});
const agents = defineFieldResource({
  type: 'datasource_agents',
  fields: agentFields,
  relationships: { sessions: { type: 'agent_sessions', many: true, linkage: () => [] } },
  extraAttributes: ['secret_key'],
});
const agent: RecordOf<typeof agentFields> = {
  id: 'a1',
  organizationId: 'o1',
  name: 'Edge',
  enabled: true,
  host: '10.0.0.1',
  ownerId: null,
  datasourceIds: ['d1'],
  createdAt: new Date('2026-01-01T00:00:00Z'),
};

describe('defineFieldResource', () => {
  it('derives the allowlist and relationships from the table and presents records', () => {
    expect(agents.attributes).toEqual(['name', 'enabled', 'host', 'created_at', 'secret_key']);
    expect(agents.relationships).toEqual({
      owner: { type: 'users', many: false },
      datasources: { type: 'datasources', many: true },
      sessions: { type: 'agent_sessions', many: true },
    });
    const doc = serialize(agents, agents.present(agent));
    expect(doc).toEqual({
      data: {
        type: 'datasource_agents',
        id: 'a1',
        attributes: { name: 'Edge', enabled: true, created_at: '2026-01-01T00:00:00.000Z' },
        relationships: { owner: { data: null }, datasources: { data: [{ type: 'datasources', id: 'd1' }] }, sessions: { data: [] } },
      },
    });
    expectValidJsonApi(doc);
    expect(agents.present(agent, (p) => p === 'Manage Datasources').attributes.host).toBe('10.0.0.1');
    expect(agents.hiddenAttributes()).toEqual(['host']);
    // an extra attribute appears only where a route adds it
    const created = agents.present(agent);
    const withSecret = serialize(agents, { ...created, attributes: { ...created.attributes, secret_key: 's3cr3t' } });
    expect((withSecret.data as { attributes: Record<string, unknown> }).attributes.secret_key).toBe('s3cr3t');
  });

  it('refuses extra names the table already defines', () => {
    expect(() => defineFieldResource({ type: 'x', fields: agentFields, extraAttributes: ['name'] })).toThrow(/"name" is already defined/);
  });
});

const body = (attributes: Record<string, unknown>, relationships: Record<string, unknown> = {}) =>
  parseResourceDocument({ data: { type: 'datasource_agents', attributes, relationships } }, agents);
const errorsOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    const list = err instanceof AppErrors ? err.errors : [err as ValidationError];
    return list.map((e) => [e.status, e.source?.pointer]);
  }
  throw new Error('expected an error');
};

describe('readInput', () => {
  it('yields typed input by domain key from attributes and relationships', () => {
    const input = readInput(
      body({ name: 'Edge', created_at: 'echoed' }, { owner: { data: { type: 'users', id: 'u1' } }, datasources: { data: [] } }),
      agentFields,
      'create',
    );
    expect(input).toEqual({ name: 'Edge', ownerId: 'u1', datasourceIds: [] });
    const name: string = input.name;
    expect(name).toBe('Edge');
    expect(readInput(body({ enabled: false }, { owner: { data: null } }), agentFields, 'update')).toEqual({ enabled: false, ownerId: null });
  });

  it('answers 422 with pointers for invalid, unknown and missing attributes', () => {
    expect(errorsOf(() => readInput(body({ enabled: 'yes', bogus: 1 }), agentFields, 'create'))).toEqual([
      [422, '/data/attributes/name'],
      [422, '/data/attributes/enabled'],
      [422, '/data/attributes/bogus'],
    ]);
    expect(errorsOf(() => readInput(body({ name: 'x'.repeat(21) }), agentFields, 'update'))).toEqual([[422, '/data/attributes/name']]);
    expect(errorsOf(() => readInput(body({ secret_key: 'x' }), agentFields, 'update'))).toEqual([[422, '/data/attributes/secret_key']]);
  });
});
