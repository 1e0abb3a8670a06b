export * from './export-job.types.js';
export * from './export-job.repository.js';
export * from './export-file-store.js';
export * from './export-job.service.js';
export * from './export-job.runner.js';
