import { describe, expect, it } from '@jest/globals';
import { AppErrors, ConflictError, ForbiddenError, BadRequestError, ValidationError } from '@sightline/domain';
import { z } from 'zod';
import { checkQueryParameters, defineResource, errorDocument, parseInclude, parseResourceDocument, serialize, validate } from '../src/index.js';
import { expectValidJsonApi } from '../../../test/support/jsonapi-schema.js';

const reports = defineResource({
  type: 'reports',
  attributes: ['name', 'chart_configuration', 'created_at'],
  relationships: { dashboard: { type: 'dashboards', many: false }, tags: { type: 'tags', many: true } },
});
const dashboards = defineResource({ type: 'dashboards', attributes: ['name'], relationships: {} });

describe('serialize', () => {
  it('emits exactly the allowlisted attributes, nulls as null, undefined omitted, and linkage', () => {
    const doc = serialize(reports, {
      id: 'r1',
      attributes: { name: 'A', secret: 'x', chart_configuration: { xAxis: { camelCase: 1 } }, created_at: null },
      relationships: { dashboard: 'd1', tags: ['t1'] },
    });
    expect(doc).toEqual({
      data: {
        type: 'reports',
        id: 'r1',
        attributes: { name: 'A', chart_configuration: { xAxis: { camelCase: 1 } }, created_at: null },
        relationships: { dashboard: { data: { type: 'dashboards', id: 'd1' } }, tags: { data: [{ type: 'tags', id: 't1' }] } },
      },
    });
    expectValidJsonApi(doc);
  });

  it('serializes lists, empty linkage and de-duplicated includes', () => {
    const doc = serialize(
      reports,
      [
        { id: 'r1', attributes: { name: 'A' }, relationships: { dashboard: 'd1' } },
        { id: 'r2', attributes: { name: 'B' }, relationships: { dashboard: null } },
      ],
      {
        included: [
          {
            definition: dashboards,
            records: [
              { id: 'd1', attributes: { name: 'D' } },
              { id: 'd1', attributes: { name: 'D' } },
            ],
          },
        ],
      },
    );
    expect((doc.data as unknown[]).length).toBe(2);
    expect(doc.included).toEqual([{ type: 'dashboards', id: 'd1', attributes: { name: 'D' } }]);
    expect((doc.data as Array<{ relationships: unknown }>)[1]!.relationships).toEqual({ dashboard: { data: null }, tags: { data: [] } });
    expectValidJsonApi(doc);
    expectValidJsonApi(serialize(reports, []));
  });

  it('omits hidden attributes and relationships', () => {
    const doc = serialize(reports, { id: 'r1', attributes: { name: 'A' } }, { omitAttributes: ['chart_configuration'], omitRelationships: ['tags'] }) as {
      data: { attributes: object; relationships: object };
    };
    expect(Object.keys(doc.data.attributes)).toEqual(['name']);
    expect(Object.keys(doc.data.relationships)).toEqual(['dashboard']);
  });
});

describe('errorDocument', () => {
  it('uses the status as string code and keeps pointers', () => {
    const doc = errorDocument(new AppErrors([new ValidationError('bad name', { source: { pointer: '/data/attributes/name' } }), new ValidationError('bad x')]));
    expect(doc.errors).toHaveLength(2);
    expect(doc.errors![0]).toMatchObject({ code: '422', status: '422', detail: 'bad name', source: { pointer: '/data/attributes/name' } });
    expectValidJsonApi(doc);
  });

  it('lists identical errors once (two checks of one e-mail can fail with the same sentence)', () => {
    const twice = () => new ValidationError('`email` must be an e-mail address', { source: { pointer: '/email' } });
    const doc = errorDocument(new AppErrors([twice(), twice(), new ValidationError('`role` is not valid', { source: { pointer: '/role' } })]));
    expect((doc.errors as Array<{ source?: { pointer?: string } }>).map((e) => e.source?.pointer)).toEqual(['/email', '/role']);
    expectValidJsonApi(doc);
  });
});

describe('parseResourceDocument', () => {
  it('accepts bodies without type and id, as the Cluvio samples send them', () => {
    expect(parseResourceDocument({ data: { attributes: { name: 'x' } } }, reports)).toEqual({ attributes: { name: 'x' }, relationships: {} });
  });

  it('parses to-one and to-many linkage', () => {
    const doc = parseResourceDocument(
      {
        data: {
          type: 'reports',
          attributes: {},
          relationships: {
            dashboard: { data: { type: 'dashboards', id: 'd1' } },
            tags: {
              data: [
                { type: 'tags', id: 'a' },
                { type: 'tags', id: 'a' },
              ],
            },
          },
        },
      },
      reports,
    );
    expect(doc.relationships).toEqual({ dashboard: 'd1', tags: ['a'] });
    expect(parseResourceDocument({ data: { relationships: { dashboard: { data: null } } } }, reports).relationships).toEqual({ dashboard: null });
  });

  it('rejects type and id mismatches with 409, client ids on create with 403', () => {
    expect(() => parseResourceDocument({ data: { type: 'dashboards' } }, reports)).toThrow(ConflictError);
    expect(() => parseResourceDocument({ data: { id: 'x' } }, reports, 'y')).toThrow(ConflictError);
    expect(() => parseResourceDocument({ data: { id: 'x' } }, reports)).toThrow(ForbiddenError);
    expect(parseResourceDocument({ data: { id: 'y', attributes: {} } }, reports, 'y').attributes).toEqual({});
  });

  it('rejects malformed documents with 400 and bad relationships with 422', () => {
    for (const bad of [null, [], 'x', {}, { data: [] }, { data: { attributes: [] } }, { data: {}, extra: 1 }, { data: { weird: 1 } }]) {
      expect(() => parseResourceDocument(bad, reports)).toThrow(BadRequestError);
    }
    for (const bad of [
      { unknown: { data: null } },
      { dashboard: { data: { type: 'users', id: '1' } } },
      { dashboard: { data: [] } },
      { tags: { data: { type: 'tags', id: '1' } } },
      { dashboard: 'd1' },
      { dashboard: { data: { type: 'dashboards', id: 5 } } },
    ]) {
      expect(() => parseResourceDocument({ data: { relationships: bad } }, reports)).toThrow(AppErrors);
    }
  });
});

