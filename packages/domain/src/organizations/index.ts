export * from './organization.types.js';
export * from './organization.repository.js';
export * from './organization.service.js';
