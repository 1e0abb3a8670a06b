import { isFixedAggregation } from './aggregation.js';
import { normalizeValue, type CanonicalValue, type RawValue, type ValueContext } from './input-values.js';
import { QueryCompileError, type QueryErrorLocation } from './query-compile-error.js';
import {
  AGGREGATION_OPTIONS,
  type AggregationOption,
  type CompileInput,
  type FilterDefinition,
  type FilterInput,
  type FilterValueType,
} from './query.types.js';
import {
  parseDayRangeInput,
  parseInstantRangeInput,
  parseTimeRangeInput,
  parseTimerange,
  type DayRange,
  type InstantRange,
  type TimeOfDayRange,
} from './ranges.js';

/** Built-in variable names (reserved; they win over custom filters of the same name). */
const BUILTIN_VARIABLES = ['timerange', 'aggregation', 'tz'] as const;

/**
 * True for names a custom filter must not use as `variable_name` (the built-ins and the nine fixed
 * aggregation words); Create/Update Filter should answer 422 for them.
 */
export function isReservedVariableName(name: string): boolean {
  return (BUILTIN_VARIABLES as readonly string[]).includes(name) || isFixedAggregation(name);
}

/** A variable resolved against built-ins, filter definitions and inputs. */
export type ResolvedVariable =
  | {
      kind: 'list';
      name: string;
      /** Filter control type, or `adhoc` for variables without a definition. */
      control: string;
      valueType: FilterValueType;
      multi: boolean;
      /** Distinct non-null canonical values, input order. */
      values: CanonicalValue[];
      hasNull: boolean;
    }
  | { kind: 'instant_range'; name: string; control: string; range: InstantRange | null }
  | { kind: 'day_range'; name: string; control: string; range: DayRange | null }
  | { kind: 'time_range'; name: string; control: string; range: TimeOfDayRange | null }
  | { kind: 'aggregation'; name: string; control: string; option: AggregationOption }
  | { kind: 'fixed_aggregation'; name: string; control: string; option: AggregationOption }
  | { kind: 'tz'; name: string; control: string; zone: string | null };

const SINGLE_CONTROLS = new Set(['input', 'checkbox', 'checkbox_two_way', 'date', 'date_time', 'time', 'dropdown', 'dropdown_dynamic', 'dropdown_manual']);
const LIST_CONTROLS = new Set([
  'input',
  'input_multi',
  'dropdown',
  'dropdown_multi',
  'dropdown_dynamic',
  'dropdown_multi_dynamic',
  'dropdown_manual',
  'dropdown_multi_manual',
]);

/** Most distinct values one filter may select (MySQL prepared statements take ≤ 65,535 placeholders). */
const MAX_SELECTED_VALUES = 10_000;

/** Resolution context shared by all variables of one compilation. */
export interface ResolveContext {
  input: CompileInput;
  /** Zone in which relative ranges and local date-times are read (dashboard zone, else data zone). */
  operatingZone: string;
  dashboardZone: string | null;
  nowS: number;
  /** The built-in timerange, validated up front. */
  timerange: InstantRange;
  /** The built-in aggregation, validated up front. */
  aggregation: AggregationOption;
  definitions: Map<string, FilterDefinition>;
  inputs: Map<string, FilterInput>;
}

/**
 * Validates the request-level inputs that do not depend on the SQL (`timerange`, `aggregation`,
 * `filters` shape) and builds the resolution context.
 * @throws QueryCompileError
 */
export function buildResolveContext(input: CompileInput, operatingZone: string, dashboardZone: string | null): ResolveContext {
  const params = input.parameters ?? {};
  if (!Number.isFinite(input.now.valueOf())) throw new QueryCompileError('now must be a valid date');
  const timerange =
    params.timerange === undefined || params.timerange === null
      ? { start: null, endExclusive: null }
      : parseTimerange(params.timerange, input.now, operatingZone);
  const aggregation = chooseAggregation(params.aggregation, input.allowedAggregations, 'aggregation', null);
  const definitions = new Map<string, FilterDefinition>();
  for (const def of input.filters ?? []) definitions.set(def.variableName, def);
  const inputs = new Map<string, FilterInput>();
  if (params.filters !== undefined && !Array.isArray(params.filters)) throw new QueryCompileError('parameters.filters must be an array');
  for (const f of params.filters ?? []) {
    if (!f || typeof f.variable_name !== 'string' || !Array.isArray(f.selected_values)) {
      throw new QueryCompileError('every parameters.filters item needs a variable_name string and a selected_values array');
    }
    if (inputs.has(f.variable_name))
      throw new QueryCompileError(`Filter '${f.variable_name}' is given more than once in parameters.filters`, null, { variable: f.variable_name });
    inputs.set(f.variable_name, f);
  }
  // `now` is read (getTime) only when a relative range needs it: callers that cache compiled
  // queries watch those reads to know whether the output depends on the current second.
  let nowS: number | undefined;
  return {
    input,
    operatingZone,
    dashboardZone,
    timerange,
    aggregation,
    definitions,
    inputs,
    get nowS() {
      return (nowS ??= Math.floor(input.now.getTime() / 1000));
    },
  };
}

