import type { CreateInputOf, NewRecordOf, PatchOf, RecordOf, RowOf, UpdateInputOf } from '../fields/index.js';
import type { FilterControlType, FilterValueType } from '../query/query.types.js';
import type { filterFields } from './filter.fields.js';

/** Every control type of the contract (§3.8). */
export const FILTER_CONTROL_TYPES: readonly FilterControlType[] = [
  'input',
  'input_multi',
  'checkbox',
  'checkbox_two_way',
  'date_time',
  'date_time_range',
  'date',
  'date_range',
  'time',
  'time_range',
  'date_time_aggregation',
  'dropdown',
  'dropdown_multi',
  'dropdown_dynamic',
  'dropdown_multi_dynamic',
  'dropdown_manual',
  'dropdown_multi_manual',
];
/** Every value type of the contract (§3.8). */
export const FILTER_VALUE_TYPES: readonly FilterValueType[] = ['TEXT', 'NUMBER', 'BOOLEAN', 'DATE', 'TIME', 'DATE_TIME'];

/** A scalar of `default_values` / `selected_values`. */
export type FilterScalar = string | number | boolean | null;

/** A custom filter (contract §3.8). `values`/`valueNames` are write-only in the API. Fields: `filterFields`. */
export interface Filter extends RecordOf<typeof filterFields> {
  // restated so that messages and hovers name the type (an empty extension would print its base)
  id: string;
}

/** What the rules of a filter look at: everything but identity, bookkeeping and snippet linkage. */
export type FilterContent = Omit<Filter, 'id' | 'organizationId' | 'createdAt' | 'updatedAt' | 'lastQuerySuccess' | 'lastQueryErrorMessage' | 'sqlSnippetIds'>;

/** Create Filter input (`sqlSnippetIds`: explicit snippet linkage, else derived from `sqlQuery`). */
export type CreateFilterInput = CreateInputOf<typeof filterFields>;

/** Update Filter input; `undefined` = unchanged. */
export type UpdateFilterInput = UpdateInputOf<typeof filterFields>;

/** Row of `filters`. */
export interface FilterRow extends RowOf<typeof filterFields> {
  id: string;
}

/** What `FilterRepository.insert` takes. */
export type NewFilter = NewRecordOf<typeof filterFields>;

/** What `FilterRepository.update` takes. */
export type FilterPatch = PatchOf<typeof filterFields>;
