import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { AppErrors, ValidationError } from '../../src/errors.js';
import {
  defineFields,
  f,
  sealerFor,
  type CreateInputOf,
  type NewRecordOf,
  type PatchOf,
  type RecordOf,
  type RowOf,
  type UpdateInputOf,
} from '../../src/fields/index.js';

// ---- type-level helpers: a wrong inferred type fails `tsc` (which `npm test` runs first) ----
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Flat<T> = { [K in keyof T]: T[K] };
function assertType<_T extends true>(): void {}

type Kind = 'a' | 'b';
const widgetFields = defineFields({
  id: f.id(),
  organizationId: f.tenant(),
  ownerId: f.ref('users'),
  tagIds: f.refs('tags'),
  parentId: f.ref('widgets', 'parent_widget').nullable().optional(),
  name: f.text({ max: 10 }).required(),
  kind: f.enum<Kind>(['a', 'b']).default('a'),
  note: f.text({ max: 100 }).nullable(),
  size: f.integer(1, 10).default((draft: { kind?: Kind }) => (draft.kind === 'b' ? 2 : 1)),
  /** Forced on for kind b. */
  locked: f
    .boolean()
    .default(false)
    .coerce((r: { kind?: Kind }) => (r.kind === 'b' ? true : undefined)),
  token: f.text({ max: 50 }).nullable().column('token_enc').sealed().visibleTo('Manage Datasources'),
  pin: f.text({ max: 8 }).nullable().writeOnly(),
  settings: f
    .json(z.object({ x: z.number() }))
    .readOnly()
    .dbDefault(),
  hidden: f.boolean().internal().dbDefault(),
  apiName: f.integer(0, 5).api('renamed').nullable().notInBackup(),
  slot: f.integer(1, 9).default(1).unchangedOnUpdate('moves only through the slots endpoint'),
  createdAt: f.createdAt(),
  updatedAt: f.updatedAt(),
});
type Widget = RecordOf<typeof widgetFields>;

describe('field table: types', () => {
  it('infers the domain record, row and inputs from the table', () => {
    assertType<
      Equal<
        Flat<Widget>,
        {
          id: string;
          organizationId: string;
          ownerId: string;
          tagIds: string[];
          parentId: string | null;
          name: string;
          kind: Kind;
          note: string | null;
          size: number;
          locked: boolean;
          token: string | null;
          pin: string | null;
          settings: { x: number };
          hidden: boolean;
          apiName: number | null;
          slot: number;
          createdAt: Date;
          updatedAt: Date;
        }
      >
    >();
    assertType<
      Equal<
        Flat<RowOf<typeof widgetFields>>,
        {
          id: string;
          organization_id: string;
          owner_id: string;
          parent_id: string | null;
          name: string;
          kind: Kind;
          note: string | null;
          size: number;
          locked: boolean;
          token_enc: string | null;
          pin: string | null;
          settings: { x: number };
          hidden: boolean;
          api_name: number | null;
          slot: number;
          created_at: Date;
          updated_at: Date;
        }
      >
    >();
    assertType<
      Equal<
        Flat<CreateInputOf<typeof widgetFields>>,
        {
          ownerId: string;
          name: string;
          tagIds?: string[];
          parentId?: string | null;
          kind?: Kind;
          note?: string | null;
          size?: number;
          locked?: boolean;
          token?: string | null;
          pin?: string | null;
          apiName?: number | null;
          slot?: number;
        }
      >
    >();
    assertType<
      Equal<
        Flat<UpdateInputOf<typeof widgetFields>>,
        {
          ownerId?: string;
          tagIds?: string[];
          parentId?: string | null;
          name?: string;
          kind?: Kind;
          note?: string | null;
          size?: number;
          locked?: boolean;
          token?: string | null;
          pin?: string | null;
          apiName?: number | null;
        }
      >
    >();
    // the database fills nullable and DEFAULT columns; everything else must be given
    assertType<
      Equal<
        Flat<NewRecordOf<typeof widgetFields>>,
        {
          id: string;
          organizationId: string;
          ownerId: string;
          name: string;
          kind: Kind;
          size: number;
          locked: boolean;
          slot: number;
          parentId?: string | null;
          note?: string | null;
          token?: string | null;
          pin?: string | null;
          settings?: { x: number };
          hidden?: boolean;
          apiName?: number | null;
          createdAt?: Date;
          updatedAt?: Date;
        }
      >
    >();
    // ids, the tenant and the creation time never change; to-many ids have no column
    type PatchKeys = keyof PatchOf<typeof widgetFields>;
    assertType<Equal<Extract<PatchKeys, 'id' | 'organizationId' | 'createdAt' | 'tagIds'>, never>>();
    const prepared = widgetFields.prepareCreate({ ownerId: 'u', name: 'n' });
    assertType<Equal<typeof prepared.size, number>>();
    expect(prepared.size).toBe(1);
  });

  it('rejects tables whose rules read fields they lack, sealed non-text, and unsealed mapping of sealed tables', () => {
    // @ts-expect-error `default` reads `missing`, which the table does not have
    defineFields({ id: f.id(), a: f.integer(0, 1).default((d: { missing?: string }) => (d.missing ? 1 : 0)) });
    // @ts-expect-error `coerce` reads `b` (which exists) and `missing` (which does not)
    defineFields({ id: f.id(), b: f.boolean(), a: f.integer(0, 1).coerce((d: { b?: boolean; missing?: string }) => (d.b && d.missing ? 1 : 0)) });
    // @ts-expect-error `coerce` reads `b` as a string, but it is a boolean
    defineFields({ id: f.id(), b: f.boolean(), a: f.integer(0, 1).coerce((d: { b?: string }) => (d.b ? 1 : 0)) });
    // @ts-expect-error only text can be sealed
    f.integer(0, 1).sealed();
    const row = { token_enc: 'sealed' } as RowOf<typeof widgetFields>;
    // @ts-expect-error a table with sealed fields maps rows only with a Sealer
    expect(() => widgetFields.fromRow(row)).toThrow(/sealed/);
  });
});

