import {
  BadRequestError,
  ForbiddenError,
  parseResultsLimit,
  sqlAlertFields,
  type DatasourceService,
  type SqlAlert,
  type SqlAlertService,
} from '@sightline/domain';
import { checkQueryParameters, parseInclude, parseResourceDocument, readInput, serialize, type IncludedSet } from '@sightline/jsonapi';
import { readJsonBody, sendJson, sendJsonApi, sendNoContent } from '@sightline/http';
import type { ApiContext, ApiRouter } from '../../context.js';
import { datasourceOmissions, datasourceResource, presentDatasource } from '../../resources/datasource.resource.js';
import { presentSqlAlert, sqlAlertResource } from '../../resources/sql-alert.resource.js';
import { checkLinkageIds, pathId } from '../dashboards/ids.js';

export interface SqlAlertRouteDeps {
  sqlAlerts: SqlAlertService;
  datasources: DatasourceService;
  maxBodyBytes: number;
}

/** A query parameter given once, or absent. @throws BadRequestError when repeated */
function single(ctx: ApiContext, name: string): string | undefined {
  const value = ctx.query[name];
  if (Array.isArray(value)) throw new BadRequestError(`"${name}" must be given once`, { source: { parameter: name } });
  return value;
}

/** Contract rows 68–74: SQL alerts (CRUD, Run SQL Alert Query, List SQL Alert Results). */
export function registerSqlAlertRoutes(router: ApiRouter, deps: SqlAlertRouteDeps): void {
  const alerts = deps.sqlAlerts;
  const body = (ctx: ApiContext) => readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'jsonapi', required: true });

  const respond = async (ctx: ApiContext, status: number, alert: SqlAlert, include: Set<string> = new Set()) => {
    const principal = ctx.state.principal;
    const included: IncludedSet[] = [];
    if (include.has('datasource')) {
      // contract §1.3: "requires View Datasources, Manage Datasources or Manage Alerts permission"
      if (!principal.hasAny('View Datasources', 'Manage Datasources', 'Manage Alerts')) {
        throw new ForbiddenError('include=datasource requires the "View Datasources", "Manage Datasources" or "Manage Alerts" permission', {
          source: { parameter: 'include' },
        });
      }
      const ds = await deps.datasources
        .getVisible(principal, alert.datasourceId, ['View Datasources', 'Manage Datasources', 'View Alerts', 'Manage Alerts'])
        .catch(() => undefined);
      included.push({
        definition: datasourceResource,
        records: ds ? [presentDatasource(ds, principal)] : [],
        omitAttributes: datasourceOmissions(principal, ds?.id),
      });
    }
    sendJsonApi(ctx, status, serialize(sqlAlertResource, presentSqlAlert(alert), { included: include.size ? included : undefined }));
  };

  router.get('/sql_alerts', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    sendJsonApi(ctx, 200, serialize(sqlAlertResource, (await alerts.list(ctx.state.principal)).map(presentSqlAlert)));
  });

  router.post('/sql_alerts', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Alerts');
    const doc = parseResourceDocument(await body(ctx), sqlAlertResource);
    checkLinkageIds(doc);
    await respond(ctx, 201, await alerts.create(ctx.state.principal, readInput(doc, sqlAlertFields, 'create')));
  });

  router.get('/sql_alerts/:id', async (ctx) => {
    checkQueryParameters(ctx.query, ['include']);
    const include = parseInclude(ctx.query.include, ['datasource']);
    await respond(ctx, 200, await alerts.get(ctx.state.principal, pathId(ctx, 'SQL alert')), include);
  });

  router.patch('/sql_alerts/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Alerts');
    const doc = parseResourceDocument(await body(ctx), sqlAlertResource, ctx.params.id);
    checkLinkageIds(doc);
    await respond(ctx, 200, await alerts.update(ctx.state.principal, pathId(ctx, 'SQL alert'), readInput(doc, sqlAlertFields, 'update')));
  });

  router.delete('/sql_alerts/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    await alerts.delete(ctx.state.principal, pathId(ctx, 'SQL alert'));
    sendNoContent(ctx);
  });

  // Row 73: runs the query now; evaluation and mail follow when it ends.
  router.post('/sql_alerts/:id/run', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    const execution = await alerts.run(ctx.state.principal, pathId(ctx, 'SQL alert'));
    sendJson(ctx, 200, { execution_id: execution.id });
  });

  // Row 74: newest first, opaque cursor, limit 1–1000 (default 100), 30-day window.
  router.get('/sql_alerts/:id/results', async (ctx) => {
    checkQueryParameters(ctx.query, ['cursor', 'limit']);
    const limit = parseResultsLimit(single(ctx, 'limit'));
    const cursor = single(ctx, 'cursor');
    sendJson(ctx, 200, await alerts.results(ctx.state.principal, pathId(ctx, 'SQL alert'), { cursor, limit }));
  });
}
