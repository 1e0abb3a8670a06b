export * from './datasource-agent.fields.js';
export * from './datasource-agent.types.js';
export * from './datasource-agent.repository.js';
export * from './datasource-agent.service.js';
export * from './agent-protocol.js';
export * from './agent-relay-token.js';
export * from './agent-transport.js';
