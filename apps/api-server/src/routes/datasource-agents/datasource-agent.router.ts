import {
  DATASOURCE_AGENT_VIEW_PERMISSIONS,
  datasourceAgentFields,
  type DatasourceAgent,
  type DatasourceAgentService,
  type DatasourceService,
  type Principal,
} from '@sightline/domain';
import { checkQueryParameters, parseInclude, parseResourceDocument, readInput, serialize, type IncludedSet } from '@sightline/jsonapi';
import { readJsonBody, sendJsonApi, sendNoContent } from '@sightline/http';
import type { ApiContext, ApiRouter } from '../../context.js';
import { datasourceAgentResource, presentDatasourceAgent } from '../../resources/datasource-agent.resource.js';
import { datasourceOmissions, datasourceResource, presentDatasource } from '../../resources/datasource.resource.js';

export interface DatasourceAgentRouteDeps {
  datasourceAgents: DatasourceAgentService;
  datasources: DatasourceService;
  maxBodyBytes: number;
}

/** Contract rows 9–13: datasource agents. */
export function registerDatasourceAgentRoutes(router: ApiRouter, deps: DatasourceAgentRouteDeps): void {
  const body = (ctx: ApiContext) => readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'jsonapi', required: true });
  const includeDatasources = (ctx: ApiContext) => {
    checkQueryParameters(ctx.query, ['include']);
    return parseInclude(ctx.query.include, ['datasources']).has('datasources');
  };

  /** The datasources of `agents` the key may see, credentials only where it manages them (contract §4.1.4). */
  async function includedDatasources(principal: Principal, agents: DatasourceAgent[]): Promise<IncludedSet[]> {
    const ids = [...new Set(agents.flatMap((a) => a.datasourceIds))];
    const list = await deps.datasources.listVisibleByIds(principal, ids);
    return list.map((ds) => ({
      definition: datasourceResource,
      records: [presentDatasource(ds, principal)],
      omitAttributes: datasourceOmissions(principal, ds.id),
    }));
  }

  router.get('/datasource_agents', async (ctx) => {
    const include = includeDatasources(ctx);
    const principal = ctx.state.principal;
    const agents = await deps.datasourceAgents.list(principal);
    sendJsonApi(
      ctx,
      200,
      serialize(
        datasourceAgentResource,
        agents.map((a) => presentDatasourceAgent(a, principal)),
        include ? { included: await includedDatasources(principal, agents) } : {},
      ),
    );
  });

  router.post('/datasource_agents', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    const doc = parseResourceDocument(await body(ctx), datasourceAgentResource);
    const { agent, secretKey } = await deps.datasourceAgents.create(ctx.state.principal, readInput(doc, datasourceAgentFields, 'create'));
    const record = presentDatasourceAgent(agent, ctx.state.principal);
    // the secret key is shown here, once; only its hash is stored
    sendJsonApi(ctx, 201, serialize(datasourceAgentResource, { ...record, attributes: { ...record.attributes, secret_key: secretKey } }));
  });

  router.get('/datasource_agents/:id', async (ctx) => {
    const include = includeDatasources(ctx);
    const principal = ctx.state.principal;
    const agent = await deps.datasourceAgents.get(principal, ctx.params.id!);
    sendJsonApi(
      ctx,
      200,
      serialize(datasourceAgentResource, presentDatasourceAgent(agent, principal), include ? { included: await includedDatasources(principal, [agent]) } : {}),
    );
  });

  router.patch('/datasource_agents/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    const doc = parseResourceDocument(await body(ctx), datasourceAgentResource, ctx.params.id);
    const agent = await deps.datasourceAgents.update(ctx.state.principal, ctx.params.id!, readInput(doc, datasourceAgentFields, 'update'));
    sendJsonApi(ctx, 200, serialize(datasourceAgentResource, presentDatasourceAgent(agent, ctx.state.principal)));
  });

  router.delete('/datasource_agents/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    await deps.datasourceAgents.delete(ctx.state.principal, ctx.params.id!);
    sendNoContent(ctx);
  });
}

/** The `agents` of datasources for `include=agents` (View or Manage Datasources). */
export async function includedAgents(agents: DatasourceAgentService, principal: Principal, agentIds: readonly string[]): Promise<IncludedSet[]> {
  principal.requireAny(...DATASOURCE_AGENT_VIEW_PERMISSIONS);
  const list = await agents.listByIds(principal.organizationId, [...new Set(agentIds)]);
  return [{ definition: datasourceAgentResource, records: list.map((a) => presentDatasourceAgent(a, principal)) }];
}
