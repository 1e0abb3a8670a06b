export * from './db.js';
export * from './pg-errors.js';
