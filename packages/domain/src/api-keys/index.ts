export * from './permissions.js';
export * from './api-key.fields.js';
export * from './api-key.types.js';
export * from './api-key.repository.js';
export * from './api-key.service.js';
export * from './auth-failure-limiter.js';
