export * from './worker.js';
export * from './jobs/run-export.job.js';
