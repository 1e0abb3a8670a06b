import { z } from 'zod';
import type { Permission } from '../api-keys/permissions.js';
import { ValidationError } from '../errors.js';
import type { Field, FieldSpec } from './field.js';

/** A field table's lines by domain key (camelCase). */
export type FieldMap = Record<string, Field<any>>;

/** `dataRefreshRate` → `data_refresh_rate` (type level). */
export type SnakeCase<S extends string> = S extends `${infer H}${infer R}` ? `${H extends Lowercase<H> ? H : `_${Lowercase<H>}`}${SnakeCase<R>}` : S;

/** `dataRefreshRate` → `data_refresh_rate`. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

type Facts<F extends FieldMap, K extends keyof F> = F[K]['types'];
type Value<F extends FieldMap, K extends keyof F> = Facts<F, K>['value'];
/** Keys of `F` whose facts match `P`. */
type KeysWhere<F extends FieldMap, P> = { [K in keyof F]: Facts<F, K> extends P ? K : never }[keyof F];
type Simplify<T> = { -readonly [K in keyof T]: T[K] } & {};
type StoredKeys<F extends FieldMap> = KeysWhere<F, { column: string | undefined }>;
type ColumnName<K, C> = C extends string ? C : C extends false ? never : K extends string ? SnakeCase<K> : never;

/** The domain object of a table: every field by key, with its domain type. */
export type FieldRecord<F extends FieldMap> = { -readonly [K in keyof F]: Value<F, K> };
/** The part of the domain object stored in the row (what `fromRow` yields). */
export type StoredFieldRecord<F extends FieldMap> = Pick<FieldRecord<F>, StoredKeys<F>>;
/** The row as the database returns it, by column name (sealed columns hold ciphertext). */
export type FieldRow<F extends FieldMap> = {
  -readonly [K in keyof F as ColumnName<K, Facts<F, K>['column']>]: Facts<F, K>['sealed'] extends true
    ? string | (null extends Value<F, K> ? null : never)
    : Value<F, K>;
};
/** Create input: required attributes/relationships and optional ones (domain keys). */
export type FieldCreateInput<F extends FieldMap> = Simplify<
  { [K in KeysWhere<F, { create: 'required' }>]: Value<F, K> } & { [K in KeysWhere<F, { create: 'optional' }>]?: Value<F, K> }
>;
type AttributeKeys<F extends FieldMap> = KeysWhere<F, { api: string | undefined }>;
/** The attribute part of a Create input (what `createSchema` yields). */
export type FieldCreateAttributes<F extends FieldMap> = Simplify<Pick<FieldCreateInput<F>, keyof FieldCreateInput<F> & AttributeKeys<F>>>;
/** The relationship part of a Create input (what `readRelationships(…, 'create')` yields). */
export type FieldCreateRelationships<F extends FieldMap> = Simplify<Omit<FieldCreateInput<F>, AttributeKeys<F>>>;
/** Create input after `prepareCreate`: every defaulted field is filled. */
export type FieldPreparedCreate<F extends FieldMap> = Simplify<
  { [K in KeysWhere<F, { create: 'required' }> | KeysWhere<F, { create: 'optional'; defaulted: true }>]: Value<F, K> } & {
    [K in KeysWhere<F, { create: 'optional'; defaulted: false }>]?: Value<F, K>;
  }
>;
/** Update input: the fields an update may change, all optional. */
export type FieldUpdateInput<F extends FieldMap> = { -readonly [K in KeysWhere<F, { update: 'optional' }>]?: Value<F, K> };
/** The attribute part of an Update input (what `updateSchema` yields). */
export type FieldUpdateAttributes<F extends FieldMap> = Simplify<Pick<FieldUpdateInput<F>, keyof FieldUpdateInput<F> & AttributeKeys<F>>>;
/** The relationship part of an Update input (what `readRelationships(…, 'update')` yields). */
export type FieldUpdateRelationships<F extends FieldMap> = Simplify<Omit<FieldUpdateInput<F>, AttributeKeys<F>>>;
/** What a repository inserts: every stored field, except those the database fills. */
export type FieldNewRecord<F extends FieldMap> = Simplify<
  { [K in StoredKeys<F> & KeysWhere<F, { dbDefault: false }> & keyof F]: Value<F, K> } & {
    [K in StoredKeys<F> & KeysWhere<F, { dbDefault: true }> & keyof F]?: Value<F, K>;
  }
