import { describe, expect, it } from '@jest/globals';
import { exportFileName, exportParametersDigest } from '../src/export-jobs/index.js';

describe('exportParametersDigest', () => {
  it('is the same for the same parameters in any order, and differs with values or page width', () => {
    const a = exportParametersDigest(
      {
        aggregation: 'day',
        filters: [
          { variable_name: 'b', selected_values: [1] },
          { variable_name: 'a', selected_values: ['x'] },
        ],
      },
      null,
    );
    const b = exportParametersDigest(
      {
        filters: [
          { selected_values: ['x'], variable_name: 'a' },
          { variable_name: 'b', selected_values: [1] },
        ],
        aggregation: 'day',
      },
      null,
    );
    expect(a).toBe(b);
    expect(exportParametersDigest({ aggregation: 'day' }, null)).not.toBe(exportParametersDigest({ aggregation: 'week' }, null));
    expect(exportParametersDigest({}, 1200)).not.toBe(exportParametersDigest({}, null));
    expect(exportParametersDigest({ filters: [] }, null)).toBe(exportParametersDigest({}, null));
  });
});

describe('exportFileName', () => {
  it('keeps the name readable and safe for a file system and a header', () => {
    expect(exportFileName('Sales: Q4/2026', 'pdf')).toBe('Sales Q4 2026.pdf');
    expect(exportFileName('a"b\\c\u0000d\ne', 'png')).toBe('a b c d e.png');
    expect(exportFileName('Umsätze 📈', 'csv')).toBe('Umsätze 📈.csv');
    expect(exportFileName('  ', 'xlsx')).toBe('export.xlsx');
    expect(exportFileName('x'.repeat(500), 'pdf')).toHaveLength(124);
  });
});
