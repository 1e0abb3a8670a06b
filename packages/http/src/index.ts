export * from './http-errors.js';
export * from './koa.js';
export * from './server.js';
