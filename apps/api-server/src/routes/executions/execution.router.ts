import { BadRequestError, type ExecutionService } from '@sightline/domain';
import { checkQueryParameters, serialize, validate } from '@sightline/jsonapi';
import { readJsonBody, sendJson, sendJsonApi, sendNoContent } from '@sightline/http';
import type { ApiRouter } from '../../context.js';
import { executionResource, presentExecution } from '../../resources/execution.resource.js';
import { runExecutionBody } from './execution.schema.js';

export interface ExecutionRouteDeps {
  executions: ExecutionService;
  maxBodyBytes: number;
}

/** Contract rows 7, 8, 14–17: executions, datasource schema refresh and schema data keys. */
export function registerExecutionRoutes(router: ApiRouter, deps: ExecutionRouteDeps): void {
  router.post('/datasources/:id/executions', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    const body = validate(runExecutionBody, await readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'json', required: true }), '');
    const execution = await deps.executions.runAdHoc(ctx.state.principal, ctx.params.id!, {
      sqlQuery: body.sql_query,
      rQuery: body.r_query ?? null,
      parameters: body.parameters,
      reuseSeconds: body.reuse_seconds,
    });
    sendJsonApi(ctx, 201, serialize(executionResource, presentExecution(execution)));
  });

  router.get('/executions/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    const execution = await deps.executions.get(ctx.state.principal, ctx.params.id!);
    sendJsonApi(ctx, 200, serialize(executionResource, presentExecution(execution)));
  });

  router.post('/executions/:id/cancel', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    await deps.executions.cancel(ctx.state.principal, ctx.params.id!);
    sendNoContent(ctx);
  });

  router.get('/executions/:id/data', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    const data = await deps.executions.data(ctx.state.principal, ctx.params.id!);
    if (data) sendJson(ctx, 200, data);
    else sendNoContent(ctx);
  });

  router.post('/datasources/:id/refresh', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    const execution = await deps.executions.refreshDatasource(ctx.state.principal, ctx.params.id!);
    sendJson(ctx, 200, { execution_id: execution.id });
  });

  router.get('/datasources/:id/schema', async (ctx) => {
    checkQueryParameters(ctx.query, ['name']);
    const name = ctx.query.name;
    if (Array.isArray(name)) throw new BadRequestError('"name" may be given once', { source: { parameter: 'name' } });
    // Always the key at once (contract row 8); before the first refresh the data server answers 204.
    sendJson(ctx, 200, await deps.executions.schema(ctx.state.principal, ctx.params.id!, name || undefined));
  });
}
