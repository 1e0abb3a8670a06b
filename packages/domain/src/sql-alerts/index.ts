export * from './alert-evaluation.js';
export * from './result-cursor.js';
export * from './sql-alert.fields.js';
export * from './sql-alert.types.js';
export * from './sql-alert.repository.js';
export * from './sql-alert.service.js';
export * from './sql-alert.runner.js';
