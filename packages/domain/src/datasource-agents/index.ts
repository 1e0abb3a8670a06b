export * from './datasource-agent.fields.js';
export * from './datasource-agent.types.js';
export * from './datasource-agent.repository.js';
export * from './datasource-agent.service.js';