>;
/** What a repository update may change: stored fields that are not immutable. */
export type FieldPatch<F extends FieldMap> = { -readonly [K in StoredKeys<F> & KeysWhere<F, { immutable: false }> & keyof F]?: Value<F, K> };
/** The content a copy (Duplicate) takes over: backed-up fields except immutable ones (the id). */
export type FieldCopy<F extends FieldMap> = { -readonly [K in KeysWhere<F, { backup: true; immutable: false }>]: Value<F, K> };

type AnyTable = FieldTable<FieldMap>;
type MapOf<T extends AnyTable> = T['fields'];
/** The domain type of a table (`type Report = RecordOf<typeof reportFields>`). */
export type RecordOf<T extends AnyTable> = FieldRecord<MapOf<T>>;
/** The row type of a table (`ReportRow`). */
export type RowOf<T extends AnyTable> = FieldRow<MapOf<T>>;
/** The stored part of a table's domain type (what `fromRow` yields: no to-many relationships). */
export type StoredRecordOf<T extends AnyTable> = StoredFieldRecord<MapOf<T>>;
/** Create input of a table (what the API's Create yields after validation). */
export type CreateInputOf<T extends AnyTable> = FieldCreateInput<MapOf<T>>;
/** Update input of a table (what the API's Update yields after validation). */
export type UpdateInputOf<T extends AnyTable> = FieldUpdateInput<MapOf<T>>;
/** Repository insert input of a table. */
export type NewRecordOf<T extends AnyTable> = FieldNewRecord<MapOf<T>>;
/** Repository patch of a table. */
export type PatchOf<T extends AnyTable> = FieldPatch<MapOf<T>>;

/** Seals and opens secret columns (the repository builds one from the deployment's key). */
export interface Sealer {
  seal(plaintext: string): string;
  /** The plaintext, or null when it cannot be opened (e.g. sealed with a rotated key). */
  open(sealed: string): string | null;
}

type HasSealed<F extends FieldMap> = true extends Facts<F, keyof F>['sealed'] ? true : false;
/** A `Sealer` argument, required exactly when the table has sealed fields. */
export type SealerArgs<F extends FieldMap> = HasSealed<F> extends true ? [sealer: Sealer] : [sealer?: Sealer];

/** Flags fields whose `default`/`coerce` functions read a record the table does not provide. */
export type CheckReads<F extends FieldMap> = {
  [K in keyof F]: [Exclude<keyof Facts<F, K>['reads'], keyof F>] extends [never]
    ? Partial<FieldRecord<F>> extends Facts<F, K>['reads']
      ? unknown
      : { 'default/coerce of this field reads fields with other types than the table': Facts<F, K>['reads'] }
    : { 'default/coerce of this field reads fields the table lacks': Exclude<keyof Facts<F, K>['reads'], keyof F> };
};

/** Which callers see permission-gated attributes: asked per record with the gate's permission. */
export type CanSee = (permission: Permission) => boolean;
const NOBODY: CanSee = () => false;

/** Linkage read from a request by relationship name (absent = not sent). */
export type RequestLinkage = Readonly<Record<string, string | null | readonly string[] | undefined>>;

/** Relationship linkage by relationship name: an id, null, or ids. */
export type FieldLinkage = Record<string, string | null | string[]>;

/** One resolved line: the key plus the names derived from it. */
export interface ResolvedField {
  readonly key: string;
  readonly spec: FieldSpec;
  /** Column name, or undefined when not stored. */
  readonly column: string | undefined;
  /** API attribute name, or undefined when not an attribute (internal, id, relationship). */
  readonly attribute: string | undefined;
  /** JSON:API relationship, when the field is one. */
  readonly relationship: { readonly name: string; readonly type: string; readonly many: boolean } | undefined;
}

