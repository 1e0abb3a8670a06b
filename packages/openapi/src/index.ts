export * from './json-schema.js';
export * from './resources.js';
export * from './builder.js';
export * from './data-server.js';
