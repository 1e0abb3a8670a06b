import type { CreateInputOf, NewRecordOf, PatchOf, RecordOf, RowOf, UpdateInputOf } from '../fields/index.js';
import type { datasourceAgentFields } from './datasource-agent.fields.js';

/** A datasource agent: a process in a customer's network that carries database traffic. Fields: `datasourceAgentFields`. */
export interface DatasourceAgent extends RecordOf<typeof datasourceAgentFields> {
  // restated so that messages and hovers name the type (an empty extension would print its base)
  id: string;
}

/** Create Datasource Agent input: `name` required, `enabled` optional. */
export type CreateDatasourceAgentInput = CreateInputOf<typeof datasourceAgentFields>;

/** Update Datasource Agent input (`name`, `enabled`); `undefined` = unchanged. */
export type UpdateDatasourceAgentInput = UpdateInputOf<typeof datasourceAgentFields>;

/** Row of `datasource_agents`. */
export interface DatasourceAgentRow extends RowOf<typeof datasourceAgentFields> {
  id: string;
}

/** What `DatasourceAgentRepository.insert` takes. */
export type NewDatasourceAgent = NewRecordOf<typeof datasourceAgentFields>;

/** What `DatasourceAgentRepository.update` takes. */
export type DatasourceAgentPatch = PatchOf<typeof datasourceAgentFields>;

/** How long a relay's heartbeat vouches for a connection; older ones count as disconnected. */
export const AGENT_STALE_AFTER_SECONDS = 45;
