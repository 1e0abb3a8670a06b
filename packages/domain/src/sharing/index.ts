export * from './dashboard-sharing.service.js';
