import type { AggregationOption, FilterControlType, FilterValueType } from '../query/query.types.js';

/** Every control type of the contract (§3.8). */
export const FILTER_CONTROL_TYPES: readonly FilterControlType[] = [
  'input', 'input_multi', 'checkbox', 'checkbox_two_way', 'date_time', 'date_time_range', 'date', 'date_range', 'time', 'time_range',
  'date_time_aggregation', 'dropdown', 'dropdown_multi', 'dropdown_dynamic', 'dropdown_multi_dynamic', 'dropdown_manual', 'dropdown_multi_manual',
];
/** Every value type of the contract (§3.8). */
export const FILTER_VALUE_TYPES: readonly FilterValueType[] = ['TEXT', 'NUMBER', 'BOOLEAN', 'DATE', 'TIME', 'DATE_TIME'];

/** A scalar of `default_values` / `selected_values`. */
export type FilterScalar = string | number | boolean | null;

/** A custom filter (contract §3.8). `values`/`valueNames` are write-only in the API. */
export interface Filter {
  id: string;
  organizationId: string;
  displayName: string | null;
  /** Name used in SQL (`{col=variable_name}`); unique per organization, case-sensitive. */
  variableName: string;
  controlType: FilterControlType;
  valueType: FilterValueType;
  /** Manual drop-down option values (null for other types). */
  values: string[] | null;
  /** Manual drop-down labels by position (a missing label falls back to the value). */
  valueNames: string[] | null;
  /** SQL drop-downs: column 1 = value, optional column 2 = label (static with parent: column 3 = parent value). */
  sqlQuery: string | null;
  /** SQL drop-downs only. */
  datasourceId: string | null;
  /** Static SQL drop-downs only. */
  parentFilterId: string | null;
  /** Minutes; static: fixed re-run rate, dynamic: max age. Null = default. */
  dataRefreshRate: number | null;
  defaultValues: FilterScalar[] | null;
  required: boolean;
  dropdownValidate: boolean;
  relativeRangeEnabled: boolean;
  beforeRangeEnabled: boolean;
  afterRangeEnabled: boolean;
  fromToRangeEnabled: boolean;
  /** `date_time_aggregation` only. */
  allowedAggregations: AggregationOption[] | null;
  /** SQL drop-downs: last successful options query / last error (set by the read path). */
  lastQuerySuccess: Date | null;
  lastQueryErrorMessage: string | null;
  /** Snippets the filter's SQL uses (transitive closure). */
  sqlSnippetIds: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** Create/Update Filter input; `undefined` = unchanged / default. */
export interface FilterInputData {
  displayName?: string | null;
  variableName?: string;
  controlType?: FilterControlType;
  valueType?: FilterValueType;
  values?: string[] | null;
  valueNames?: string[] | null;
  sqlQuery?: string | null;
  datasourceId?: string | null;
  parentFilterId?: string | null;
  dataRefreshRate?: number | null;
  defaultValues?: FilterScalar[] | null;
  required?: boolean;
  dropdownValidate?: boolean;
  relativeRangeEnabled?: boolean;
  beforeRangeEnabled?: boolean;
  afterRangeEnabled?: boolean;
  fromToRangeEnabled?: boolean;
  allowedAggregations?: AggregationOption[] | null;
  /** Explicit snippet linkage; when absent it is derived from `sqlQuery`. */
  sqlSnippetIds?: string[];
}

/** Row of `filters`. */
export interface FilterRow {
  id: string;
  organization_id: string;
  display_name: string | null;
  variable_name: string;
  control_type: FilterControlType;
  value_type: FilterValueType;
  values: string[] | null;
  value_names: string[] | null;
  sql_query: string | null;
  datasource_id: string | null;
  parent_filter_id: string | null;
  data_refresh_rate: number | null;
  default_values: FilterScalar[] | null;
  required: boolean;
  dropdown_validate: boolean;
  relative_range_enabled: boolean;
  before_range_enabled: boolean;
  after_range_enabled: boolean;
  from_to_range_enabled: boolean;
  allowed_aggregations: AggregationOption[] | null;
  last_query_success: Date | null;
  last_query_error_message: string | null;
  created_at: Date;
  updated_at: Date;
}
