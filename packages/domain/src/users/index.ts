export * from './user.fields.js';
export * from './user.types.js';
export * from './password.js';
export * from './user.repository.js';
export * from './invitation.mail.js';
export * from './user.service.js';
