import { z } from 'zod';
import type { Permission } from '../api-keys/permissions.js';
import { nulFreeText } from './schemas.js';

/**
 * How a field takes part in Create through the API:
 * - `required`: the client must send it;
 * - `optional`: the client may send it, else the field's default applies;
 * - `ignored`: accepted with any value (clients echo GET documents) and dropped (server-set);
 * - `none`: not an API input at all (internal fields, ids); sending it is an unknown attribute.
 */
export type CreateMode = 'required' | 'optional' | 'ignored' | 'none';

/**
 * How a field takes part in Update through the API: `optional` (may change), `ignored` (accepted,
 * dropped), `unchanged` (accepted only when equal to the current value, else 422
 * `read_only_attribute`), `none` (not an API input).
 */
export type UpdateMode = 'optional' | 'ignored' | 'unchanged' | 'none';

/**
 * Type-level facts about one field. They exist only in the type system (a phantom on `Field`) and
 * drive the inferred record, row and input types of a field table.
 */
export interface FieldTypes {
  /** Domain value (includes `null` when nullable). */
  value: unknown;
  /** Column name: a literal, `false` (no column), or `undefined` (snake_case of the key). */
  column: string | false | undefined;
  /** API attribute name: a literal, `false` (not an attribute), or `undefined` (snake_case of the key). */
  api: string | false | undefined;
  create: CreateMode;
  update: UpdateMode;
  /** Create fills the value when the client omits it (a `default`, or null for nullable fields). */
  defaulted: boolean;
  /** The database fills the column on insert (`DEFAULT` / nullable), so an insert may omit it. */
  dbDefault: boolean;
  /** The column holds ciphertext: mapping needs a `Sealer`. */
  sealed: boolean;
  /** Never changes after insert (ids, the tenant, creation time): not part of patches. */
  immutable: boolean;
  /** Part of backups and copies (Duplicate). */
  backup: boolean;
  /** The record shape this field's `default`/`coerce` functions read (checked against the table). */
  reads: unknown;
}

/** `T` with the facts in `P` replaced. */
export type With<T extends FieldTypes, P extends Partial<FieldTypes>> = {
  [K in keyof FieldTypes]: K extends keyof P ? P[K] : T[K];
};

/** Conversions of one field's value between the domain, the database column and JSON. */
export interface FieldCodec {
  /** Domain value → the JSON value of API documents and backups. */
  toJson(value: unknown): unknown;
  /** Domain value → column value (only for non-null values). */
  toColumn(value: unknown): unknown;
  /** Column value → domain value (only for non-null values). */
  fromColumn(value: unknown): unknown;
}

/** A to-one (`many: false`, the column holds the id) or to-many (ids loaded by the repository) relationship. */
export interface FieldRelationship {
  /** JSON:API relationship name; derived from the key when absent (`datasourceId` → `datasource`, `sqlSnippetIds` → `sql_snippets`). */
  name?: string;
  /** JSON:API type of the related resources. */
  type: string;
  many: boolean;
}

/** Run-time description of one field (what `Field`'s methods build up). */
export interface FieldSpec {
  /** Validates an API input value (non-null) and yields the domain value. Also the basis of the OpenAPI schema. */
  readonly schema: z.ZodType;
  /**
   * The values the API shows, when wider than what writes accept (a user's `role` is shown as
   * `admin` but cannot be set to it); the OpenAPI response schemas use it. Default: `schema`.
   */
  readonly shownSchema?: z.ZodType;
  readonly nullable: boolean;
  readonly column: string | false | undefined;
  readonly api: string | false | undefined;
  readonly create: CreateMode;
  readonly update: UpdateMode;
  /** Default on create: a value, or computed from the draft record (earlier fields are final). */
  readonly default?: { readonly value: unknown } | { readonly compute: (draft: never) => unknown };
  readonly dbDefault: boolean;
  readonly sealed: boolean;
  readonly immutable: boolean;
  readonly backup: boolean;
  /** Shown only to callers holding this permission (for the record at hand). */
  readonly visibleTo?: Permission;
  /** Accepted on writes, never shown. */
  readonly writeOnly: boolean;
  /** Rewrites the value from the whole record on create and update (`undefined` = leave it). */
  readonly coerce?: (record: never) => unknown;
  /** Why an `unchanged` field cannot change (completes `"<name>" …`). */
  readonly unchangedHint?: string;
  readonly relationship?: FieldRelationship;
  /** The JSON:API resource id (exactly one per table). */
  readonly isId: boolean;
  readonly codec: FieldCodec;
}

