export * from './filter.fields.js';
export * from './filter.types.js';
export * from './filter.rules.js';
export * from './filter.repository.js';
export * from './filter.service.js';
