export * from './dashboard-group.fields.js';
export * from './dashboard-group.types.js';
export * from './dashboard-group.repository.js';
export * from './dashboard-group.service.js';