const IDENTITY: FieldCodec = { toJson: (v) => v, toColumn: (v) => v, fromColumn: (v) => v };

const BASE: Omit<FieldSpec, 'schema'> = {
  nullable: false,
  column: undefined,
  api: undefined,
  create: 'optional',
  update: 'optional',
  dbDefault: false,
  sealed: false,
  immutable: false,
  backup: true,
  writeOnly: false,
  isId: false,
  codec: IDENTITY,
};

/** Type facts of a plain writable field of domain type `V`. */
export type PlainField<V> = {
  value: V;
  column: undefined;
  api: undefined;
  create: 'optional';
  update: 'optional';
  defaulted: false;
  dbDefault: false;
  sealed: false;
  immutable: false;
  backup: true;
  reads: unknown;
};

/**
 * One line of a field table: the value's schema plus how it is stored, shown, written, defaulted,
 * protected and backed up. Immutable: every method returns a new field. Unless told otherwise a
 * field is a non-null API attribute writable on create (optional) and update, stored in the column
 * and shown under the API name that are both the snake_case of its key, and part of backups.
 */
export class Field<T extends FieldTypes = FieldTypes> {
  /** Phantom carrying the type-level facts; never set at run time. */
  declare readonly types: T;

  constructor(readonly spec: FieldSpec) {}

  private with<U extends FieldTypes>(patch: Partial<FieldSpec>): Field<U> {
    return new Field<U>({ ...this.spec, ...patch });
  }

  /** The value may be null; null is then also its default on create (unless another default is set). */
  nullable(): Field<With<T, { value: T['value'] | null; defaulted: true; dbDefault: true }>> {
    return this.with({ nullable: true, dbDefault: true, default: this.spec.default ?? { value: null } });
  }

  /** Create must send it. */
  required(): Field<With<T, { create: 'required' }>> {
    return this.with({ create: 'required' });
  }

  /** Create may omit it (already so for attributes; `f.ref` relationships are required unless made optional). */
  optional(): Field<With<T, { create: 'optional' }>> {
    return this.with({ create: 'optional' });
  }

  /** Set by the server: accepted with any value on create and update (clients echo GET documents) and ignored. */
  readOnly(): Field<With<T, { create: 'ignored'; update: 'ignored' }>> {
    return this.with({ create: 'ignored', update: 'ignored' });
  }

  /**
   * Shown, never accepted: a Create or Update naming it is an unknown attribute (422). For resources
   * whose writes have always refused echoed values (`users`, `user_groups`); prefer `readOnly()`.
   */
  outputOnly(): Field<With<T, { create: 'none'; update: 'none' }>> {
    return this.with({ create: 'none', update: 'none' });
  }

  /**
   * Update accepts the attribute only with its current value; any other value is a 422
   * `read_only_attribute` whose detail is `"<api name>" <hint>`.
   */
  unchangedOnUpdate(hint: string): Field<With<T, { update: 'unchanged' }>> {
    return this.with({ update: 'unchanged', unchangedHint: hint });
  }

  /**
   * The value Create uses when the client omits the attribute: a constant, or a function of the draft
   * record (the client's input with the defaults and coercions of earlier fields applied). A
   * function's parameter type is checked against the table by `defineFields`.
   */
  default(value: T['value']): Field<With<T, { defaulted: true }>>;
  default<R>(compute: (draft: R) => T['value']): Field<With<T, { defaulted: true; reads: T['reads'] & R }>>;
  default(value: unknown): Field<FieldTypes> {
    return this.with(typeof value === 'function' ? { default: { compute: value as (draft: never) => unknown } } : { default: { value } });
  }

