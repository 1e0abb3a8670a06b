import {
  ForbiddenError, ValidationError, type DashboardService, type DatasourceService, type Principal, type Report, type ReportInput, type ReportService,
} from '@sightline/domain';
import {
  checkQueryParameters, parseInclude, parseResourceDocument, readJsonBody, sendJsonApi, sendNoContent, serialize, validate,
  type IncludedSet, type RequestRelationships,
} from '@sightline/jsonapi';
import type { ApiContext, ApiRouter } from '../../context.js';
import { checkLinkageIds, pathId } from '../dashboards/ids.js';
import { dashboardOmissions, dashboardResource } from '../../resources/dashboard.resource.js';
import { datasourceOmissions, datasourceResource, presentDatasource } from '../../resources/datasource.resource.js';
import { presentReport, reportResource } from '../../resources/report.resource.js';
import { presentDashboardsFor } from '../dashboards/dashboard.router.js';
import { createReportAttributes, updateReportAttributes } from './report.schema.js';

export interface ReportRouteDeps {
  reports: ReportService;
  dashboards: DashboardService;
  datasources: DatasourceService;
  maxBodyBytes: number;
}

/** Who may `include=datasource` on reports and filters (contract §1.3). */
export function requireDatasourceInclude(principal: Principal): void {
  if (!principal.hasAny('View Datasources', 'Manage Datasources', 'Manage Dashboards')) {
    throw new ForbiddenError('include=datasource requires the "View Datasources", "Manage Datasources" or "Manage Dashboards" permission', { source: { parameter: 'include' } });
  }
}

/** The datasource as an included record, if the key can see it. */
export async function includedDatasource(datasources: DatasourceService, principal: Principal, id: string | null): Promise<IncludedSet> {
  const ds = id ? await datasources.getVisible(principal, id, ['View Datasources', 'Manage Datasources', 'View Dashboards', 'Manage Dashboards']).catch(() => undefined) : undefined;
  return { definition: datasourceResource, records: ds ? [presentDatasource(ds, principal)] : [], omitAttributes: datasourceOmissions(principal, ds?.id) };
}

/** A to-one relationship id from a request; `required` → absent or null is a 422. */
export function toOne(relationships: RequestRelationships, name: string, required: boolean): string | undefined {
  const value = relationships[name];
  if (value === null || (required && value === undefined)) {
    throw new ValidationError(`The "${name}" relationship is required`, { source: { pointer: `/data/relationships/${name}` } });
  }
  return value as string | undefined;
}

function toInput(a: ReturnType<typeof updateReportAttributes.parse>): ReportInput {
  return {
    name: a.name,
    description: a.description,
    sqlQuery: a.sql_query,
    rQuery: a.r_query,
    rQueryEnabled: a.r_query_enabled,
    dataRefreshRate: a.data_refresh_rate,
    dataRefreshAnchorTime: a.data_refresh_anchor_time,
    downloadActionsEnabled: a.download_actions_enabled,
    dataDownloadEnabled: a.data_download_enabled,
    maximizeActionEnabled: a.maximize_action_enabled,
    refreshEnabled: a.refresh_enabled,
    unusedFiltersWarningEnabled: a.unused_filters_warning_enabled,
    unlimitedCsvExportEnabled: a.unlimited_csv_export_enabled,
    defaultPageWidth: a.default_page_width,
    defaultPageHeight: a.default_page_height,
    displayNameAsTitle: a.display_name_as_title,
    attribution: a.attribution,
    noDataMessage: a.no_data_message,
  };
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
      const d = await deps.dashboards.getById(principal.organizationId, report.dashboardId);
      included.push({ definition: dashboardResource, records: await presentDashboardsFor(deps.dashboards, principal, [d]), omitRelationships: dashboardOmissions(principal) });
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
    const a = validate(createReportAttributes, doc.attributes);
    const report = await reports.create(ctx.state.principal, {
      ...toInput(a),
      name: a.name,
      width: a.width,
      height: a.height,
      dashboardId: toOne(doc.relationships, 'dashboard', true)!,
      datasourceId: toOne(doc.relationships, 'datasource', true)!,
    });
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
    const a = validate(updateReportAttributes, doc.attributes);
    const current = await reports.get(ctx.state.principal, pathId(ctx, 'Report'));
    for (const name of ['row', 'column', 'width', 'height'] as const) {
      if (a[name] !== undefined && a[name] !== current[name]) {
        throw new ValidationError(`"${name}" changes only through Update Dashboard Layout (PUT /dashboards/{id}/layout)`, { code: 'read_only_attribute', source: { pointer: `/data/attributes/${name}` } });
      }
    }
    const report = await reports.update(ctx.state.principal, pathId(ctx, 'Report'), {
      ...toInput(a),
      dashboardId: toOne(doc.relationships, 'dashboard', false),
      datasourceId: toOne(doc.relationships, 'datasource', false),
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
