import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { defineFields, f, type RecordOf } from '../../src/fields/index.js';

// The properties phase 2 of issue 10 added for users, api_keys, filters, sharing links and dashboards.
type Grant = { permission: string; scope: string | null };
const grants = z
  .array(z.object({ name: z.string(), scope: z.string().nullable() }).strict())
  .transform((list) => list.map((g): Grant => ({ permission: g.name, scope: g.scope })));

const fields = defineFields({
  id: f.id(),
  organizationId: f.tenant(),
  title: f.text({ max: 20 }).required(),
  /** Shown, never accepted on writes. */
  email: f.text({ max: 50 }).outputOnly(),
  /** JSON form `{ name, scope }`, domain form `{ permission, scope }`, not stored in the row. */
  grants: f
    .value(grants)
    .column(false)
    .default([])
    .shownAs((list) => list.map((g) => ({ name: g.permission, scope: g.scope }))),
  /** Column holds `{ n }`, domain holds a number. */
  size: f
    .value(z.number().int())
    .default(1)
    .storedAs(
      (n) => JSON.stringify({ n }),
      (column: { n: number }) => column.n,
    ),
  /** Not shown, but backed up. */
  options: f.json(z.array(z.string())).nullable().writeOnly({ backup: true }),
  /** Not in the API, but backed up. */
  mode: f.enum(['on', 'off']).default('off').internal({ backup: true }),
  secret: f.text({ max: 10 }).nullable().internal(),
  createdAt: f.createdAt().outputOnly(),
});
type Thing = RecordOf<typeof fields>;

const thing: Thing = {
  id: 't1',
  organizationId: 'o1',
  title: 'A',
  email: 'a@example.com',
  grants: [{ permission: 'read', scope: null }],
  size: 3,
  options: ['x'],
  mode: 'on',
  secret: 's',
  createdAt: new Date('2026-01-02T03:04:05Z'),
};

describe('field properties', () => {
  it('outputOnly: shown, but naming it on create or update is an unknown attribute', () => {
    expect(fields.toAttributes(thing)).toMatchObject({ email: 'a@example.com', created_at: '2026-01-02T03:04:05.000Z' });
    expect(fields.createSchema.safeParse({ title: 'A', email: 'x' }).success).toBe(false);
    expect(fields.updateSchema.safeParse({ created_at: '2026-01-02T03:04:05Z' }).success).toBe(false);
    expect(fields.updateSchema.safeParse({ title: 'B' }).success).toBe(true);
  });

  it('shownAs: the schema reads the JSON form, the presenter and backups write it', () => {
    const parsed = fields.createSchema.parse({ title: 'A', grants: [{ name: 'read', scope: 'ds1' }] });
    expect(parsed.grants).toEqual([{ permission: 'read', scope: 'ds1' }]);
    expect(fields.toAttributes(thing).grants).toEqual([{ name: 'read', scope: null }]);
    expect(fields.toBackup(thing).grants).toEqual([{ name: 'read', scope: null }]);
    expect(fields.toColumns(thing)).not.toHaveProperty('grants');
    expect(fields.prepareCreate({ title: 'A' }).grants).toEqual([]);
  });

  it('storedAs: the column form differs from the domain form both ways', () => {
    expect(fields.toColumns({ size: 3 })).toEqual({ size: '{"n":3}' });
    expect(
      fields.fromRow({
        id: 't1',
        organization_id: 'o1',
        title: 'A',
        email: 'e',
        size: { n: 4 } as never,
        options: null,
        mode: 'on',
        secret: null,
        created_at: new Date(),
      }).size,
    ).toBe(4);
  });

  it('writeOnly({ backup: true }) and internal({ backup: true }) keep the value in backups and copies only', () => {
    const attributes = fields.toAttributes(thing);
    expect(attributes).not.toHaveProperty('options');
    expect(attributes).not.toHaveProperty('mode');
    expect(fields.hiddenAttributes()).toContain('options');
    const backup = fields.toBackup(thing);
    expect(backup).toMatchObject({ options: ['x'], mode: 'on' });
    expect(backup).not.toHaveProperty('secret');
    expect(fields.copyOf(thing)).toMatchObject({ options: ['x'], mode: 'on' });
    expect(fields.createSchema.safeParse({ title: 'A', mode: 'on' }).success).toBe(false);
    expect(fields.createSchema.parse({ title: 'A', options: ['y'] })).toEqual({ title: 'A', options: ['y'] });
  });
});
