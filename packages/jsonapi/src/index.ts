export * from './media-types.js';
export * from './serializer.js';
export * from './errors.js';
export * from './request.js';
export * from './field-resource.js';
