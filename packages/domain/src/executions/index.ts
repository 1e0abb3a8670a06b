export * from './execution.types.js';
export * from './data-key.js';
export * from './execution.repository.js';
export * from './execution.service.js';
export * from './execution-runner.js';
export * from './stale-work-sweeper.js';
