export * from './datasource.fields.js';
export * from './datasource.types.js';
export * from './datasource.repository.js';
export * from './datasource.service.js';