/**
 * Validates an aggregation choice against the allowed options (`all_time` only if listed) and
 * returns it; no choice → `day` (or the first allowed option when `day` is not allowed).
 * @throws QueryCompileError
 */
function chooseAggregation(
  chosen: unknown,
  allowed: AggregationOption[] | null | undefined,
  variable: string,
  location: QueryErrorLocation | null,
): AggregationOption {
  const allowedList = allowed && allowed.length > 0 ? allowed : null;
  const isAllowed = (o: AggregationOption): boolean => (allowedList ? allowedList.includes(o) : o !== 'all_time');
  if (chosen === undefined || chosen === null || chosen === '') {
    if (isAllowed('day')) return 'day';
    return allowedList!.find((o) => (AGGREGATION_OPTIONS as readonly string[]).includes(o))!;
  }
  if (typeof chosen !== 'string' || !(AGGREGATION_OPTIONS as readonly string[]).includes(chosen)) {
    throw new QueryCompileError(
      `${variable === 'aggregation' ? 'aggregation' : `Filter '${variable}'`}: ${JSON.stringify(String(chosen).slice(0, 40))} is not an aggregation option (${AGGREGATION_OPTIONS.join(', ')})`,
      location,
      { variable },
    );
  }
  const option = chosen as AggregationOption;
  if (!isAllowed(option)) {
    throw new QueryCompileError(
      `${variable === 'aggregation' ? 'aggregation' : `Filter '${variable}'`}: '${option}' is not allowed${allowedList ? ` (allowed: ${allowedList.join(', ')})` : ''}`,
      location,
      { variable },
    );
  }
  return option;
}

/** True if `name` resolves to something other than an ad hoc filter. */
export function isKnownVariable(ctx: ResolveContext, name: string): boolean {
  return (BUILTIN_VARIABLES as readonly string[]).includes(name) || isFixedAggregation(name) || ctx.definitions.has(name);
}

/**
 * Resolves a variable: built-ins → fixed aggregation words → filter definitions → ad hoc multi-select
 * TEXT filter. Input selection: request input (even `[]`) → `defaultValues` → built-in default.
 * @throws QueryCompileError on invalid input values or a missing required value
 */
