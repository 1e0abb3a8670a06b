import { apiKeyFields, type ApiKeyService } from '@sightline/domain';
import { checkQueryParameters, parseResourceDocument, readInput, serialize } from '@sightline/jsonapi';
import { readJsonBody, sendJsonApi, sendNoContent } from '@sightline/http';
import type { ApiContext, ApiRouter } from '../../context.js';
import { apiKeyResource, presentApiKey } from '../../resources/api-key.resource.js';

const HIDE_SECRET = { omitAttributes: ['secret'] };

export interface ApiKeyRouteDeps {
  apiKeys: ApiKeyService;
  maxBodyBytes: number;
}

/** `/api_keys`: list, create, get, update, delete (permission "Manage API Keys"). */
export function registerApiKeyRoutes(router: ApiRouter, deps: ApiKeyRouteDeps): void {
  const body = (ctx: ApiContext) => readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'jsonapi', required: true });

  router.get('/api_keys', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage API Keys');
    const keys = await deps.apiKeys.list(ctx.state.principal.organizationId);
    sendJsonApi(ctx, 200, serialize(apiKeyResource, keys.map(presentApiKey), HIDE_SECRET));
  });

  router.post('/api_keys', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage API Keys');
    const doc = parseResourceDocument(await body(ctx), apiKeyResource);
    const key = await deps.apiKeys.create(ctx.state.principal.organizationId, readInput(doc, apiKeyFields, 'create'));
    sendJsonApi(ctx, 201, serialize(apiKeyResource, presentApiKey(key)));
  });

  router.get('/api_keys/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage API Keys');
    const key = await deps.apiKeys.get(ctx.state.principal.organizationId, ctx.params.id!);
    sendJsonApi(ctx, 200, serialize(apiKeyResource, presentApiKey(key), HIDE_SECRET));
  });

  router.patch('/api_keys/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage API Keys');
    const doc = parseResourceDocument(await body(ctx), apiKeyResource, ctx.params.id);
    const key = await deps.apiKeys.update(ctx.state.principal.organizationId, ctx.params.id!, readInput(doc, apiKeyFields, 'update'));
    sendJsonApi(ctx, 200, serialize(apiKeyResource, presentApiKey(key), HIDE_SECRET));
  });

  router.delete('/api_keys/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage API Keys');
    await deps.apiKeys.delete(ctx.state.principal.organizationId, ctx.params.id!);
    sendNoContent(ctx);
  });
}
