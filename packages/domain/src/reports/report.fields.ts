import { z } from 'zod';
import { defineFields, f, nulFreeText, timeOfDaySchema } from '../fields/index.js';

/** Default width of a new report when none is given (grid columns). */
export const DEFAULT_REPORT_WIDTH = 6;
/** Default height of a new report when none is given (grid rows). */
export const DEFAULT_REPORT_HEIGHT = 6;

const LAYOUT_ONLY = 'changes only through Update Dashboard Layout (PUT /dashboards/{id}/layout)';

/**
 * The `reports` resource (contract §3.7), one line per attribute: the domain type `Report`, the row
 * mapping, the API attributes and request schemas, and the backup form all derive from it.
 */
export const reportFields = defineFields({
  id: f.id(),
  organizationId: f.tenant(),
  /** The dashboard the report is on (the backup nests reports under it). */
  dashboardId: f.ref('dashboards').notInBackup(),
  datasourceId: f.ref('datasources'),
  name: f.text(nulFreeText(500).pipe(z.string().min(1, 'must not be empty'))).required(),
  description: f.text({ max: 100_000 }).nullable(),
  sqlQuery: f.text({ max: 1_000_000 }).nullable(),
  rQuery: f.text({ max: 1_000_000 }).nullable(),
  rQueryEnabled: f.boolean().default(false),
  /** Own max age in minutes; null = the dashboard's rate applies. */
  dataRefreshRate: f.value(z.number().int().positive().max(525_600)).nullable(),
  /** Own anchor time `HH:MM`; null = the dashboard's applies. */
  dataRefreshAnchorTime: f.value(timeOfDaySchema).nullable(),
  /** Opaque chart settings (read-only in the API). */
  chartConfiguration: f.json(z.record(z.string(), z.unknown())).readOnly().dbDefault(),
  downloadActionsEnabled: f.boolean().default(true),
  dataDownloadEnabled: f.boolean().default(true),
  maximizeActionEnabled: f.boolean().default(true),
  refreshEnabled: f.boolean().default(true),
  // typed `any` in the doc (⚠ §5.13): treated as boolean
  unusedFiltersWarningEnabled: f.boolean().default(false),
  unlimitedCsvExportEnabled: f.boolean().default(false),
  defaultPageWidth: f.integer(100, 20_000).default(800),
  defaultPageHeight: f.integer(100, 20_000).default(600),
  displayNameAsTitle: f.boolean().default(true),
  attribution: f.text({ max: 10_000 }).nullable(),
  noDataMessage: f.text({ max: 10_000 }).nullable(),
  /** Last query error message (set by the read path), or null. */
  queryError: f.text({ max: 1_000_000 }).nullable().readOnly().notInBackup(),
  createdAt: f.createdAt(),
  updatedAt: f.updatedAt(),
  /** Grid position (1-based row/column, 12 columns), chosen by the server; the layout moves it. */
  row: f.integer(1, 1_000_000).readOnly().unchangedOnUpdate(LAYOUT_ONLY),
  column: f.integer(1, 12).readOnly().unchangedOnUpdate(LAYOUT_ONLY),
  /** Size on the grid: set on create (default 6 × 6); the layout changes it. */
  width: f.integer(1, 12).default(DEFAULT_REPORT_WIDTH).unchangedOnUpdate(LAYOUT_ONLY),
  height: f.integer(1, 1000).default(DEFAULT_REPORT_HEIGHT).unchangedOnUpdate(LAYOUT_ONLY),
});