describe('validate, parseInclude, checkQueryParameters', () => {
  it('maps zod issues to 422 pointers, unknown attributes included', () => {
    const schema = z.object({ name: z.string(), size: z.number().int() }).strict();
    try {
      validate(schema, { name: 5, size: 1.5, extra: true });
      throw new Error('no error');
    } catch (e) {
      const errs = (e as AppErrors).errors;
      expect(errs.map((x) => x.status)).toEqual([422, 422, 422]);
      expect(errs.map((x) => x.source?.pointer).sort()).toEqual(['/data/attributes/extra', '/data/attributes/name', '/data/attributes/size']);
    }
  });

  it("says what is wrong in sentences for a person, never in the validator's words", () => {
    const schema = z
      .object({
        connection_mode: z.enum(['direct', 'ssh_tunnel', 'agent']),
        name: z.string().min(1).max(5),
        port: z.number().int().min(1).max(65535).nullable(),
        tags: z.array(z.string()).max(1),
        email: z.email(),
        kind: z.literal('report'),
        size: z.union([z.string(), z.number()]),
        note: z.string().refine((v) => !v.includes('\u0000'), 'must not contain NUL characters'),
        flag: z.boolean(),
        layout: z.array(z.object({ row: z.number().int().min(1) })),
      })
      .partial()
      .strict()
      .required({ connection_mode: true, name: true });
    const details = (input: unknown, prefix?: string) => {
      try {
        validate(schema, input, prefix);
      } catch (e) {
        return (e as AppErrors).errors.map((x) => x.detail);
      }
      throw new Error('no error');
    };
    expect(details({ name: 'ok' })).toEqual(['`connection_mode` is required; one of direct, ssh_tunnel, agent']);
    expect(details({ connection_mode: 'tcp', name: '' })).toEqual(['`connection_mode` must be one of direct, ssh_tunnel, agent', '`name` must not be empty']);
    expect(
      details({
        connection_mode: 'direct',
        name: 'toolong',
        port: 1.5,
        tags: ['a', 'b'],
        email: 'x',
        kind: 'dash',
        size: true,
        note: 'a\u0000',
        flag: 'yes',
        layout: [{ row: 0 }],
        extra: 1,
      }),
    ).toEqual([
      '`name` must be at most 5 characters long',
      '`port` must be a whole number, not 1.5',
      '`tags` must have at most 1 item',
      '`email` must be an e-mail address',
      '`kind` must be "report"',
      '`size` must be text or a number, not true or false',
      '`note` must not contain NUL characters',
      '`flag` must be true or false, not text',
      '`layout[0].row` must be at least 1',
      '`extra` is not a known attribute',
    ]);
    expect(details({ connection_mode: 'direct', name: 'a', port: 70000 })).toEqual(['`port` must be at most 65535']);
    expect(details('hello', '')).toEqual(['The request body must be an object, not text']);
    expect(details({ connection_mode: 'agent', name: 'a', extra: 1 }, '')).toEqual(['`extra` is not a known member']);
    // no message anywhere speaks the validator's language
    for (const d of details({ connection_mode: 5, name: null, port: 'x', layout: 'x' }))
      expect(d).not.toMatch(/Invalid input|expected|received|nonoptional|Too (small|big)/);
  });

  it('parses include lists against an allowlist', () => {
    expect(parseInclude(undefined, ['a'])).toEqual(new Set());
    expect(parseInclude('a, b', ['a', 'b'])).toEqual(new Set(['a', 'b']));
    expect(() => parseInclude('a,c', ['a', 'b'])).toThrow(/c/);
    expect(() => parseInclude(['a', 'b'], ['a', 'b'])).toThrow(BadRequestError);
    expect(() => parseInclude('a', [])).toThrow(/no "include"/);
  });

  it('rejects unknown query parameters', () => {
    expect(() => checkQueryParameters({ include: 'x' }, ['include'])).not.toThrow();
    expect(() => checkQueryParameters({ sort: 'x' }, ['include'])).toThrow(/sort/);
  });
});
