import { describe, expect, it } from '@jest/globals';
import { applyFixedParameters, combineFixedParameters, fixedParametersToWire, isAppError, parseFixedParameters } from '../src/index.js';

const now = new Date('2026-01-01T00:00:00Z');

describe('fixed parameters', () => {
  it('parses the Cluvio claim shape and writes it back', () => {
    const fixed = parseFixedParameters({ customer: [7, 'x'], aggregation: 'month', timerange: '1~2' }, '/fixed_parameters', now);
    expect(fixed).toEqual({ aggregation: 'month', timerange: '1~2', filters: Object.assign(Object.create(null), { customer: [7, 'x'] }) });
    expect(fixedParametersToWire(fixed)).toEqual({ customer: [7, 'x'], aggregation: 'month', timerange: '1~2' });
  });

  it('rejects every bad member with a pointer', () => {
    try {
      parseFixedParameters(
        { aggregation: 'fortnight', timerange: 5, tz: 'UTC', 'bad name': [1], single: 'x', huge: Array(1001).fill(1), nul: ['a\u0000'] },
        '/p',
        now,
      );
      throw new Error('no error');
    } catch (err) {
      expect(isAppError(err)).toBe(true);
      const pointers = (err as { errors: Array<{ source?: { pointer?: string } }> }).errors.map((e) => e.source?.pointer);
      expect(pointers).toEqual(['/p/aggregation', '/p/timerange', '/p/tz', '/p/bad name', '/p/single', '/p/huge', '/p/nul']);
    }
  });

  it('treats "__proto__" and "constructor" as plain names', () => {
    const fixed = parseFixedParameters(JSON.parse('{"__proto__": ["a"], "constructor": ["b"]}'), '/p', now);
    expect(Object.keys(fixed.filters).sort()).toEqual(['__proto__', 'constructor']);
    const applied = applyFixedParameters({ filters: [{ variable_name: 'toString', selected_values: ['keep'] }] }, fixed);
    expect(applied.filters).toEqual([
      { variable_name: 'toString', selected_values: ['keep'] },
      { variable_name: '__proto__', selected_values: ['a'] },
      { variable_name: 'constructor', selected_values: ['b'] },
    ]);
  });

  it('forces fixed values over the request; the link wins over the secret', () => {
    const link = parseFixedParameters({ status: ['refunded'] }, '/l', now);
    const secret = parseFixedParameters({ status: ['paid'], region: ['north'], aggregation: 'month' }, '/s', now);
    const fixed = combineFixedParameters(link, secret);
    const applied = applyFixedParameters(
      {
        aggregation: 'day',
        timerange: '~',
        filters: [
          { variable_name: 'status', selected_values: ['open'] },
          { variable_name: 'other', selected_values: [1] },
        ],
      },
      fixed,
    );
    expect(applied).toEqual({
      aggregation: 'month',
      timerange: '~',
      filters: [
        { variable_name: 'other', selected_values: [1] },
        { variable_name: 'status', selected_values: ['refunded'] },
        { variable_name: 'region', selected_values: ['north'] },
      ],
    });
  });
});