describe('field table: names', () => {
  it('derives columns, attribute names and relationships from the keys', () => {
    expect(widgetFields.attributes).toEqual([
      'name',
      'kind',
      'note',
      'size',
      'locked',
      'token',
      'pin',
      'settings',
      'renamed',
      'slot',
      'created_at',
      'updated_at',
    ]);
    expect(widgetFields.relationships).toEqual({
      owner: { type: 'users', many: false },
      tags: { type: 'tags', many: true },
      parent_widget: { type: 'widgets', many: false },
    });
    expect(widgetFields.entries.find((e) => e.key === 'token')?.column).toBe('token_enc');
    expect(widgetFields.entries.find((e) => e.key === 'tagIds')?.column).toBeUndefined();
  });

  it('fails at definition for a missing id or a name used twice', () => {
    expect(() => defineFields({ name: f.text({ max: 1 }) })).toThrow(/exactly one f.id/);
    expect(() => defineFields({ id: f.id(), a: f.boolean().api('b'), b: f.boolean() })).toThrow(/"b" twice/);
  });
});

const KEY = Buffer.alloc(32, 3);
const sealer = sealerFor(KEY);
const now = new Date('2026-01-02T03:04:05.000Z');
const widget = (over: Partial<Widget> = {}): Widget => ({
  id: 'w1',
  organizationId: 'o1',
  ownerId: 'u1',
  tagIds: ['t1'],
  parentId: null,
  name: 'n',
  kind: 'a',
  note: null,
  size: 1,
  locked: false,
  token: 'tok',
  pin: '1234',
  settings: { x: 1 },
  hidden: false,
  apiName: 3,
  slot: 2,
  createdAt: now,
  updatedAt: now,
  ...over,
});

describe('field table: rows', () => {
  it('maps domain values to columns (sealing, JSON text) and back', () => {
    const { tagIds: _t, ...stored } = widget();
    const columns = widgetFields.toColumns(stored, sealer);
    expect(columns).toMatchObject({ id: 'w1', organization_id: 'o1', owner_id: 'u1', name: 'n', settings: '{"x":1}', api_name: 3, created_at: now });
    expect(columns).not.toHaveProperty('tag_ids');
    expect(columns.token_enc).not.toContain('tok');
    const row = { ...columns, settings: { x: 1 } } as unknown as RowOf<typeof widgetFields>;
    expect(widgetFields.fromRow(row, sealer)).toEqual(stored);
    // a value sealed with another key reads as null instead of failing
    expect(widgetFields.fromRow(row, sealerFor(Buffer.alloc(32, 4))).token).toBeNull();
    // undefined leaves a column out (patches); null clears it
    expect(widgetFields.toColumns({ note: null, name: undefined }, sealer)).toEqual({ note: null });
  });
});

describe('field table: create and update rules', () => {
  it('fills defaults in table order, then coerces', () => {
    expect(widgetFields.prepareCreate({ ownerId: 'u', name: 'n' })).toEqual({
      ownerId: 'u',
      name: 'n',
      parentId: null,
      kind: 'a',
      note: null,
      size: 1,
      locked: false,
      token: null,
      pin: null,
      apiName: null,
      slot: 1,
    });
    // the size default and the locked rule read the kind; an explicit value wins over a default, not over a rule
    expect(widgetFields.prepareCreate({ ownerId: 'u', name: 'n', kind: 'b', locked: false })).toMatchObject({ size: 2, locked: true });
    expect(widgetFields.prepareCreate({ ownerId: 'u', name: 'n', kind: 'b', size: 5 })).toMatchObject({ size: 5 });
  });

  it('coerces updates against the current record, adding only changes', () => {
    expect(widgetFields.prepareUpdate({ kind: 'b' }, widget())).toEqual({ kind: 'b', locked: true });
    expect(widgetFields.prepareUpdate({ locked: false }, widget({ kind: 'b', locked: true }))).toEqual({ locked: true });
    expect(widgetFields.prepareUpdate({ name: 'x', note: undefined }, widget({ kind: 'b', locked: true }))).toEqual({ name: 'x' });
  });
});

function issuesOf(schema: z.ZodType, input: unknown): Array<{ path: string; code: string; message: string }> {
  const parsed = schema.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((i) => ({ path: i.path.join('.'), code: i.code, message: i.message }));
}

