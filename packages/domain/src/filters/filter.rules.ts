import { AppErrors, ValidationError, type AppError } from '../errors.js';
import { compileQuery } from '../query/compile-query.js';
import { FIXED_AGGREGATIONS } from '../query/aggregation.js';
import { isReservedVariableName } from '../query/resolve.js';
import type { FilterControlType, FilterDefinition, FilterValueType } from '../query/query.types.js';
import type { Filter, FilterContent } from './filter.types.js';

/** Variable names: letters, digits, `_` and `-` (contract §3.8), at most 100 characters. */
export const FILTER_VARIABLE_NAME = /^[A-Za-z0-9_-]{1,100}$/;

/** Names of the built-in filters and the fixed aggregation words: no custom filter may use them (param-language §2.1 rule 5). */
export const RESERVED_VARIABLE_NAMES: readonly string[] = ['timerange', 'aggregation', 'tz', ...FIXED_AGGREGATIONS];

/** True when `name` is reserved, compared case-insensitively (so `TimeRange` cannot be mistaken for the built-in). */
function isReserved(name: string): boolean {
  return isReservedVariableName(name.toLowerCase());
}

/** The value types a control type accepts (param-language §3.2); drop-downs accept all six. */
export const VALUE_TYPES_BY_CONTROL: Record<FilterControlType, readonly FilterValueType[]> = {
  input: ['TEXT', 'NUMBER'],
  input_multi: ['TEXT', 'NUMBER'],
  checkbox: ['BOOLEAN'],
  checkbox_two_way: ['BOOLEAN'],
  date_time: ['DATE_TIME'],
  date_time_range: ['DATE_TIME'],
  date: ['DATE'],
  date_range: ['DATE'],
  time: ['TIME'],
  time_range: ['TIME'],
  date_time_aggregation: ['TEXT'],
  dropdown: ['TEXT', 'NUMBER', 'BOOLEAN', 'DATE', 'TIME', 'DATE_TIME'],
  dropdown_multi: ['TEXT', 'NUMBER', 'BOOLEAN', 'DATE', 'TIME', 'DATE_TIME'],
  dropdown_dynamic: ['TEXT', 'NUMBER', 'BOOLEAN', 'DATE', 'TIME', 'DATE_TIME'],
  dropdown_multi_dynamic: ['TEXT', 'NUMBER', 'BOOLEAN', 'DATE', 'TIME', 'DATE_TIME'],
  dropdown_manual: ['TEXT', 'NUMBER', 'BOOLEAN', 'DATE', 'TIME', 'DATE_TIME'],
  dropdown_multi_manual: ['TEXT', 'NUMBER', 'BOOLEAN', 'DATE', 'TIME', 'DATE_TIME'],
};

/** `dropdown`, `dropdown_multi`, `dropdown_dynamic`, `dropdown_multi_dynamic`: options come from SQL. */
export function isSqlDropdown(c: FilterControlType): boolean {
  return c === 'dropdown' || c === 'dropdown_multi' || c === 'dropdown_dynamic' || c === 'dropdown_multi_dynamic';
}
/** `dropdown`, `dropdown_multi`: SQL without parameters, re-run at a fixed rate; may have a parent. */
export function isStaticSqlDropdown(c: FilterControlType): boolean {
  return c === 'dropdown' || c === 'dropdown_multi';
}
/** `dropdown_dynamic`, `dropdown_multi_dynamic`: SQL with parameters, run per dashboard and input. */
export function isDynamicSqlDropdown(c: FilterControlType): boolean {
  return c === 'dropdown_dynamic' || c === 'dropdown_multi_dynamic';
}
/** `dropdown_manual`, `dropdown_multi_manual`: options given as `values`/`value_names`. */
export function isManualDropdown(c: FilterControlType): boolean {
  return c === 'dropdown_manual' || c === 'dropdown_multi_manual';
}
export function isDropdown(c: FilterControlType): boolean {
  return c.startsWith('dropdown');
}
export function isRangeControl(c: FilterControlType): boolean {
  return c === 'date_time_range' || c === 'date_range' || c === 'time_range';
}

/** The compiler's view of a filter (`compileQuery` `filters`). Manual drop-downs with `dropdown_validate` carry their values. */
export function toFilterDefinition(f: Filter): FilterDefinition {
  return {
    variableName: f.variableName,
    controlType: f.controlType,
    valueType: f.valueType,
    defaultValues: f.defaultValues,
    required: f.required,
    allowedAggregations: f.allowedAggregations,
    relativeRangeEnabled: f.relativeRangeEnabled,
    beforeRangeEnabled: f.beforeRangeEnabled,
    afterRangeEnabled: f.afterRangeEnabled,
    fromToRangeEnabled: f.fromToRangeEnabled,
    validValues: f.dropdownValidate && isManualDropdown(f.controlType) ? (f.values ?? []) : null,
  };
}

const attr = (name: string) => ({ pointer: `/data/attributes/${name}` });
const rel = (name: string) => ({ pointer: `/data/relationships/${name}` });

/**
 * Checks the consistency of a complete filter (after merging an update into the stored one):
 * control/value type, which attributes and relationships the control type admits, manual options,
 * and `default_values` (validated exactly as request input would be, by the query compiler).
 * @throws AppErrors of ValidationError (422), each with a pointer into the request document
 */