function resolve(key: string, spec: FieldSpec): ResolvedField {
  const column = spec.column === false ? undefined : (spec.column ?? snakeCase(key));
  let relationship: ResolvedField['relationship'];
  if (spec.relationship) {
    const base = snakeCase(key.replace(spec.relationship.many ? /Ids$/ : /Id$/, ''));
    relationship = { name: spec.relationship.name ?? (spec.relationship.many ? `${base}s` : base), type: spec.relationship.type, many: spec.relationship.many };
  }
  const attribute = spec.api === false || spec.relationship ? undefined : (spec.api ?? snakeCase(key));
  return { key, spec, column, attribute, relationship };
}

const isWritable = (mode: string): boolean => mode === 'required' || mode === 'optional';

/**
 * A resource's field table: the one place that lists its attributes. Everything else is derived from
 * it: the domain type (`RecordOf`), the row type and mapping (`fromRow`, `toColumns`), defaults and
 * coercions (`prepareCreate`, `prepareUpdate`), the API's attribute allowlist and values
 * (`attributes`, `toAttributes`, `linkage`), the request schemas (`createSchema`, `updateSchema`,
 * `readRelationships`, `assertUnchanged`), copies and backups (`copyOf`, `toBackup`).
 */
export class FieldTable<F extends FieldMap> {
  /** Every line, in table order (which is also the order of attributes, relationships and backups). */
  readonly entries: readonly ResolvedField[];
  /** API attribute names in table order: the presenter's allowlist. */
  readonly attributes: readonly string[];
  /** JSON:API relationships derived from `ref`/`refs` fields. */
  readonly relationships: Readonly<Record<string, { readonly type: string; readonly many: boolean }>>;
  /**
   * Validates Create attributes (API names; unknown ones are rejected, read-only ones accepted and
   * dropped) and yields the writable ones by domain key. Run it through `validate`/`readInput` of
   * `@sightline/jsonapi`, the one place zod issues become JSON:API errors.
   */
  readonly createSchema: z.ZodType<FieldCreateAttributes<F>>;
  /** Validates Update attributes, like `createSchema` (nothing required; `unchanged` ones are checked by `assertUnchanged`). */
  readonly updateSchema: z.ZodType<FieldUpdateAttributes<F>>;
  private readonly idKey: string;

