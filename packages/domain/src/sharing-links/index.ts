export * from './sharing-link.fields.js';
export * from './sharing-link.types.js';
export * from './fixed-parameters.js';
export * from './sharing-link.repository.js';
export * from './sharing-link.service.js';
export * from './shared-dashboard.service.js';
