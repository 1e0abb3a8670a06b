import { compileQuery, QueryCompileError, type CompileInput, type CompiledQuery, type FilterDefinition } from '../../src/query/index.js';

/** Fixed "now" for golden tests: Wednesday 2023-03-22 12:34:56 UTC. */
export const NOW = new Date('2023-03-22T12:34:56Z');

/** Compiles with sensible defaults (postgres, data zone UTC, no dashboard zone). */
export function compile(sql: string, over: Partial<CompileInput> = {}): CompiledQuery {
  return compileQuery({
    sql,
    dialect: 'postgres',
    snippets: [],
    filters: [],
    parameters: {},
    dataTimeZone: 'UTC',
    dashboardTimeZone: null,
    now: NOW,
    ...over,
  });
}

/** Same as `compile` for MySQL. */
export function compileMy(sql: string, over: Partial<CompileInput> = {}): CompiledQuery {
  return compile(sql, { dialect: 'mysql', ...over });
}

/** Filter input shorthand. */
export function sel(variable_name: string, ...selected_values: Array<string | number | boolean | null>) {
  return { variable_name, selected_values };
}

/** Filter definition shorthand. */
export function def(
  variableName: string,
  controlType: FilterDefinition['controlType'],
  valueType: FilterDefinition['valueType'] = 'TEXT',
  extra: Partial<FilterDefinition> = {},
): FilterDefinition {
  return { variableName, controlType, valueType, ...extra };
}

/** Runs `fn`, expects a QueryCompileError and returns it. */
export function compileError(fn: () => unknown): QueryCompileError {
  try {
    fn();
  } catch (e) {
    if (e instanceof QueryCompileError) return e;
    throw e;
  }
  throw new Error('expected a QueryCompileError');
}
