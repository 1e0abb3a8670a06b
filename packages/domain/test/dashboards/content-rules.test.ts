import { describe, expect, it } from '@jest/globals';
import { AppErrors } from '../../src/errors.js';
import { findFreePosition, isOnGrid, overlaps, validateLayout, type LayoutItem } from '../../src/dashboards/layout.js';
import { checkFilter } from '../../src/filters/filter.rules.js';
import { findSqlReferences } from '../../src/reports/sql-references.js';
import { normalizeTimeOfDay } from '../../src/dashboards/dashboard.permissions.js';

const item = (id: string, row: number, column: number, width: number, height: number): LayoutItem => ({ type: 'report', id, row, column, width, height });

function errorsOf(fn: () => void): Array<{ pointer?: string; code: string }> {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppErrors) return err.errors.map((e) => ({ pointer: e.source?.pointer, code: e.code }));
    throw err;
  }
  return [];
}

describe('grid', () => {
  it('detects overlaps and edges', () => {
    expect(overlaps(item('a', 1, 1, 6, 2), item('b', 2, 6, 2, 2))).toBe(true);
    expect(overlaps(item('a', 1, 1, 6, 2), item('b', 3, 1, 6, 2))).toBe(false);
    expect(overlaps(item('a', 1, 1, 6, 2), item('b', 1, 7, 6, 2))).toBe(false);
    expect(isOnGrid(item('a', 1, 12, 1, 1))).toBe(true);
    expect(isOnGrid(item('a', 1, 12, 2, 1))).toBe(false);
    expect(isOnGrid(item('a', 1, 0, 2, 1))).toBe(false);
    expect(isOnGrid(item('a', 0, 1, 2, 1))).toBe(false);
    expect(isOnGrid(item('a', 1, 1, 2, 0))).toBe(false);
    expect(isOnGrid(item('a', 1.5, 1, 2, 1))).toBe(false);
  });

  it('finds the first free position top to bottom, left to right', () => {
    expect(findFreePosition([], 6, 6)).toEqual({ row: 1, column: 1 });
    expect(findFreePosition([item('a', 1, 1, 6, 6)], 6, 6)).toEqual({ row: 1, column: 7 });
    expect(findFreePosition([item('a', 1, 1, 8, 4)], 6, 2)).toEqual({ row: 5, column: 1 });
    expect(findFreePosition([item('a', 1, 1, 8, 4)], 4, 2)).toEqual({ row: 1, column: 9 });
    // a hole wide enough is reused
    expect(findFreePosition([item('a', 1, 1, 12, 1), item('b', 3, 1, 12, 1)], 12, 1)).toEqual({ row: 2, column: 1 });
    expect(findFreePosition([item('a', 1, 1, 12, 1), item('b', 3, 1, 12, 1)], 12, 2)).toEqual({ row: 4, column: 1 });
  });

  it('validates complete layouts', () => {
    expect(errorsOf(() => validateLayout(['a', 'b'], [item('a', 1, 1, 6, 2), item('b', 1, 7, 6, 2)]))).toEqual([]);
    expect(errorsOf(() => validateLayout(['a', 'b'], [item('a', 1, 1, 6, 2)]))).toEqual([{ pointer: '/layout', code: 'layout_missing_report' }]);
    expect(errorsOf(() => validateLayout(['a', 'b'], [item('a', 1, 1, 6, 2), item('b', 2, 6, 6, 2)]))).toEqual([
      { pointer: '/layout/1', code: 'layout_overlap' },
    ]);
    expect(errorsOf(() => validateLayout(['a'], [item('a', 1, 1, 6, 2), item('x', 5, 1, 1, 1)]))).toEqual([
      { pointer: '/layout/1/id', code: 'layout_unknown_report' },
    ]);
    expect(errorsOf(() => validateLayout(['a'], [item('a', 1, 8, 6, 2)]))).toEqual([{ pointer: '/layout/0', code: 'layout_out_of_grid' }]);
    expect(errorsOf(() => validateLayout([], []))).toEqual([]);
  });
});

