export * from './dashboard-schedule.fields.js';
export * from './dashboard-schedule.types.js';
export * from './dashboard-schedule.repository.js';
export * from './dashboard-schedule.service.js';
export * from './dashboard-schedule.runner.js';
