import type { Filter } from '@sightline/domain';
import { defineResource, type ResourceRecord } from '@sightline/jsonapi';

/**
 * `filters` (contract §3.8). `values` and `value_names` are write-only: they are not in the attribute
 * allowlist, so they can never be emitted (read them with Get Drop-Down Filter Options).
 */
export const filterResource = defineResource({
  type: 'filters',
  attributes: [
    'display_name', 'variable_name', 'control_type', 'value_type', 'sql_query', 'data_refresh_rate', 'default_values', 'required',
    'dropdown_validate', 'relative_range_enabled', 'before_range_enabled', 'after_range_enabled', 'from_to_range_enabled',
    'allowed_aggregations', 'last_query_success', 'last_query_error_message', 'created_at', 'updated_at',
  ],
  relationships: {
    datasource: { type: 'datasources', many: false },
    sql_snippets: { type: 'sql_snippets', many: true },
    parent_filter: { type: 'filters', many: false },
  },
});

export function presentFilter(f: Filter): ResourceRecord {
  return {
    id: f.id,
    attributes: {
      display_name: f.displayName,
      variable_name: f.variableName,
      control_type: f.controlType,
      value_type: f.valueType,
      sql_query: f.sqlQuery,
      data_refresh_rate: f.dataRefreshRate,
      default_values: f.defaultValues,
      required: f.required,
      dropdown_validate: f.dropdownValidate,
      relative_range_enabled: f.relativeRangeEnabled,
      before_range_enabled: f.beforeRangeEnabled,
      after_range_enabled: f.afterRangeEnabled,
      from_to_range_enabled: f.fromToRangeEnabled,
      allowed_aggregations: f.allowedAggregations,
      last_query_success: f.lastQuerySuccess?.toISOString() ?? null,
      last_query_error_message: f.lastQueryErrorMessage,
      created_at: f.createdAt.toISOString(),
      updated_at: f.updatedAt.toISOString(),
    },
    relationships: { datasource: f.datasourceId, sql_snippets: f.sqlSnippetIds, parent_filter: f.parentFilterId },
  };
}
