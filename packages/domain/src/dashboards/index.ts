export * from './dashboard.fields.js';
export * from './dashboard.types.js';
export * from './dashboard.permissions.js';
export * from './dashboard.repository.js';
export * from './dashboard.service.js';
export * from './layout.js';
