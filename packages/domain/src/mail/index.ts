export * from './mail.types.js';
export * from './mailer.js';
export * from './mail.queue.js';
export * from './mail.service.js';
export * from './mail-delivery.repository.js';
export * from './email-list.js';
