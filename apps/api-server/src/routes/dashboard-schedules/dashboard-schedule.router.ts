import { dashboardScheduleFields, type DashboardSchedule, type DashboardScheduleService, type DashboardService, type ReportService } from '@sightline/domain';
import { checkQueryParameters, parseInclude, parseResourceDocument, readInput, serialize, type IncludedSet } from '@sightline/jsonapi';
import { readJsonBody, sendJsonApi, sendNoContent } from '@sightline/http';
import type { ApiContext, ApiRouter } from '../../context.js';
import { dashboardOmissions, dashboardResource } from '../../resources/dashboard.resource.js';
import { dashboardScheduleResource, presentDashboardSchedule } from '../../resources/dashboard-schedule.resource.js';
import { presentReport, reportResource } from '../../resources/report.resource.js';
import { checkLinkageIds, pathId } from '../dashboards/ids.js';
import { presentDashboardsFor } from '../dashboards/dashboard.router.js';

export interface DashboardScheduleRouteDeps {
  dashboardSchedules: DashboardScheduleService;
  dashboards: DashboardService;
  reports: ReportService;
  maxBodyBytes: number;
}

/** Contract rows 39–44: dashboard schedules (CRUD and Trigger). */
export function registerDashboardScheduleRoutes(router: ApiRouter, deps: DashboardScheduleRouteDeps): void {
  const schedules = deps.dashboardSchedules;
  const body = (ctx: ApiContext) => readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'jsonapi', required: true });

  const respond = async (ctx: ApiContext, status: number, schedule: DashboardSchedule, include: Set<string> = new Set()) => {
    const principal = ctx.state.principal;
    const included: IncludedSet[] = [];
    if (include.has('dashboard')) {
      const d = schedule.dashboardId ? await deps.dashboards.findById(principal.organizationId, schedule.dashboardId) : undefined;
      included.push({
        definition: dashboardResource,
        records: d ? await presentDashboardsFor(deps.dashboards, principal, [d]) : [],
        omitRelationships: dashboardOmissions(principal),
      });
    }
    if (include.has('report')) {
      const r = schedule.reportId ? await deps.reports.get(principal, schedule.reportId).catch(() => undefined) : undefined;
      included.push({ definition: reportResource, records: r ? [presentReport(r)] : [] });
    }
    sendJsonApi(ctx, status, serialize(dashboardScheduleResource, presentDashboardSchedule(schedule), { included: include.size ? included : undefined }));
  };

  router.get('/dashboard_schedules', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    sendJsonApi(ctx, 200, serialize(dashboardScheduleResource, (await schedules.list(ctx.state.principal)).map(presentDashboardSchedule)));
  });

  router.post('/dashboard_schedules', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Dashboards');
    const doc = parseResourceDocument(await body(ctx), dashboardScheduleResource);
    checkLinkageIds(doc);
    await respond(ctx, 201, await schedules.create(ctx.state.principal, readInput(doc, dashboardScheduleFields, 'create')));
  });

  router.get('/dashboard_schedules/:id', async (ctx) => {
    checkQueryParameters(ctx.query, ['include']);
    const include = parseInclude(ctx.query.include, ['dashboard', 'report']);
    await respond(ctx, 200, await schedules.get(ctx.state.principal, pathId(ctx, 'Dashboard schedule')), include);
  });

  router.patch('/dashboard_schedules/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Dashboards');
    const doc = parseResourceDocument(await body(ctx), dashboardScheduleResource, ctx.params.id);
    checkLinkageIds(doc);
    await respond(ctx, 200, await schedules.update(ctx.state.principal, pathId(ctx, 'Dashboard schedule'), readInput(doc, dashboardScheduleFields, 'update')));
  });

  router.delete('/dashboard_schedules/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    await schedules.delete(ctx.state.principal, pathId(ctx, 'Dashboard schedule'));
    sendNoContent(ctx);
  });

  // Row 44: runs now, even when the schedule is `disabled`; the mail follows asynchronously.
  router.post('/dashboard_schedules/:id/trigger', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    await schedules.trigger(ctx.state.principal, pathId(ctx, 'Dashboard schedule'));
    sendNoContent(ctx);
  });
}
