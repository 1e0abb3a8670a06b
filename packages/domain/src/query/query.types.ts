/**
 * Public types of the SQL parameter compiler (the Cluvio-compatible `{…}` / `[snippet]` language).
 * See `README.md` in this folder for the language rules and the decisions taken for PROPOSED items.
 */

/** SQL dialect of the target datasource. */
export type SqlDialect = 'postgres' | 'mysql';

/** Date-time aggregation options (built-in `aggregation` and custom `date_time_aggregation` filters). */
export type AggregationOption = 'second' | 'minute' | 'hour' | 'day' | 'week' | 'week_sunday' | 'month' | 'quarter' | 'year' | 'all_time';

/** Every aggregation option, finest first. `all_time` is only accepted where explicitly allowed. */
export const AGGREGATION_OPTIONS: readonly AggregationOption[] = Object.freeze([
  'second',
  'minute',
  'hour',
  'day',
  'week',
  'week_sunday',
  'month',
  'quarter',
  'year',
  'all_time',
] as const);

/** One filter input of a request (`InputParameters.filters[*]`). */
export interface FilterInput {
  variable_name: string;
  selected_values: Array<string | number | boolean | null>;
}

/** Request input parameters (API `InputParameters`). */
export interface InputParameters {
  /** `<start>~<end>` unix seconds (both optional, inclusive) or a relative encoding such as `7_full_day`. */
  timerange?: string;
  aggregation?: AggregationOption;
  /** IANA time zone name chosen by the viewer. */
  tz?: string;
  filters?: FilterInput[];
}

/** Filter control types (API `control_type`). */
export type FilterControlType =
  | 'input'
  | 'input_multi'
  | 'checkbox'
  | 'checkbox_two_way'
  | 'date_time'
  | 'date_time_range'
  | 'date'
  | 'date_range'
  | 'time'
  | 'time_range'
  | 'date_time_aggregation'
  | 'dropdown'
  | 'dropdown_multi'
  | 'dropdown_dynamic'
  | 'dropdown_multi_dynamic'
  | 'dropdown_manual'
  | 'dropdown_multi_manual';

/** Filter value types (API `value_type`). */
export type FilterValueType = 'TEXT' | 'NUMBER' | 'BOOLEAN' | 'DATE' | 'TIME' | 'DATE_TIME';

/** The part of a filter definition the compiler needs. */
export interface FilterDefinition {
  variableName: string;
  controlType: FilterControlType;
  valueType: FilterValueType;
  /** Used when the request carries no input for this filter. */
  defaultValues?: Array<string | number | boolean | null> | null;
  /** A value must be selected (after defaults), else 422. */
  required?: boolean;
  /** `date_time_aggregation` only: the accepted options (`all_time` only if listed). */
  allowedAggregations?: AggregationOption[] | null;
  /** Range filters: relative encodings allowed (default true). */
  relativeRangeEnabled?: boolean;
  /** Range filters: "before E" ranges (no lower bound) allowed (default true). */
  beforeRangeEnabled?: boolean;
  /** Range filters: "after S" ranges (no upper bound) allowed (default true). */
  afterRangeEnabled?: boolean;
  /** Range filters: absolute "S … E" ranges allowed (default true). */
  fromToRangeEnabled?: boolean;
  /** for dropdown_validate: the allowed option values, when known */
  validValues?: string[] | null;
}

/** A custom SQL snippet (`[name]` reference). */
export interface SnippetDefinition {
  name: string;
  text: string;
  /** Comma-separated parameter names, each optionally `name=default`; referenced as `${name}` in `text`. */
  params?: string | null;
}

/** Everything `compileQuery` needs; it performs no I/O. */
export interface CompileInput {
  sql: string;
  dialect: SqlDialect;
  snippets: SnippetDefinition[];
  filters: FilterDefinition[];
  /** request input (already merged with dashboard defaults by the caller) */
  parameters: InputParameters;
  /** datasource data time zone = session zone (IANA) */
  dataTimeZone: string;
  /**
   * Active dashboard zone (caller resolves tz config + tz input); `null` = none. When `undefined`,
   * `parameters.tz` (if given) acts as the dashboard zone (Run Execution without a dashboard).
   */
  dashboardTimeZone?: string | null;
  /** built-in aggregation restriction (dashboard filters_configuration.aggregation_options) */
  allowedAggregations?: AggregationOption[] | null;
  /** "now" for relative ranges. */
  now: Date;
  /** Values of the built-in snippets `[CLUVIO_USER_EMAIL]` … (NULL when absent). */
  builtins?: {
    userEmail?: string | null;
    userFirstname?: string | null;
    userLastname?: string | null;
    userRole?: string | null;
    dashboardName?: string | null;
    dashboardId?: string | null;
  };
}

/** Output of `compileQuery`: SQL with placeholders plus the bind values in placeholder order. */
export interface CompiledQuery {
  sql: string;
  /** PostgreSQL: value of `$i` at index i-1. MySQL: one value per `?`, in order (use server-side `execute`). */
  values: unknown[];
  /** names of snippets used, transitive closure */
  snippetNames: string[];
  /** variable names referenced */
  variables: string[];
}

/** A position in the author's SQL: 0-based offset, 1-based line and column. */
export interface SqlPosition {
  offset: number;
  line: number;
  column: number;
}