export function checkFilter(f: FilterContent): void {
  const errors: AppError[] = [];
  const c = f.controlType;
  if (!FILTER_VARIABLE_NAME.test(f.variableName)) {
    errors.push(new ValidationError('variable_name must be 1–100 letters, digits, "_" or "-"', { source: attr('variable_name') }));
  } else if (isReserved(f.variableName)) {
    errors.push(
      new ValidationError(`variable_name "${f.variableName}" is reserved (built-in filters ${RESERVED_VARIABLE_NAMES.join(', ')})`, {
        code: 'reserved_variable_name',
        source: attr('variable_name'),
      }),
    );
  }
  if (!VALUE_TYPES_BY_CONTROL[c].includes(f.valueType)) {
    errors.push(
      new ValidationError(`control_type ${c} needs value_type ${VALUE_TYPES_BY_CONTROL[c].join(' or ')}, not ${f.valueType}`, {
        code: 'value_type_mismatch',
        source: attr('value_type'),
      }),
    );
  }
  if (isSqlDropdown(c)) {
    if (!f.sqlQuery || !f.sqlQuery.trim()) errors.push(new ValidationError(`A ${c} filter needs a sql_query`, { source: attr('sql_query') }));
    if (!f.datasourceId) errors.push(new ValidationError(`A ${c} filter needs a datasource relationship`, { source: rel('datasource') }));
  } else {
    if (f.sqlQuery !== null)
      errors.push(
        new ValidationError(`sql_query is only for SQL drop-downs (dropdown, dropdown_multi, dropdown_dynamic, dropdown_multi_dynamic), not ${c}`, {
          source: attr('sql_query'),
        }),
      );
    if (f.datasourceId !== null) errors.push(new ValidationError(`Only SQL drop-downs have a datasource, not ${c}`, { source: rel('datasource') }));
    if (f.dataRefreshRate !== null)
      errors.push(new ValidationError(`data_refresh_rate is only for SQL drop-downs, not ${c}`, { source: attr('data_refresh_rate') }));
  }
  if (f.parentFilterId !== null && !isStaticSqlDropdown(c)) {
    errors.push(new ValidationError(`parent_filter is only for static SQL drop-downs (dropdown, dropdown_multi), not ${c}`, { source: rel('parent_filter') }));
  }
  if (isManualDropdown(c)) {
    const values = f.values ?? [];
    const names = f.valueNames ?? [];
    if (names.length > values.length)
      errors.push(new ValidationError(`value_names has ${names.length} labels for ${values.length} values`, { source: attr('value_names') }));
    if (new Set(values).size !== values.length) errors.push(new ValidationError('values must not contain duplicates', { source: attr('values') }));
    if (values.length) {
      try {
        compileDefaults({ ...f, variableName: 'values_check', dropdownValidate: false, required: false, controlType: 'dropdown_multi_manual' }, values);
      } catch (err) {
        errors.push(new ValidationError(`values: ${(err as Error).message}`, { source: attr('values') }));
      }
    }
  } else {
    if (f.values !== null)
      errors.push(new ValidationError(`values are only for manual drop-downs (dropdown_manual, dropdown_multi_manual), not ${c}`, { source: attr('values') }));
    if (f.valueNames !== null) errors.push(new ValidationError(`value_names are only for manual drop-downs, not ${c}`, { source: attr('value_names') }));
  }
  if (f.dropdownValidate && !isDropdown(c))
    errors.push(new ValidationError(`dropdown_validate is only for drop-downs, not ${c}`, { source: attr('dropdown_validate') }));
  if (f.allowedAggregations !== null) {
    if (c !== 'date_time_aggregation')
      errors.push(new ValidationError(`allowed_aggregations is only for date_time_aggregation filters, not ${c}`, { source: attr('allowed_aggregations') }));
    else if (!f.allowedAggregations.length)
      errors.push(
        new ValidationError('allowed_aggregations must list at least one option (or be null for all but all_time)', { source: attr('allowed_aggregations') }),
      );
    else if (new Set(f.allowedAggregations).size !== f.allowedAggregations.length)
      errors.push(new ValidationError('allowed_aggregations must not contain duplicates', { source: attr('allowed_aggregations') }));
  }
  if (!errors.length && f.defaultValues !== null && f.defaultValues.length) {
    try {
      compileDefaults(f, f.defaultValues);
    } catch (err) {
      errors.push(new ValidationError(`default_values: ${(err as Error).message}`, { code: 'invalid_default_values', source: attr('default_values') }));
    }
  }
  if (errors.length) throw new AppErrors(errors);
}

/** Runs the query compiler on a parameter of the filter with `selected` as its input: the same checks a request would get. */
function compileDefaults(
  f: Pick<
    Filter,
    | 'variableName'
    | 'controlType'
    | 'valueType'
    | 'required'
    | 'allowedAggregations'
    | 'relativeRangeEnabled'
    | 'beforeRangeEnabled'
    | 'afterRangeEnabled'
    | 'fromToRangeEnabled'
    | 'dropdownValidate'
    | 'values'
  >,
  selected: ReadonlyArray<string | number | boolean | null>,
): void {
  const name = f.variableName;
  const definition: FilterDefinition = {
    variableName: name,
    controlType: f.controlType,
    valueType: f.valueType,
    required: false,
    allowedAggregations: f.allowedAggregations,
    relativeRangeEnabled: f.relativeRangeEnabled,
    beforeRangeEnabled: f.beforeRangeEnabled,
    afterRangeEnabled: f.afterRangeEnabled,
    fromToRangeEnabled: f.fromToRangeEnabled,
    validValues: f.dropdownValidate && isManualDropdown(f.controlType) ? (f.values ?? []) : null,
  };
  const sql = f.controlType === 'date_time_aggregation' ? `SELECT {[x]:${name}}` : `SELECT 1 WHERE {[x]=${name}}`;
  compileQuery({
    sql,
    dialect: 'postgres',
    snippets: [],
    filters: [definition],
    parameters: { filters: [{ variable_name: name, selected_values: [...selected] }] },
    dataTimeZone: 'UTC',
    dashboardTimeZone: null,
    now: new Date(),
  });
}
