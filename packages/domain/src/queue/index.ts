export * from './queue.js';
export * from './scheduling-queues.js';