describe('field table: request schemas', () => {
  it('validates create attributes by API name and yields domain keys', () => {
    const out = widgetFields.createSchema.parse({ name: 'n', renamed: 2, note: null, settings: 'echoed', created_at: 'x', slot: 3 });
    expect(out).toEqual({ name: 'n', apiName: 2, note: null, slot: 3 });
    expect(issuesOf(widgetFields.createSchema, {})).toEqual([
      { path: 'name', code: 'invalid_type', message: 'Invalid input: expected nonoptional, received undefined' },
    ]);
    expect(issuesOf(widgetFields.createSchema, { name: 'n', apiName: 1, hidden: true, owner_id: 'x' })).toEqual([
      expect.objectContaining({ code: 'unrecognized_keys', path: '' }),
    ]);
    expect(issuesOf(widgetFields.createSchema, { name: 'a\u0000', kind: 'c', size: 11, locked: null }).map((i) => i.path)).toEqual([
      'name',
      'kind',
      'size',
      'locked',
    ]);
  });

  it('validates update attributes: nothing required, unchanged ones accepted for a later check', () => {
    expect(widgetFields.updateSchema.parse({ slot: 'anything', updated_at: 1 })).toEqual({});
    expect(widgetFields.updateSchema.parse({ token: null, pin: '9' })).toEqual({ token: null, pin: '9' });
    expect(issuesOf(widgetFields.updateSchema, { name: null })).toEqual([expect.objectContaining({ path: 'name', code: 'invalid_type' })]);
  });

  it('reads relationships, requiring the required ones', () => {
    expect(widgetFields.readRelationships({ owner: 'u2', tags: ['t1', 't2'] }, 'create')).toEqual({ ownerId: 'u2', tagIds: ['t1', 't2'] });
    // an optional, nullable to-one may be absent on create and null on update
    expect(widgetFields.readRelationships({ owner: 'u2', parent_widget: null }, 'create')).toEqual({ ownerId: 'u2', parentId: null });
    expect(widgetFields.readRelationships({ parent_widget: null }, 'update')).toEqual({ parentId: null });
    expect(widgetFields.readRelationships({}, 'update')).toEqual({});
    for (const [linkage, op] of [
      [{}, 'create'],
      [{ owner: null }, 'update'],
    ] as const) {
      try {
        widgetFields.readRelationships(linkage, op as 'create');
        throw new Error('expected a ValidationError');
      } catch (err) {
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).source).toEqual({ pointer: '/data/relationships/owner' });
      }
    }
  });

  it('accepts unchanged-on-update attributes only with their current value', () => {
    expect(() => widgetFields.assertUnchanged({ slot: 2, name: 'x' }, widget())).not.toThrow();
    try {
      widgetFields.assertUnchanged({ slot: 3 }, widget());
      throw new Error('expected a ValidationError');
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect(err).not.toBeInstanceOf(AppErrors);
      const e = err as ValidationError;
      expect([e.status, e.code, e.detail, e.source]).toEqual([
        422,
        'read_only_attribute',
        '"slot" moves only through the slots endpoint',
        { pointer: '/data/attributes/slot' },
      ]);
    }
  });
});

describe('field table: presentation and backups', () => {
  it('shows attributes as JSON, gated ones only to callers with the permission, write-only ones never', () => {
    const shown = widgetFields.toAttributes(widget(), (p) => p === 'Manage Datasources');
    expect(Object.keys(shown)).toEqual(widgetFields.attributes.filter((a) => a !== 'pin'));
    expect(shown).toMatchObject({ token: 'tok', renamed: 3, created_at: '2026-01-02T03:04:05.000Z', settings: { x: 1 } });
    expect(widgetFields.toAttributes(widget())).not.toHaveProperty('token');
    expect(widgetFields.hiddenAttributes()).toEqual(['token', 'pin']);
    expect(widgetFields.hiddenAttributes(() => true)).toEqual(['pin']);
    expect(widgetFields.linkage(widget({ parentId: 'w0' }))).toEqual({ owner: 'u1', tags: ['t1'], parent_widget: 'w0' });
    expect(widgetFields.idOf(widget())).toBe('w1');
  });

  it('copies and backs up content, never secrets, tenants or server state', () => {
    expect(widgetFields.copyOf(widget())).toEqual({
      ownerId: 'u1',
      tagIds: ['t1'],
      parentId: null,
      name: 'n',
      kind: 'a',
      note: null,
      size: 1,
      locked: false,
      settings: { x: 1 },
      slot: 2,
    });
    const backup = widgetFields.toBackup(widget());
    expect(backup).toEqual({
      id: 'w1',
      owner_id: 'u1',
      tag_ids: ['t1'],
      parent_id: null,
      name: 'n',
      kind: 'a',
      note: null,
      size: 1,
      locked: false,
      settings: { x: 1 },
      slot: 2,
    });
    expect(Object.keys(backup)).toEqual(['id', 'owner_id', 'tag_ids', 'parent_id', 'name', 'kind', 'note', 'size', 'locked', 'settings', 'slot']);
  });
});
