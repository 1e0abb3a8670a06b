export * from './field.js';
export * from './field-table.js';
export * from './sealer.js';
export * from './schemas.js';