  /** The database fills the column when an insert omits it (a `DEFAULT` in the migration). */
  dbDefault(): Field<With<T, { dbDefault: true }>> {
    return this.with({ dbDefault: true });
  }

  /** Stored in this column instead of the snake_case of the key; `false`: not stored in the row. */
  column<const C extends string | false>(name: C): Field<With<T, { column: C }>> {
    return this.with({ column: name });
  }

  /** Shown and accepted under this attribute name instead of the snake_case of the key. */
  api<const A extends string>(name: A): Field<With<T, { api: A }>> {
    return this.with({ api: name });
  }

  /**
   * Not part of the API (neither shown nor accepted); the domain and the row only. Not in backups
   * either, unless `{ backup: true }` (state a restore needs, e.g. a dashboard's share mode).
   */
  internal<const B extends boolean = false>(options?: { backup: B }): Field<With<T, { api: false; create: 'none'; update: 'none'; backup: B }>> {
    return this.with({ api: false, create: 'none', update: 'none', backup: options?.backup ?? false });
  }

  /**
   * The column stores the value sealed (AES-256-GCM, `crypto/secrets.ts`); the repository maps rows
   * with a `Sealer`. Sealed values never go into backups.
   */
  sealed(this: Field<T & { value: string | null }>): Field<With<T, { sealed: true; backup: false }>> {
    return this.with({ sealed: true, backup: false });
  }

  /** Shown only to callers with `permission` on the record (the presenter asks); never in backups. */
  visibleTo(permission: Permission): Field<With<T, { backup: false }>> {
    return this.with({ visibleTo: permission, backup: false });
  }

  /**
   * Accepted on create/update, never shown (e.g. a secret set once); never in backups unless
   * `{ backup: true }` (a value that is merely not part of the resource's documents, e.g. a filter's
   * option values, read through another route).
   */
  writeOnly<const B extends boolean = false>(options?: { backup: B }): Field<With<T, { backup: B }>> {
    return this.with({ writeOnly: true, backup: options?.backup ?? false });
  }

  /**
   * How a non-null value appears in API documents and backups when its JSON form differs from the
   * domain form (the field's schema reads the JSON form and yields the domain one).
   */
  shownAs(toJson: (value: Exclude<T['value'], null>) => unknown): Field<T> {
    return this.with({ codec: { ...this.spec.codec, toJson: toJson as (value: unknown) => unknown } });
  }

  /**
   * Shown values may be any of `schema`'s, a wider set than writes accept (the field's schema): the
   * response schemas of the OpenAPI description say so, so a shown value never contradicts them.
   */
  shows(schema: z.ZodType): Field<T> {
    return this.with({ shownSchema: schema });
  }

  /**
   * How a non-null value is stored when its column form differs from the domain form (jsonb: the
   * column value is JSON text; `fromColumn` reads what the driver returns).
   */
  storedAs(toColumn: (value: Exclude<T['value'], null>) => unknown, fromColumn: (column: never) => Exclude<T['value'], null>): Field<T> {
    return this.with({
      codec: { ...this.spec.codec, toColumn: toColumn as (value: unknown) => unknown, fromColumn: fromColumn as (value: unknown) => unknown },
    });
  }

  /** Left out of backups and copies (Duplicate). */
  notInBackup(): Field<With<T, { backup: false }>> {
    return this.with({ backup: false });
  }

  /**
   * A rule that rewrites the value from the whole record, on create (after defaults) and on update
   * (on the current record merged with the change). Return `undefined` to leave the value as it is.
   * Fields are processed in table order, so a rule sees the final values of earlier fields.
   */
  coerce<R>(rule: (record: R) => T['value'] | undefined): Field<With<T, { reads: T['reads'] & R }>> {
    return this.with({ coerce: rule as (record: never) => unknown });
  }
}

function make<T extends FieldTypes>(schema: z.ZodType, patch: Partial<FieldSpec> = {}): Field<T> {
  return new Field<T>({ ...BASE, schema, ...patch });
}

const TIMESTAMP: FieldCodec = {
  toJson: (v) => (v instanceof Date ? v.toISOString() : v),
  toColumn: (v) => v,
  fromColumn: (v) => v,
};