export function resolveVariable(ctx: ResolveContext, name: string, location: QueryErrorLocation): ResolvedVariable {
  if (name === 'timerange') return { kind: 'instant_range', name, control: 'timerange', range: nonEmpty(ctx.timerange) };
  if (name === 'aggregation') return { kind: 'aggregation', name, control: 'aggregation', option: ctx.aggregation };
  if (name === 'tz') return { kind: 'tz', name, control: 'tz', zone: ctx.dashboardZone };
  if (isFixedAggregation(name)) return { kind: 'fixed_aggregation', name, control: 'fixed aggregation', option: name };
  const def = ctx.definitions.get(name);
  const given = ctx.inputs.get(name);
  const raw: RawValue[] = given ? given.selected_values : (def?.defaultValues ?? []);
  const vctx: ValueContext = { variable: name, zone: ctx.operatingZone, dialect: ctx.input.dialect, location };
  const fail = (m: string): never => {
    throw new QueryCompileError(`Filter '${name}': ${m}`, location, { variable: name });
  };
  if (!def) return resolveList(raw, name, 'adhoc', 'TEXT', true, vctx, null);
  const required = def.required === true;
  switch (def.controlType) {
    case 'date_time_range':
    case 'date_range':
    case 'time_range': {
      const range =
        def.controlType === 'date_time_range'
          ? parseInstantRangeInput(raw, def, vctx, ctx.nowS)
          : def.controlType === 'date_range'
            ? parseDayRangeInput(raw, def, vctx, ctx.nowS)
            : parseTimeRangeInput(raw, def, vctx, ctx.nowS);
      if (!range && required) fail('a value is required');
      const kind = def.controlType === 'date_time_range' ? 'instant_range' : def.controlType === 'date_range' ? 'day_range' : 'time_range';
      return { kind, name, control: def.controlType, range } as ResolvedVariable;
    }
    case 'date_time_aggregation': {
      if (raw.length > 1) fail('an aggregation filter takes one value');
      return { kind: 'aggregation', name, control: def.controlType, option: chooseAggregation(raw[0], def.allowedAggregations, name, location) };
    }
    case 'checkbox': {
      if (raw.length > 1 && new Set(raw).size > 1) fail('a checkbox takes one value (true or false)');
      if (raw[0] === null) fail('a checkbox is true or false, not null');
      const checked = raw.length === 0 ? false : (normalizeValue(raw[0]!, 'BOOLEAN', vctx) as boolean);
      return { kind: 'list', name, control: def.controlType, valueType: 'BOOLEAN', multi: false, values: [checked], hasNull: false };
    }
    case 'checkbox_two_way':
      return resolveList(raw, name, def.controlType, 'BOOLEAN', false, vctx, def);
    case 'date':
      return resolveList(raw, name, def.controlType, 'DATE', false, vctx, def);
    case 'time':
      return resolveList(raw, name, def.controlType, 'TIME', false, vctx, def);
    case 'date_time':
      return resolveList(raw, name, def.controlType, 'DATE_TIME', false, vctx, def);
    default:
      if (!LIST_CONTROLS.has(def.controlType)) fail(`unknown control type ${JSON.stringify(def.controlType)}`);
      return resolveList(raw, name, def.controlType, def.valueType, !SINGLE_CONTROLS.has(def.controlType), vctx, def);
  }
}

function nonEmpty<T extends { start: number | null; endExclusive: number | null }>(r: T): T | null {
  return r.start === null && r.endExclusive === null ? null : r;
}

function resolveList(
  raw: RawValue[],
  name: string,
  control: string,
  valueType: FilterValueType,
  multi: boolean,
  vctx: ValueContext,
  def: FilterDefinition | null,
): ResolvedVariable {
  const fail = (m: string): never => {
    throw new QueryCompileError(`Filter '${name}': ${m}`, vctx.location ?? null, { variable: name });
  };
  const values: CanonicalValue[] = [];
  const seen = new Set<string>();
  let hasNull = false;
  for (const item of raw) {
    const v = normalizeValue(item, valueType, vctx);
    if (v === null) {
      hasNull = true;
      continue;
    }
    const key = `${typeof v}:${String(v)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    values.push(v);
  }
  if (values.length > MAX_SELECTED_VALUES) fail(`at most ${MAX_SELECTED_VALUES} distinct values can be selected, got ${values.length}`);
  if (!multi && values.length + (hasNull ? 1 : 0) > 1) fail(`this ${control} filter accepts one value, got ${values.length + (hasNull ? 1 : 0)}`);
  if (def?.required && values.length === 0 && !hasNull) fail('a value is required');
  if (def?.validValues) {
    const valid = new Set(def.validValues.map((v) => (valueType === 'NUMBER' ? tryCanonicalNumber(v, vctx) : v)));
    for (const v of values) {
      if (!valid.has(String(displayValue(valueType, v))))
        fail(`${JSON.stringify(String(displayValue(valueType, v)).slice(0, 40))} is not one of the filter's options`);
    }
    if (hasNull) fail("null is not one of the filter's options");
  }
  return { kind: 'list', name, control, valueType, multi, values, hasNull };
}

function tryCanonicalNumber(v: string, vctx: ValueContext): string {
  try {
    return normalizeValue(v, 'NUMBER', { ...vctx, dialect: 'postgres' }) as string;
  } catch {
    return v;
  }
}

/** The option-value form of a canonical value (for `validValues` comparison). */
function displayValue(valueType: FilterValueType, v: CanonicalValue): string {
  if (valueType === 'BOOLEAN') return v ? 'true' : 'false';
  if (valueType === 'TIME') {
    const s = Number(v);
    return `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  }
  return String(v);
}
