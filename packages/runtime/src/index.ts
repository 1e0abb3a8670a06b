export * from './process-lifecycle.js';
export * from './embedded-postgres.js';
export * from './runtime-secrets.js';
export * from './sample-data/index.js';