const JSON_CODEC: FieldCodec = {
  toJson: (v) => v,
  // pg would send a JS array as a PostgreSQL array literal: jsonb gets JSON text
  toColumn: (v) => JSON.stringify(v),
  fromColumn: (v) => v,
};

type ServerSet<Immutable extends boolean> = With<
  PlainField<Date>,
  { create: 'ignored'; update: 'ignored'; dbDefault: true; immutable: Immutable; backup: false }
>;

/**
 * Field kinds. Each takes the zod schema of an API input value (or builds it) and infers the domain
 * type from it.
 */
export const f = {
  /** Any value validated by `schema`; the domain type is its output type. */
  value<S extends z.ZodType>(schema: S) {
    return make<PlainField<z.output<S>>>(schema);
  },
  /** Text: at most `max` characters, no NUL; or a custom string schema. */
  text(options: { max: number } | z.ZodType<string>) {
    return make<PlainField<string>>(options instanceof z.ZodType ? options : nulFreeText(options.max));
  },
  /** An integer in `[min, max]`. */
  integer(min: number, max: number) {
    return make<PlainField<number>>(z.number().int().min(min).max(max));
  },
  /** `true` or `false`. */
  boolean() {
    return make<PlainField<boolean>>(z.boolean());
  },
  /** One of `values`. */
  enum<const V extends string>(values: readonly V[]) {
    return make<PlainField<V>>(z.enum(values as unknown as [V, ...V[]]));
  },
  /** A point in time: a `Date` in the domain, ISO 8601 text in JSON. */
  timestamp() {
    return make<PlainField<Date>>(
      z.iso.datetime({ offset: true }).transform((s) => new Date(s)),
      { codec: TIMESTAMP },
    );
  },
  /** A JSON document (jsonb column). */
  json<S extends z.ZodType>(schema: S) {
    return make<PlainField<z.output<S>>>(schema, { codec: JSON_CODEC });
  },
  /** The resource id: column `id`, the JSON:API `id` (not an attribute), set once by the service. */
  id() {
    return make<With<PlainField<string>, { api: false; create: 'none'; update: 'none'; immutable: true }>>(z.string(), {
      api: false,
      create: 'none',
      update: 'none',
      immutable: true,
      isId: true,
    });
  },
  /** The owning organization (`organization_id`): never shown, never changes, not in backups. */
  tenant() {
    return make<With<PlainField<string>, { api: false; create: 'none'; update: 'none'; immutable: true; backup: false }>>(z.string(), {
      api: false,
      create: 'none',
      update: 'none',
      immutable: true,
      backup: false,
    });
  },
  /**
   * A to-one relationship stored as a foreign key column (key `<name>Id`): required on create,
   * optional on update, read from and shown as JSON:API relationship linkage.
   */
  ref(type: string, name?: string) {
    return make<With<PlainField<string>, { api: false; create: 'required' }>>(z.string(), {
      api: false,
      create: 'required',
      relationship: { type, many: false, name },
    });
  },
  /**
   * A to-many relationship (key `<name>Ids`) that the repository loads from and writes to a join table
   * (no column): optional on create and update, shown as linkage, backed up as `<name>_ids`.
   */
  refs(type: string, name?: string) {
    return make<With<PlainField<string[]>, { api: false; column: false }>>(z.array(z.string()), {
      api: false,
      column: false,
      relationship: { type, many: true, name },
    });
  },
  /** `created_at`: set by the database, read-only in the API, not in backups. */
  createdAt() {
    return make<ServerSet<true>>(z.iso.datetime({ offset: true }), {
      codec: TIMESTAMP,
      create: 'ignored',
      update: 'ignored',
      dbDefault: true,
      immutable: true,
      backup: false,
    });
  },
  /** `updated_at`: set by the database and by every repository update, read-only in the API, not in backups. */
  updatedAt() {
    return make<ServerSet<false>>(z.iso.datetime({ offset: true }), { codec: TIMESTAMP, create: 'ignored', update: 'ignored', dbDefault: true, backup: false });
  },
};
