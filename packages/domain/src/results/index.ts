export * from './field-stats.js';
export * from './result-store.js';
export * from './pg-result-store.js';
export * from './result-writer.js';
export * from './gzip-members.js';
export * from './cached-result-store.js';
