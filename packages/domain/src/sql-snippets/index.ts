export * from './sql-snippet.fields.js';
export * from './sql-snippet.types.js';
export * from './sql-snippet.repository.js';
export * from './sql-snippet.service.js';
