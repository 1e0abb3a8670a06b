import { sqlSnippetFields, type DatasourceService, type Principal, type SqlSnippet, type SqlSnippetService } from '@sightline/domain';
import { checkQueryParameters, parseInclude, parseResourceDocument, readInput, serialize, type IncludedSet } from '@sightline/jsonapi';
import { readJsonBody, sendJsonApi, sendNoContent } from '@sightline/http';
import type { ApiContext, ApiRouter } from '../../context.js';
import { datasourceResource, datasourceOmissions, presentDatasource } from '../../resources/datasource.resource.js';
import { presentSqlSnippet, sqlSnippetResource } from '../../resources/sql-snippet.resource.js';

export interface SqlSnippetRouteDeps {
  sqlSnippets: SqlSnippetService;
  datasources: DatasourceService;
  maxBodyBytes: number;
}

/** Contract rows 63–67: SQL snippets. */
export function registerSqlSnippetRoutes(router: ApiRouter, deps: SqlSnippetRouteDeps): void {
  const body = (ctx: ApiContext) => readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'jsonapi', required: true });

  async function included(principal: Principal, snippet: SqlSnippet, include: Set<string>): Promise<IncludedSet[]> {
    const sets: IncludedSet[] = [];
    if (include.has('datasource')) {
      principal.requireAny('View Datasources', 'Manage Datasources', 'Manage Dashboards');
      const ds = await deps.datasources.getVisible(principal, snippet.datasourceId).catch(() => undefined);
      if (ds) sets.push({ definition: datasourceResource, records: [presentDatasource(ds, principal)], omitAttributes: datasourceOmissions(principal, ds.id) });
    }
    if (include.has('sql_snippets')) {
      const refs = await deps.sqlSnippets.listByIds(principal.organizationId, snippet.sqlSnippetIds);
      sets.push({ definition: sqlSnippetResource, records: refs.map(presentSqlSnippet) });
    }
    return sets;
  }

  router.get('/sql_snippets', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    const list = await deps.sqlSnippets.list(ctx.state.principal);
    sendJsonApi(ctx, 200, serialize(sqlSnippetResource, list.map(presentSqlSnippet)));
  });

  router.post('/sql_snippets', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    const doc = parseResourceDocument(await body(ctx), sqlSnippetResource);
    const snippet = await deps.sqlSnippets.create(ctx.state.principal, readInput(doc, sqlSnippetFields, 'create'));
    sendJsonApi(ctx, 201, serialize(sqlSnippetResource, presentSqlSnippet(snippet)));
  });

  router.get('/sql_snippets/:id', async (ctx) => {
    checkQueryParameters(ctx.query, ['include']);
    const include = parseInclude(ctx.query.include, ['datasource', 'sql_snippets']);
    const snippet = await deps.sqlSnippets.get(ctx.state.principal, ctx.params.id!);
    sendJsonApi(ctx, 200, serialize(sqlSnippetResource, presentSqlSnippet(snippet), { included: await included(ctx.state.principal, snippet, include) }));
  });

  router.patch('/sql_snippets/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    const doc = parseResourceDocument(await body(ctx), sqlSnippetResource, ctx.params.id);
    const snippet = await deps.sqlSnippets.update(ctx.state.principal, ctx.params.id!, readInput(doc, sqlSnippetFields, 'update'));
    sendJsonApi(ctx, 200, serialize(sqlSnippetResource, presentSqlSnippet(snippet)));
  });

  router.delete('/sql_snippets/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    await deps.sqlSnippets.delete(ctx.state.principal, ctx.params.id!);
    sendNoContent(ctx);
  });
}
