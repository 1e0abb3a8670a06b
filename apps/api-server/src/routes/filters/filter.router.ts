import { filterFields, type DatasourceService, type Filter, type FilterService, type SqlSnippetService } from '@sightline/domain';
import { checkQueryParameters, parseInclude, parseResourceDocument, readInput, serialize, type IncludedSet } from '@sightline/jsonapi';
import { readJsonBody, sendJsonApi, sendNoContent } from '@sightline/http';
import type { ApiContext, ApiRouter } from '../../context.js';
import { checkLinkageIds, pathId } from '../dashboards/ids.js';
import { filterResource, presentFilter } from '../../resources/filter.resource.js';
import { presentSqlSnippet, sqlSnippetResource } from '../../resources/sql-snippet.resource.js';
import { includedDatasource, requireDatasourceInclude } from '../reports/report.router.js';

export interface FilterRouteDeps {
  filters: FilterService;
  datasources: DatasourceService;
  sqlSnippets: SqlSnippetService;
  maxBodyBytes: number;
}

/** Contract rows 56–60: filters (`values`/`value_names` are write-only). */
export function registerFilterRoutes(router: ApiRouter, deps: FilterRouteDeps): void {
  const { filters } = deps;
  const body = (ctx: ApiContext) => readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'jsonapi', required: true });

  const respond = async (ctx: ApiContext, status: number, filter: Filter, include: Set<string> = new Set()) => {
    const principal = ctx.state.principal;
    const included: IncludedSet[] = [];
    if (include.has('datasource')) {
      requireDatasourceInclude(principal);
      included.push(await includedDatasource(deps.datasources, principal, filter.datasourceId));
    }
    if (include.has('sql_snippets'))
      included.push({
        definition: sqlSnippetResource,
        records: (await deps.sqlSnippets.listByIds(principal.organizationId, filter.sqlSnippetIds)).map(presentSqlSnippet),
      });
    if (include.has('parent_filter')) {
      included.push({
        definition: filterResource,
        records: (filter.parentFilterId ? await filters.listVisibleByIds(principal, [filter.parentFilterId]) : []).map(presentFilter),
      });
    }
    sendJsonApi(ctx, status, serialize(filterResource, presentFilter(filter), { included: include.size ? included : undefined }));
  };

  router.get('/filters', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    sendJsonApi(ctx, 200, serialize(filterResource, (await filters.list(ctx.state.principal)).map(presentFilter)));
  });

  router.post('/filters', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Dashboards');
    const doc = parseResourceDocument(await body(ctx), filterResource);
    checkLinkageIds(doc);
    const filter = await filters.create(ctx.state.principal, readInput(doc, filterFields, 'create'));
    await respond(ctx, 201, filter);
  });

  router.get('/filters/:id', async (ctx) => {
    checkQueryParameters(ctx.query, ['include']);
    const include = parseInclude(ctx.query.include, ['datasource', 'sql_snippets', 'parent_filter']);
    await respond(ctx, 200, await filters.get(ctx.state.principal, pathId(ctx, 'Filter')), include);
  });

  router.patch('/filters/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Dashboards');
    const doc = parseResourceDocument(await body(ctx), filterResource, ctx.params.id);
    checkLinkageIds(doc);
    const input = readInput(doc, filterFields, 'update');
    await respond(ctx, 200, await filters.update(ctx.state.principal, pathId(ctx, 'Filter'), input));
  });

  router.delete('/filters/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    await filters.delete(ctx.state.principal, pathId(ctx, 'Filter'));
    sendNoContent(ctx);
  });
}
