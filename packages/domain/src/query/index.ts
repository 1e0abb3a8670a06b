export * from './query.types.js';
export { QueryCompileError, positionAt, type QueryErrorLocation } from './query-compile-error.js';
export { compileQuery, mayReferenceDefinitions } from './compile-query.js';
export { expandSnippets, parseSnippetParams, MAX_SNIPPET_DEPTH, BUILTIN_SNIPPET_NAMES } from './snippets.js';
export { parseTimerange, parseRelativeRange, resolveRelativeRange, type InstantRange, type RelativeRange, type RangeUnit } from './ranges.js';
export { isValidTimeZone } from './time-zones.js';
export { FIXED_AGGREGATIONS, mysqlTimeZoneProbeSql, assertMysqlTimeZoneProbe } from './aggregation.js';
export { isReservedVariableName } from './resolve.js';
