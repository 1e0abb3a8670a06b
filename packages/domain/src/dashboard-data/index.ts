export * from './freshness.js';
export * from './dashboard-data.service.js';
