import {
  ForbiddenError,
  reportFields,
  type DashboardService,
  type DatasourceService,
  type Principal,
  type Report,
  type ReportService,
} from '@sightline/domain';
import { checkQueryParameters, parseInclude, parseResourceDocument, readInput, serialize, validate, type IncludedSet } from '@sightline/jsonapi';
import { readJsonBody, sendJsonApi, sendNoContent } from '@sightline/http';
import type { ApiContext, ApiRouter } from '../../context.js';
import { checkLinkageIds, pathId } from '../dashboards/ids.js';
import { dashboardOmissions, dashboardResource } from '../../resources/dashboard.resource.js';
import { datasourceOmissions, datasourceResource, presentDatasource } from '../../resources/datasource.resource.js';
import { presentReport, reportResource } from '../../resources/report.resource.js';
import { presentDashboardsFor } from '../dashboards/dashboard.router.js';

export interface ReportRouteDeps {
  reports: ReportService;
  dashboards: DashboardService;
  datasources: DatasourceService;
  maxBodyBytes: number;
}

/** Who may `include=datasource` on reports and filters (contract §1.3). */
export function requireDatasourceInclude(principal: Principal): void {
  if (!principal.hasAny('View Datasources', 'Manage Datasources', 'Manage Dashboards')) {
    throw new ForbiddenError('include=datasource requires the "View Datasources", "Manage Datasources" or "Manage Dashboards" permission', {
      source: { parameter: 'include' },
    });
  }
}

/** The datasource as an included record, if the key can see it. */
export async function includedDatasource(datasources: DatasourceService, principal: Principal, id: string | null): Promise<IncludedSet> {
  const ds = id
    ? await datasources.getVisible(principal, id, ['View Datasources', 'Manage Datasources', 'View Dashboards', 'Manage Dashboards']).catch(() => undefined)
    : undefined;
  return { definition: datasourceResource, records: ds ? [presentDatasource(ds, principal)] : [], omitAttributes: datasourceOmissions(principal, ds?.id) };
}

/** Contract rows 45–49, 51: reports. */
export function registerReportRoutes(router: ApiRouter, deps: ReportRouteDeps): void {
  const { reports } = deps;
  const body = (ctx: ApiContext) => readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'jsonapi', required: true });

  const respond = async (ctx: ApiContext, status: number, report: Report, include: Set<string> = new Set()) => {
    const principal = ctx.state.principal;
    const included: IncludedSet[] = [];
    if (include.has('datasource')) requireDatasourceInclude(principal);
    if (include.has('dashboard')) {
      const d = await deps.dashboards.getByIdUnchecked(principal.organizationId, report.dashboardId);
      included.push({
        definition: dashboardResource,
        records: await presentDashboardsFor(deps.dashboards, principal, [d]),
        omitRelationships: dashboardOmissions(principal),
      });
    }
    if (include.has('datasource')) included.push(await includedDatasource(deps.datasources, principal, report.datasourceId));
    sendJsonApi(ctx, status, serialize(reportResource, presentReport(report), { included: include.size ? included : undefined }));
  };

  router.get('/reports', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    sendJsonApi(ctx, 200, serialize(reportResource, (await reports.list(ctx.state.principal)).map(presentReport)));
  });

  router.post('/reports', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Dashboards');
    const doc = parseResourceDocument(await body(ctx), reportResource);
    checkLinkageIds(doc);
    const report = await reports.create(ctx.state.principal, readInput(doc, reportFields, 'create'));
    await respond(ctx, 201, report);
  });

  router.get('/reports/:id', async (ctx) => {
    checkQueryParameters(ctx.query, ['include']);
    const include = parseInclude(ctx.query.include, ['dashboard', 'datasource']);
    await respond(ctx, 200, await reports.get(ctx.state.principal, pathId(ctx, 'Report')), include);
  });

  router.patch('/reports/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Dashboards');
    const doc = parseResourceDocument(await body(ctx), reportResource, ctx.params.id);
    checkLinkageIds(doc);
    const attributes = validate(reportFields.updateSchema, doc.attributes);
    reportFields.assertUnchanged(doc.attributes, await reports.get(ctx.state.principal, pathId(ctx, 'Report')));
    const report = await reports.update(ctx.state.principal, pathId(ctx, 'Report'), {
      ...attributes,
      ...reportFields.readRelationships(doc.relationships, 'update'),
    });
    await respond(ctx, 200, report);
  });

  router.delete('/reports/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    await reports.delete(ctx.state.principal, pathId(ctx, 'Report'));
    sendNoContent(ctx);
  });

  router.post('/reports/:id/duplicate', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    await respond(ctx, 201, await reports.duplicate(ctx.state.principal, pathId(ctx, 'Report')));
  });
}
