export * from './driver.types.js';
export { createDriver } from './create-driver.js';
