import { ValidationError, datasourceFields, type DatasourceService } from '@sightline/domain';
import {
  checkQueryParameters, parseInclude, parseResourceDocument, readInput, readJsonBody, sendJson, sendJsonApi, sendNoContent, serialize,
} from '@sightline/jsonapi';
import type { ApiContext, ApiRouter } from '../../context.js';
import { datasourceResource, presentDatasource } from '../../resources/datasource.resource.js';

/** No datasource agents exist in this build, so any agent linkage names unknown agents. */
function rejectAgents(relationships: Record<string, unknown>): void {
  const agents = relationships.agents;
  if (Array.isArray(agents) && agents.length) {
    throw new ValidationError(`Unknown datasource agent(s): ${agents.join(', ')}`, { source: { pointer: '/data/relationships/agents' } });
  }
}

export interface DatasourceRouteDeps {
  datasources: DatasourceService;
  maxBodyBytes: number;
}

/** Contract rows 1–6: datasources CRUD and Test Datasource Connection. */
export function registerDatasourceRoutes(router: ApiRouter, deps: DatasourceRouteDeps): void {
  const body = (ctx: ApiContext) => readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'jsonapi', required: true });
  // Agents are a separate feature not in this build: `include=agents` is accepted and yields none.
  const includeAgents = (ctx: ApiContext) => {
    checkQueryParameters(ctx.query, ['include']);
    return parseInclude(ctx.query.include, ['agents']).has('agents');
  };

  router.get('/datasources', async (ctx) => {
    const agents = includeAgents(ctx);
    const list = await deps.datasources.list(ctx.state.principal);
    sendJsonApi(ctx, 200, serialize(datasourceResource, list.map((d) => presentDatasource(d, ctx.state.principal)), agents ? { included: [] } : {}));
  });

  router.post('/datasources', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    const doc = parseResourceDocument(await body(ctx), datasourceResource);
    rejectAgents(doc.relationships);
    const input = readInput(doc, datasourceFields, 'create');
    const ds = await deps.datasources.create(ctx.state.principal, input);
    sendJsonApi(ctx, 201, serialize(datasourceResource, presentDatasource(ds, ctx.state.principal)));
  });

  router.get('/datasources/:id', async (ctx) => {
    const agents = includeAgents(ctx);
    const ds = await deps.datasources.getVisible(ctx.state.principal, ctx.params.id!);
    sendJsonApi(ctx, 200, serialize(datasourceResource, presentDatasource(ds, ctx.state.principal), agents ? { included: [] } : {}));
  });

  router.patch('/datasources/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    const doc = parseResourceDocument(await body(ctx), datasourceResource, ctx.params.id);
    rejectAgents(doc.relationships);
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
