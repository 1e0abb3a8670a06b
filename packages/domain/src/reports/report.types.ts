import type { CreateInputOf, NewRecordOf, PatchOf, RecordOf, RowOf, UpdateInputOf } from '../fields/index.js';
import type { reportFields } from './report.fields.js';

/** A report on a dashboard (contract §3.7); its fields are documented in `reportFields`. */
export interface Report extends RecordOf<typeof reportFields> {
  // restated so that messages and hovers name the type `Report` (an empty extension would print its base)
  id: string;
}

/** Create Report input: `name`, `dashboardId`, `datasourceId` required; `width`/`height` the initial size. */
export type CreateReportInput = CreateInputOf<typeof reportFields>;

/** Update Report input; `undefined` = unchanged. Position and size change only through the layout. */
export type UpdateReportInput = UpdateInputOf<typeof reportFields>;

/** Row of `reports`. */
export interface ReportRow extends RowOf<typeof reportFields> {
  id: string;
}

/** What `ReportRepository.insert` takes. */
export type NewReport = NewRecordOf<typeof reportFields>;

/** What `ReportRepository.update` takes. */
export type ReportPatch = PatchOf<typeof reportFields>;
