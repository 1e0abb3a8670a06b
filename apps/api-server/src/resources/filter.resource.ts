import { filterFields, type Filter } from '@sightline/domain';
import { defineFieldResource, type ResourceRecord } from '@sightline/jsonapi';

/**
 * `filters` (contract §3.8): attributes and relationships from `filterFields`. `values` and
 * `value_names` are write-only (read them with Get Drop-Down Filter Options).
 */
export const filterResource = defineFieldResource({ type: 'filters', fields: filterFields });

export function presentFilter(f: Filter): ResourceRecord {
  return filterResource.present(f);
}
