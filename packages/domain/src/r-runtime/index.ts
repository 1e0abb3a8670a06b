export * from './r-runtime.js';
