export * from './provision-sample-database.js';
export { SAMPLE_ANCHOR, SAMPLE_DATA_VERSION, SAMPLE_ROW_COUNTS } from './sample-data.sql.js';
