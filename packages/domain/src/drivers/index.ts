export * from './driver.types.js';
export { createDriver } from './create-driver.js';
export {
  DatasourceSessionPools,
  SessionPool,
  settingsFingerprint,
  type DatasourcePoolOptions,
  type DriverPooling,
  type SessionPoolHooks,
  type SessionPoolOptions,
} from './session-pool.js';
export { rowJsonOf, withRowJson } from './row-json.js';
export { csvBatch, csvPiecesOf, type CsvPiece } from './row-csv.js';