  constructor(readonly fields: F) {
    this.entries = Object.entries(fields).map(([key, field]) => resolve(key, field.spec));
    const ids = this.entries.filter((e) => e.spec.isId);
    if (ids.length !== 1) throw new Error(`A field table needs exactly one f.id() field, not ${ids.length}`);
    this.idKey = ids[0]!.key;
    this.attributes = this.entries.flatMap((e) => (e.attribute ? [e.attribute] : []));
    this.relationships = Object.fromEntries(
      this.entries.flatMap((e) => (e.relationship ? [[e.relationship.name, { type: e.relationship.type, many: e.relationship.many }]] : [])),
    );
    const names = [...this.attributes, ...Object.keys(this.relationships)];
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate) throw new Error(`Field table names "${duplicate}" twice`);
    this.createSchema = this.requestSchema('create') as z.ZodType<FieldCreateAttributes<F>>;
    this.updateSchema = this.requestSchema('update') as z.ZodType<FieldUpdateAttributes<F>>;
  }

  private requestSchema(op: 'create' | 'update'): z.ZodType {
    const shape: Record<string, z.ZodType> = {};
    const required: Record<string, true> = {};
    const writable: ResolvedField[] = [];
    for (const e of this.entries) {
      const mode = op === 'create' ? e.spec.create : e.spec.update;
      if (!e.attribute || mode === 'none') continue;
      if (isWritable(mode)) {
        shape[e.attribute] = e.spec.nullable ? e.spec.schema.nullable() : e.spec.schema;
        writable.push(e);
        if (mode === 'required') required[e.attribute] = true;
      } else {
        // read-only here: clients may echo what GET returned; the value is ignored (or compared later)
        shape[e.attribute] = z.unknown();
      }
    }
    const object = z.object(shape).partial().strict();
    // `.required()` after `.partial()`: a missing attribute reads "expected nonoptional"
    const checked = Object.keys(required).length ? object.required(required as never) : object;
    return checked.transform((attributes: Record<string, unknown>) => {
      const out: Record<string, unknown> = {};
      for (const e of writable) if (attributes[e.attribute!] !== undefined) out[e.key] = attributes[e.attribute!];
      return out;
    });
  }

  /** The id of a record. */
  idOf(record: FieldRecord<F>): string {
    return (record as Record<string, unknown>)[this.idKey] as string;
  }

  /** Maps a row (column names) to the stored part of the domain object; opens sealed columns. */
  fromRow(row: FieldRow<F>, ...[sealer]: SealerArgs<F>): StoredFieldRecord<F> {
    const source = row as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const e of this.entries) {
      if (!e.column) continue;
      const raw = source[e.column];
      if (raw === null || raw === undefined) out[e.key] = null;
      else if (e.spec.sealed) out[e.key] = requireSealer(sealer, e).open(raw as string);
      else out[e.key] = e.spec.codec.fromColumn(raw);
    }
    return out as StoredFieldRecord<F>;
  }

  /** Maps domain values (any subset; `undefined` = leave out) to columns; seals sealed ones. */
  toColumns(values: Partial<StoredFieldRecord<F>>, ...[sealer]: SealerArgs<F>): Record<string, unknown> {
    const source = values as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const e of this.entries) {
      const value = source[e.key];
      if (!e.column || value === undefined) continue;
      if (value === null) out[e.column] = null;
      else if (e.spec.sealed) out[e.column] = requireSealer(sealer, e).seal(value as string);
      else out[e.column] = e.spec.codec.toColumn(value);
    }
    return out;
  }

  /**
   * Completes a Create input: in table order, fills each omitted field that has a default, then
   * applies the field's coercion (so defaults and rules see the final values of earlier fields).
   */
  prepareCreate(input: FieldCreateInput<F>): FieldPreparedCreate<F> {
    const draft: Record<string, unknown> = { ...(input as Record<string, unknown>) };
    for (const e of this.entries) {
      const d = e.spec.default;
      if (d && draft[e.key] === undefined && e.spec.create !== 'none' && e.spec.create !== 'ignored') {
        draft[e.key] = 'value' in d ? d.value : (d.compute as (r: unknown) => unknown)(draft);
      }
      if (e.spec.coerce) {
        const coerced = (e.spec.coerce as (r: unknown) => unknown)(draft);
        if (coerced !== undefined) draft[e.key] = coerced;
      }
    }
    for (const key of Object.keys(draft)) if (draft[key] === undefined) delete draft[key];
    return draft as FieldPreparedCreate<F>;
  }

  /**
   * Applies the coercion rules to an update: each rule sees the current record merged with the change
   * (earlier fields final); a value it changes joins the patch.
   */
  prepareUpdate<P extends FieldUpdateInput<F>>(patch: P, current: FieldRecord<F>): P & FieldPatch<F> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(patch)) if (value !== undefined) out[key] = value;
    const merged: Record<string, unknown> = { ...(current as Record<string, unknown>), ...out };
    for (const e of this.entries) {
      if (!e.spec.coerce) continue;
      const coerced = (e.spec.coerce as (r: unknown) => unknown)(merged);
      if (coerced !== undefined && coerced !== merged[e.key]) {
        out[e.key] = coerced;
        merged[e.key] = coerced;
      }
    }
    return out as P & FieldPatch<F>;
  }

  /**
   * The API attribute values of a record (API names, JSON values) in table order. Write-only fields
   * are never included; permission-gated ones only when `canSee(permission)` (default: nobody).
   */
  toAttributes(record: FieldRecord<F>, canSee: CanSee = NOBODY): Record<string, unknown> {
    const source = record as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const e of this.entries) {
      if (!e.attribute || !this.isVisible(e, canSee)) continue;
      const value = source[e.key];
      out[e.attribute] = value === null || value === undefined ? null : e.spec.codec.toJson(value);
    }
    return out;
  }

  /** API names of the attributes a caller may not see (write-only, or gated by a permission `canSee` denies). */
  hiddenAttributes(canSee: CanSee = NOBODY): string[] {
    return this.entries.flatMap((e) => (e.attribute && !this.isVisible(e, canSee) ? [e.attribute] : []));
  }

  private isVisible(e: ResolvedField, canSee: CanSee): boolean {
    if (e.spec.writeOnly) return false;
    return e.spec.visibleTo === undefined || canSee(e.spec.visibleTo);
  }

  /** Relationship linkage of a record by relationship name. */
  linkage(record: FieldRecord<F>): FieldLinkage {
    const source = record as Record<string, unknown>;
    const out: FieldLinkage = {};
    for (const e of this.entries) {
      if (!e.relationship) continue;
      const value = source[e.key];
      out[e.relationship.name] = e.relationship.many ? [...((value as string[] | undefined) ?? [])] : ((value as string | null | undefined) ?? null);
    }
    return out;
  }

  /**
   * Reads the writable relationships of a Create or Update document into domain keys.
   * @param relationships linkage by relationship name as parsed from the request (absent = not sent)
   * @throws ValidationError (422, pointing at the relationship) when a required to-one is absent or
   *   a non-nullable one is null
   */
  readRelationships(relationships: RequestLinkage, op: 'create'): FieldCreateRelationships<F>;
  readRelationships(relationships: RequestLinkage, op: 'update'): FieldUpdateRelationships<F>;
  readRelationships(relationships: RequestLinkage, op: 'create' | 'update'): unknown {
    const out: Record<string, unknown> = {};
    for (const e of this.entries) {
      const mode = op === 'create' ? e.spec.create : e.spec.update;
      if (!e.relationship || !isWritable(mode)) continue;
      const value = relationships[e.relationship.name];
      if ((value === null && !e.spec.nullable) || (value === undefined && mode === 'required')) {
        throw new ValidationError(`The "${e.relationship.name}" relationship is required`, {
          source: { pointer: `/data/relationships/${e.relationship.name}` },
        });
      }
      if (value !== undefined) out[e.key] = Array.isArray(value) ? [...value] : value;
    }
    return out;
  }

  /**
   * Checks the `unchanged` attributes of an Update document against the current record.
   * @throws ValidationError (422 `read_only_attribute`) for the first one sent with another value
   */
  assertUnchanged(attributes: Readonly<Record<string, unknown>>, current: FieldRecord<F>): void {
    const source = current as Record<string, unknown>;
    for (const e of this.entries) {
      if (!e.attribute || e.spec.update !== 'unchanged') continue;
      const sent = attributes[e.attribute];
      const value = source[e.key];
      if (sent !== undefined && sent !== (value === null ? null : e.spec.codec.toJson(value))) {
        throw new ValidationError(`"${e.attribute}" ${e.spec.unchangedHint}`, {
          code: 'read_only_attribute',
          source: { pointer: `/data/attributes/${e.attribute}` },
        });
      }
    }
  }

  /** The fields a copy (Duplicate) takes over: every backed-up field except immutable ones. */
  copyOf(record: FieldRecord<F>): FieldCopy<F> {
    const source = record as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const e of this.entries) if (e.spec.backup && !e.spec.immutable) out[e.key] = source[e.key];
    return out as FieldCopy<F>;
  }

  /**
   * The backup form of a record: every backed-up field in table order, as JSON, under its API name;
   * relationships and other non-attributes under the snake_case of their key (`datasource_id`,
   * `sql_snippet_ids`).
   */
  toBackup(record: FieldRecord<F>): Record<string, unknown> {
    const source = record as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const e of this.entries) {
      if (!e.spec.backup) continue;
      const name = e.attribute ?? snakeCase(e.key);
      const value = source[e.key];
      out[name] = value === null || value === undefined ? null : e.spec.codec.toJson(value);
    }
    return out;
  }
}

function requireSealer(sealer: Sealer | undefined, e: ResolvedField): Sealer {
  if (!sealer) throw new Error(`Field "${e.key}" is sealed: map rows with a Sealer`);
  return sealer;
}

/**
 * Defines a resource's field table (see `FieldTable`). Keys are the domain names (camelCase); the
 * column and API names default to their snake_case. The table order is the order of attributes,
 * relationships and backup members.
 * @throws Error at module load for a table without exactly one `f.id()` or with a name used twice
 */
export function defineFields<const F extends FieldMap>(fields: F & CheckReads<F>): FieldTable<F> {
  return new FieldTable<F>(fields);
}
