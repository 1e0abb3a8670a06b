export * from './db.js';
export * from './pg-errors.js';
export * from './connection-errors.js';
