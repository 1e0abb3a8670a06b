export * from './app.js';
export { pageOrigins } from './cors.js';
