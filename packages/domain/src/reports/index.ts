export * from './report.fields.js';
export * from './report.types.js';
export * from './report.repository.js';
export * from './report.service.js';
export * from './sql-references.js';
export * from './dashboard-references.js';