describe('time of day', () => {
  it('accepts HH:MM[:SS][Z] and emits HH:MM', () => {
    expect(normalizeTimeOfDay('15:42')).toBe('15:42');
    expect(normalizeTimeOfDay('14:15:22Z')).toBe('14:15');
    expect(normalizeTimeOfDay('00:00:59')).toBe('00:00');
    for (const bad of ['24:00', '9:00', '12:60', '12:00:60', '12:00+01:00', '', 'noon']) expect(normalizeTimeOfDay(bad)).toBeUndefined();
  });
});

describe('SQL references', () => {
  it('lists variables of every parameter form, skipping strings and comments', () => {
    const refs = findSqlReferences(
      "SELECT {[a::date]:agg_f}, {b.count}, {x} FROM t WHERE {c=cond_f.next} AND {[lower({d=inner_f})]=outer_f} AND '{s=string_f}' -- {c=comment_f}\n /* {c=block_f} */",
      [],
    );
    expect(refs.variables.sort()).toEqual(['agg_f', 'b', 'cond_f', 'inner_f', 'outer_f', 'x'].sort());
  });

  it('expands snippets first and reports their closure', () => {
    const refs = findSqlReferences('SELECT 1 WHERE [outer_s]', [
      { name: 'outer_s', text: '[inner_s] AND {y=from_snippet}' },
      { name: 'inner_s', text: '{z=deep}' },
      { name: 'unused', text: '{u=unused_v}' },
    ]);
    expect(refs.variables.sort()).toEqual(['deep', 'from_snippet']);
    expect(refs.snippetNames.sort()).toEqual(['inner_s', 'outer_s']);
  });

  it('tolerates SQL the compiler would reject', () => {
    expect(
      findSqlReferences('[a] {x=v}', [
        { name: 'a', text: '[b]' },
        { name: 'b', text: '[a]' },
      ]).variables,
    ).toEqual(['v']);
    expect(findSqlReferences(null, []).variables).toEqual([]);
    expect(findSqlReferences('{ unterminated', []).variables).toEqual([]);
  });
});

describe('filter rules', () => {
  const base = {
    displayName: null,
    values: null,
    valueNames: null,
    sqlQuery: null,
    datasourceId: null,
    parentFilterId: null,
    dataRefreshRate: null,
    defaultValues: null,
    required: false,
    dropdownValidate: false,
    relativeRangeEnabled: true,
    beforeRangeEnabled: true,
    afterRangeEnabled: true,
    fromToRangeEnabled: true,
    allowedAggregations: null,
  } as const;

  it('checks control/value types, reserved names and defaults', () => {
    expect(errorsOf(() => checkFilter({ ...base, variableName: 'ok', controlType: 'date_time_range', valueType: 'DATE_TIME' }))).toEqual([]);
    expect(errorsOf(() => checkFilter({ ...base, variableName: 'ok', controlType: 'date_time_range', valueType: 'DATE' }))[0]?.pointer).toBe(
      '/data/attributes/value_type',
    );
    expect(errorsOf(() => checkFilter({ ...base, variableName: 'aggregation', controlType: 'input', valueType: 'TEXT' }))[0]?.code).toBe(
      'reserved_variable_name',
    );
    expect(errorsOf(() => checkFilter({ ...base, variableName: 'Month', controlType: 'input', valueType: 'TEXT' }))[0]?.code).toBe('reserved_variable_name');
    expect(
      errorsOf(() =>
        checkFilter({
          ...base,
          variableName: 'ok',
          controlType: 'date_time_aggregation',
          valueType: 'TEXT',
          allowedAggregations: ['all_time'],
          defaultValues: ['all_time'],
        }),
      ),
    ).toEqual([]);
    expect(
      errorsOf(() => checkFilter({ ...base, variableName: 'ok', controlType: 'date_time_aggregation', valueType: 'TEXT', defaultValues: ['all_time'] }))[0]
        ?.pointer,
    ).toBe('/data/attributes/default_values');
    expect(
      errorsOf(() => checkFilter({ ...base, variableName: 'ok', controlType: 'dropdown_manual', valueType: 'DATE', values: ['2024-01-01', 'soon'] }))[0]
        ?.pointer,
    ).toBe('/data/attributes/values');
  });
});
