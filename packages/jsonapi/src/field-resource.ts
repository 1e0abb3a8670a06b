import type { CanSee, CreateInputOf, FieldMap, FieldTable, RecordOf, UpdateInputOf } from '@sightline/domain';
import { validate, type ParsedResourceDocument } from './request.js';
import type { Linkage, RelationshipDefinition, ResourceDefinition, ResourceRecord } from './serializer.js';

type AnyTable = FieldTable<FieldMap>;

/**
 * A relationship the field table does not hold (e.g. one computed elsewhere), with its linkage when
 * the record holds it; without `linkage` the caller of `present` adds it (e.g. from relations that
 * depend on the caller's permissions).
 */
export interface ExtraRelationship<R> extends RelationshipDefinition {
  linkage?(record: R): Linkage;
}

/** A resource definition derived from a field table, with its presenter. */
export interface FieldResource<T extends AnyTable> extends ResourceDefinition {
  readonly fields: T;
  /**
   * The record as `serialize` takes it: id, attribute values in table order, relationship linkage.
   * @param canSee whether the caller holds a permission that gates an attribute, for this record
   *   (default: no; gated attributes are left out)
   */
  present(record: RecordOf<T>, canSee?: CanSee): ResourceRecord;
  /** Attributes a caller may not see (for `IncludedSet.omitAttributes`). */
  hiddenAttributes(canSee?: CanSee): string[];
}

/**
 * Defines a JSON:API resource from a field table: the attribute allowlist and relationships come from
 * the table (plus those it does not hold), and `present` builds the records `serialize` takes.
 * @throws Error at module load when an extra attribute or relationship repeats a name of the table
 */
export function defineFieldResource<T extends AnyTable>(definition: {
  type: string;
  fields: T;
  /** Relationships the table does not hold (they come after the table's). */
  relationships?: Readonly<Record<string, ExtraRelationship<RecordOf<T>>>>;
  /**
   * Attributes outside the table that `present` never fills: a route adds them to one response, e.g.
   * a secret shown only in the Create response (they come after the table's).
   */
  extraAttributes?: readonly string[];
}): FieldResource<T> {
  const { type, fields } = definition;
  const extra = definition.relationships ?? {};
  const names = [...fields.attributes, ...Object.keys(fields.relationships)];
  const clash = [...(definition.extraAttributes ?? []), ...Object.keys(extra)].find((n) => names.includes(n));
  if (clash) throw new Error(`Resource ${type}: "${clash}" is already defined by its field table`);
  const relationships: Record<string, RelationshipDefinition> = { ...fields.relationships };
  for (const [name, rel] of Object.entries(extra)) relationships[name] = { type: rel.type, many: rel.many };
  return {
    type,
    fields,
    attributes: [...fields.attributes, ...(definition.extraAttributes ?? [])],
    relationships,
    present(record, canSee) {
      const linkage: Record<string, Linkage> = { ...fields.linkage(record) };
      for (const [name, rel] of Object.entries(extra)) if (rel.linkage) linkage[name] = rel.linkage(record);
      return { id: fields.idOf(record), attributes: fields.toAttributes(record, canSee), relationships: linkage };
    },
    hiddenAttributes: (canSee) => fields.hiddenAttributes(canSee),
  };
}

/**
 * The typed input of a Create or Update document for a field table: the attributes validated by the
 * table's request schema (through `validate`, so every problem is a 422 with its pointer) and the
 * writable relationships, by domain key.
 * @throws AppErrors (422) for invalid attributes, ValidationError (422) for a missing required relationship
 */
export function readInput<T extends AnyTable>(doc: ParsedResourceDocument, fields: T, op: 'create'): CreateInputOf<T>;
export function readInput<T extends AnyTable>(doc: ParsedResourceDocument, fields: T, op: 'update'): UpdateInputOf<T>;
export function readInput(doc: ParsedResourceDocument, fields: AnyTable, op: 'create' | 'update'): unknown {
  if (op === 'create') return { ...validate(fields.createSchema, doc.attributes), ...fields.readRelationships(doc.relationships, 'create') };
  return { ...validate(fields.updateSchema, doc.attributes), ...fields.readRelationships(doc.relationships, 'update') };
}
