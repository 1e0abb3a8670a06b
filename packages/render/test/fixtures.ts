// Sample dashboards and results shared by the render tests and the benchmark.

import type { RenderDashboard, RenderField, RenderReportItem, RenderResult } from '../src/index.js';

const monthFields: RenderField[] = [
  { name: 'month', human_name: 'Month', data_type: 'Date' },
  { name: 'revenue', human_name: 'Revenue', data_type: 'Float' },
  { name: 'orders', human_name: 'Orders', data_type: 'Integer' },
];

/** Twelve months of revenue and orders (deterministic). */
export function monthlyResult(): RenderResult {
  const rows = Array.from({ length: 12 }, (_, i) => [`2026-${String(i + 1).padStart(2, '0')}-01`, 1000 + i * 137.5 + (i % 3) * 250, 40 + ((i * 7) % 13)]);
  return { fields: monthFields, rows, totalRows: rows.length, dataTimestamp: new Date('2026-12-03T04:00:00Z'), timeZone: 'Europe/Berlin' };
}

/** Orders per status (a category and a count). */
export function statusResult(): RenderResult {
  const rows = [
    ['paid', 1234],
    ['shipped', 987],
    ['refunded', 120],
    ['cancelled', 75],
  ];
  return {
    fields: [
      { name: 'status', data_type: 'String' },
      { name: 'count', data_type: 'BigInt' },
    ],
    rows,
    totalRows: rows.length,
    dataTimestamp: new Date('2026-12-03T04:10:00Z'),
    timeZone: 'UTC',
  };
}

/** A table result of `n` shown rows out of `total`. */
export function tableResult(n: number, total = n): RenderResult {
  const rows = Array.from({ length: n }, (_, i) => [
    i + 1,
    `Customer ${i + 1}`,
    (i * 19.25).toFixed(2),
    `2026-11-${String((i % 28) + 1).padStart(2, '0')}T10:15:00Z`,
  ]);
  return {
    fields: [
      { name: 'id', data_type: 'Integer' },
      { name: 'name', data_type: 'String' },
      { name: 'amount', data_type: 'Float' },
      { name: 'created_at', data_type: 'DateTime' },
    ],
    rows: rows.map((r) => [r[0], r[1], Number(r[2]), r[3]]),
    totalRows: total,
    dataTimestamp: new Date('2026-12-03T03:55:00Z'),
    timeZone: 'UTC',
  };
}

/** A dashboard with one report of each common chart type on the 12-column grid. */
export function sampleDashboard(overrides: Partial<RenderDashboard> = {}): RenderDashboard {
  const items: RenderReportItem[] = [
    {
      report: { name: 'Revenue by month', chartConfiguration: { type: 'line', x: 'month', y: ['revenue'] }, row: 1, column: 1, width: 8, height: 6 },
      result: monthlyResult(),
    },
    {
      report: { name: 'Total orders', chartConfiguration: { type: 'number', y: 'orders' }, row: 1, column: 9, width: 4, height: 3 },
      result: { ...statusResult(), fields: [{ name: 'orders', data_type: 'Integer' }], rows: [[2416]], totalRows: 1 },
    },
    { report: { name: 'Orders by status', chartConfiguration: { type: 'pie' }, row: 4, column: 9, width: 4, height: 3 }, result: statusResult() },
    { report: { name: 'Status counts', chartConfiguration: { type: 'bar' }, row: 7, column: 1, width: 4, height: 5 }, result: statusResult() },
    {
      report: { name: 'Monthly orders', chartConfiguration: { type: 'column', x: 'month', y: 'orders' }, row: 7, column: 5, width: 4, height: 5 },
      result: monthlyResult(),
    },
    {
      report: { name: 'Revenue area', chartConfiguration: { type: 'area', x: 'month', y: 'revenue' }, row: 7, column: 9, width: 4, height: 5 },
      result: monthlyResult(),
    },
    {
      report: { name: 'Revenue vs orders', chartConfiguration: { type: 'scatter', x: 'orders', y: 'revenue' }, row: 12, column: 1, width: 4, height: 5 },
      result: monthlyResult(),
    },
    { report: { name: 'Latest customers', chartConfiguration: {}, row: 12, column: 5, width: 5, height: 5 }, result: tableResult(30, 1234) },
    { report: { name: 'Funnel of signups', chartConfiguration: { type: 'funnel' }, row: 12, column: 10, width: 3, height: 5 }, result: statusResult() },
  ];
  return {
    name: 'Sales overview',
    timeZone: 'Europe/Berlin',
    colorScheme: 'scheme_6',
    parameters: { timerange: '1764547200~1767225599', aggregation: 'month', filters: [{ variable_name: 'region', selected_values: ['EU', 'US'] }] },
    pageWidth: 1600,
    reports: items,
    ...overrides,
  };
}
