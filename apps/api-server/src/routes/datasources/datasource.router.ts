import { datasourceFields, type DatasourceAgentService, type DatasourceService } from '@sightline/domain';
import { checkQueryParameters, parseInclude, parseResourceDocument, readInput, serialize } from '@sightline/jsonapi';
import { readJsonBody, sendJson, sendJsonApi, sendNoContent } from '@sightline/http';
import type { ApiContext, ApiRouter } from '../../context.js';
import { datasourceResource, presentDatasource } from '../../resources/datasource.resource.js';
import { includedAgents } from '../datasource-agents/datasource-agent.router.js';

export interface DatasourceRouteDeps {
  datasources: DatasourceService;
  datasourceAgents: DatasourceAgentService;
  maxBodyBytes: number;
}

/** Contract rows 1–6: datasources CRUD and Test Datasource Connection. */
export function registerDatasourceRoutes(router: ApiRouter, deps: DatasourceRouteDeps): void {
  const body = (ctx: ApiContext) => readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'jsonapi', required: true });
  const includeAgents = (ctx: ApiContext) => {
    checkQueryParameters(ctx.query, ['include']);
    return parseInclude(ctx.query.include, ['agents']).has('agents');
  };

  router.get('/datasources', async (ctx) => {
    const agents = includeAgents(ctx);
    const list = await deps.datasources.list(ctx.state.principal);
    const included = agents
      ? await includedAgents(
          deps.datasourceAgents,
          ctx.state.principal,
          list.flatMap((d) => d.agentIds),
        )
      : undefined;
    sendJsonApi(
      ctx,
      200,
      serialize(
        datasourceResource,
        list.map((d) => presentDatasource(d, ctx.state.principal)),
        included ? { included } : {},
      ),
    );
  });

  router.post('/datasources', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    const doc = parseResourceDocument(await body(ctx), datasourceResource);
    const input = readInput(doc, datasourceFields, 'create');
    const ds = await deps.datasources.create(ctx.state.principal, input);
    sendJsonApi(ctx, 201, serialize(datasourceResource, presentDatasource(ds, ctx.state.principal)));
  });

  router.get('/datasources/:id', async (ctx) => {
    const agents = includeAgents(ctx);
    const ds = await deps.datasources.getVisible(ctx.state.principal, ctx.params.id!);
    const included = agents ? await includedAgents(deps.datasourceAgents, ctx.state.principal, ds.agentIds) : undefined;
    sendJsonApi(ctx, 200, serialize(datasourceResource, presentDatasource(ds, ctx.state.principal), included ? { included } : {}));
  });

  router.patch('/datasources/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    const doc = parseResourceDocument(await body(ctx), datasourceResource, ctx.params.id);
    const input = readInput(doc, datasourceFields, 'update');
    const ds = await deps.datasources.update(ctx.state.principal, ctx.params.id!, input);
    sendJsonApi(ctx, 200, serialize(datasourceResource, presentDatasource(ds, ctx.state.principal)));
  });

  router.delete('/datasources/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    await deps.datasources.delete(ctx.state.principal, ctx.params.id!);
    sendNoContent(ctx);
  });

  router.post('/datasources/:id/test_connection', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    sendJson(ctx, 200, await deps.datasources.testConnection(ctx.state.principal, ctx.params.id!));
  });
}
