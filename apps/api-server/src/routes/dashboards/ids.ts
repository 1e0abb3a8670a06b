import { ValidationError } from '@sightline/domain';
import type { ParsedResourceDocument } from '@sightline/jsonapi';
import type { ApiContext } from '../../context.js';

// PostgreSQL text cannot hold NUL: such an id can name nothing, and must not reach a query (it would fail there).
const isStorableId = (id: string) => !id.includes('\u0000') && id.length <= 200;

/**
 * The `:id` path parameter of dashboards, dashboard groups, reports and filters routes. Its shape
 * was checked before the route ran (`checkPathIds`, one place for every route).
 */
export function pathId(ctx: ApiContext, _what: string): string {
  return ctx.params.id!;
}

/**
 * Rejects relationship linkage whose ids cannot exist (NUL characters) with 422 at the linkage pointer.
 * @throws ValidationError
 */
export function checkLinkageIds(doc: ParsedResourceDocument): void {
  for (const [name, value] of Object.entries(doc.relationships)) {
    const ids = Array.isArray(value) ? value : value === null ? [] : [value];
    ids.forEach((id, i) => {
      if (!isStorableId(id)) {
        throw new ValidationError(`Relationship "${name}" names an id that does not exist`, {
          source: { pointer: `/data/relationships/${name}/data${Array.isArray(value) ? `/${i}` : ''}` },
        });
      }
    });
  }
}

/** Zod refinement for ids in plain-JSON bodies (layout, sort). */
export const storableId = (id: string) => isStorableId(id);
