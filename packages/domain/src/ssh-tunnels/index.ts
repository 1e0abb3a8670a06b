export * from './ssh-key.repository.js';
export * from './ssh-key.service.js';
export * from './ssh-tunnel-pool.js';
