import { AppErrors, ValidationError, type AppError } from '../errors.js';
import type { FilterScalar } from '../filters/filter.types.js';
import { AGGREGATION_OPTIONS, type AggregationOption, type InputParameters } from '../query/query.types.js';
import { parseTimerange } from '../query/ranges.js';
import type { FixedParameters } from './sharing-link.types.js';

const VARIABLE_NAME = /^[A-Za-z0-9_-]{1,200}$/;
const MAX_FILTERS = 100;
const MAX_VALUES = 1000;
const MAX_TEXT = 10_000;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isScalar(v: unknown): v is FilterScalar {
  return (
    v === null ||
    typeof v === 'boolean' ||
    (typeof v === 'number' && Number.isFinite(v)) ||
    (typeof v === 'string' && v.length <= MAX_TEXT && !v.includes('\u0000'))
  );
}

/**
 * Parses fixed parameters in Cluvio's wire shape: `{"<variable>": [values…], "aggregation": "<option>",
 * "timerange": "<S>~<E>"}` (custom filters as lists, the built-ins as single values).
 * @param pointer JSON pointer of the object in the request (errors point below it)
 * @param now to check that a timerange parses
 * @throws AppErrors (422) listing every problem
 */
export function parseFixedParameters(raw: unknown, pointer: string, now: Date): FixedParameters {
  if (!isObject(raw))
    throw new ValidationError('fixed_parameters must be an object of filter name → list of values ("aggregation" and "timerange" as single values)', {
      source: { pointer },
    });
  const errors: AppError[] = [];
  // null prototype: a variable named "__proto__" or "constructor" is just a name here
  const out: FixedParameters = { filters: Object.create(null) as Record<string, FilterScalar[]> };
  const entries = Object.entries(raw);
  if (entries.length > MAX_FILTERS + 2) errors.push(new ValidationError(`fixed_parameters may name at most ${MAX_FILTERS} filters`, { source: { pointer } }));
  for (const [name, value] of entries.slice(0, MAX_FILTERS + 2)) {
    const at = `${pointer}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (name === 'aggregation') {
      if (typeof value !== 'string' || !AGGREGATION_OPTIONS.includes(value as AggregationOption)) {
        errors.push(new ValidationError(`fixed_parameters.aggregation must be one of ${AGGREGATION_OPTIONS.join(', ')}`, { source: { pointer: at } }));
      } else out.aggregation = value as AggregationOption;
    } else if (name === 'timerange') {
      if (typeof value !== 'string' || value.length > 200) {
        errors.push(new ValidationError('fixed_parameters.timerange must be a timerange string such as "1712233090~1712237090"', { source: { pointer: at } }));
        continue;
      }
      try {
        parseTimerange(value, now, 'UTC');
        out.timerange = value;
      } catch (err) {
        errors.push(new ValidationError(`fixed_parameters.timerange: ${(err as Error).message}`, { source: { pointer: at } }));
      }
    } else if (name === 'tz') {
      errors.push(new ValidationError('fixed_parameters cannot fix "tz"', { source: { pointer: at } }));
    } else if (!VARIABLE_NAME.test(name)) {
      errors.push(
        new ValidationError(`fixed_parameters: "${name.slice(0, 50)}" is not a filter variable name (letters, digits, "_" or "-")`, {
          source: { pointer: at },
        }),
      );
    } else if (!Array.isArray(value) || value.length > MAX_VALUES || !value.every(isScalar)) {
      errors.push(
        new ValidationError(`fixed_parameters.${name} must be a list of at most ${MAX_VALUES} strings, numbers, booleans or nulls`, {
          source: { pointer: at },
        }),
      );
    } else {
      out.filters[name] = [...value];
    }
  }
  if (errors.length) throw new AppErrors(errors);
  return out;
}

/** The wire shape of fixed parameters (what the API shows and what a sharing-secret JWT carries). */
export function fixedParametersToWire(fixed: FixedParameters): Record<string, unknown> {
  return {
    ...Object.fromEntries(Object.entries(fixed.filters)),
    ...(fixed.aggregation !== undefined ? { aggregation: fixed.aggregation } : {}),
    ...(fixed.timerange !== undefined ? { timerange: fixed.timerange } : {}),
  };
}

/**
 * The fixed parameters in force for one page: the link's, plus those of the sharing secret that
 * opened it. On a name both fix, the link wins: a host application can narrow what an admin
 * fixed on the link, never replace it.
 */
export function combineFixedParameters(link: FixedParameters | null, secret: FixedParameters | null): FixedParameters {
  const filters = Object.create(null) as Record<string, FilterScalar[]>;
  for (const source of [secret?.filters, link?.filters]) {
    for (const [name, values] of Object.entries(source ?? {})) filters[name] = values;
  }
  const out: FixedParameters = { filters };
  const aggregation = link?.aggregation ?? secret?.aggregation;
  const timerange = link?.timerange ?? secret?.timerange;
  if (aggregation !== undefined) out.aggregation = aggregation;
  if (timerange !== undefined) out.timerange = timerange;
  return out;
}

/** True when nothing is fixed. */
export function isEmptyFixed(fixed: FixedParameters): boolean {
  return fixed.aggregation === undefined && fixed.timerange === undefined && Object.keys(fixed.filters).length === 0;
}

/**
 * Request parameters with the fixed ones forced in: whatever the request says about a fixed filter,
 * `aggregation` or `timerange` is replaced, so the fixed values always reach the query compiler.
 */
export function applyFixedParameters(request: InputParameters | undefined, fixed: FixedParameters): InputParameters {
  const out: InputParameters = { ...(request ?? {}) };
  if (fixed.aggregation !== undefined) out.aggregation = fixed.aggregation;
  if (fixed.timerange !== undefined) out.timerange = fixed.timerange;
  const fixedNames = Object.keys(fixed.filters);
  if (fixedNames.length || out.filters) {
    const free = (out.filters ?? []).filter((f) => !Object.hasOwn(fixed.filters, f.variable_name));
    out.filters = [...free, ...fixedNames.map((name) => ({ variable_name: name, selected_values: [...fixed.filters[name]!] }))];
  }
  return out;
}
