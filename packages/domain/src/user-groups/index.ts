export * from './user-group.fields.js';
export * from './user-group.types.js';
export * from './user-group.repository.js';
export * from './user-group.memberships.js';
export * from './user-group.service.js';
