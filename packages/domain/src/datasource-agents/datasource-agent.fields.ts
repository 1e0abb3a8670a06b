import { defineFields, f, nulFreeText } from '../fields/index.js';

/**
 * The `datasource_agents` resource (contract §3.2), one line per attribute: the domain type
 * `DatasourceAgent`, the row mapping, the API attributes and the request schemas derive from it.
 * Only `name` and `enabled` are writable (contract row 12); the connection state is kept by the
 * relay that holds the agent's WebSocket.
 */
export const datasourceAgentFields = defineFields({
  id: f.id(),
  organizationId: f.tenant(),
  /** The agent's identifier (the same value as the JSON:API id). */
  agentId: f.text({ max: 100 }).readOnly().column(false),
  name: f.text(nulFreeText(200).trim().min(1)).required(),
  /** Last known agent version (reported by the agent when it connects). */
  version: f.text({ max: 100 }).nullable().readOnly(),
  /** Last known IP address of the agent as seen by the server. */
  address: f.text({ max: 100 }).nullable().readOnly(),
  connected: f.boolean().readOnly().dbDefault(),
  /** Approximate number of database sessions the agent carries right now. */
  activeQueries: f.integer(0, 1_000_000).readOnly().dbDefault(),
  /** Only enabled agents can connect; disabling a connected agent disconnects it. */
  enabled: f.boolean().default(true),
  createdAt: f.createdAt(),
  updatedAt: f.updatedAt(),
  /** SHA-256 of the secret key (the key is shown once, at creation). */
  secretKeyHash: f.text({ max: 200 }).internal(),
  /** Identifies the WebSocket connection the relay holds (a newer connection replaces an older one). */
  connectionId: f.text({ max: 100 }).nullable().internal(),
  /** Internal URL of the relay (API server process) holding the agent's connection. */
  relayUrl: f.text({ max: 2000 }).nullable().internal(),
  /** Last heartbeat of the relay for this connection; a stale one means the relay is gone. */
  lastSeenAt: f.timestamp().nullable().internal(),
  /** The datasources that use the agent (`datasource_agent_links`); not writable here. */
  datasourceIds: f.refs('datasources').readOnly(),
});
