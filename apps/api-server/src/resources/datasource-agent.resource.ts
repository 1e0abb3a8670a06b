import { datasourceAgentFields, type DatasourceAgent, type Principal } from '@sightline/domain';
import { DATASOURCE_VIEW_PERMISSIONS } from '@sightline/domain';
import { defineFieldResource, type ResourceRecord } from '@sightline/jsonapi';

/** `datasource_agents` (contract §3.2): attributes from `datasourceAgentFields`; `secret_key` only in the Create response. */
export const datasourceAgentResource = defineFieldResource({
  type: 'datasource_agents',
  fields: datasourceAgentFields,
  extraAttributes: ['secret_key'],
});

/**
 * An agent as the key sees it: the `datasources` linkage lists only datasources the key may see, so
 * a key limited to some datasources learns nothing about the others.
 */
export function presentDatasourceAgent(agent: DatasourceAgent, principal: Principal): ResourceRecord {
  const datasourceIds = agent.datasourceIds.filter((id) => principal.canUseDatasource(id, ...DATASOURCE_VIEW_PERMISSIONS));
  return datasourceAgentResource.present({ ...agent, datasourceIds });
}
