import { dashboardGroupFields, type DashboardGroup, type DashboardGroupService, type DashboardService } from '@sightline/domain';
import { checkQueryParameters, parseInclude, parseResourceDocument, readInput, serialize, validate, type IncludedSet } from '@sightline/jsonapi';
import { readJsonBody, sendJsonApi, sendNoContent } from '@sightline/http';
import type { ApiContext, ApiRouter } from '../../context.js';
import { checkLinkageIds, pathId } from '../dashboards/ids.js';
import { dashboardOmissions, dashboardResource } from '../../resources/dashboard.resource.js';
import { dashboardGroupResource, presentDashboardGroup } from '../../resources/dashboard-group.resource.js';
import { presentDashboardsFor } from '../dashboards/dashboard.router.js';
import { sortDashboardGroupsBody } from './dashboard-group.schema.js';

export interface DashboardGroupRouteDeps {
  dashboardGroups: DashboardGroupService;
  dashboards: DashboardService;
  maxBodyBytes: number;
}

/** Contract rows 33–38: dashboard groups and their order. */
export function registerDashboardGroupRoutes(router: ApiRouter, deps: DashboardGroupRouteDeps): void {
  const { dashboardGroups } = deps;
  const body = (ctx: ApiContext) => readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'jsonapi', required: true });

  const respond = async (ctx: ApiContext, status: number, group: DashboardGroup, include: Set<string> = new Set()) => {
    const principal = ctx.state.principal;
    const included: IncludedSet[] = [];
    if (include.has('dashboards')) {
      const records = await presentDashboardsFor(deps.dashboards, principal, await deps.dashboards.listByIds(principal.organizationId, group.dashboardIds));
      included.push({ definition: dashboardResource, records, omitRelationships: dashboardOmissions(principal) });
    }
    sendJsonApi(ctx, status, serialize(dashboardGroupResource, presentDashboardGroup(group), { included: include.size ? included : undefined }));
  };

  router.get('/dashboard_groups', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    sendJsonApi(ctx, 200, serialize(dashboardGroupResource, (await dashboardGroups.list(ctx.state.principal)).map(presentDashboardGroup)));
  });

  router.post('/dashboard_groups/sort', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Dashboards');
    const input = validate(sortDashboardGroupsBody, await readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'json', required: true }), '');
    await dashboardGroups.sort(ctx.state.principal, input.dashboard_group_ids);
    sendNoContent(ctx);
  });

  router.post('/dashboard_groups', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Dashboards');
    const doc = parseResourceDocument(await body(ctx), dashboardGroupResource);
    checkLinkageIds(doc);
    const group = await dashboardGroups.create(ctx.state.principal, readInput(doc, dashboardGroupFields, 'create'));
    await respond(ctx, 201, group);
  });

  router.get('/dashboard_groups/:id', async (ctx) => {
    checkQueryParameters(ctx.query, ['include']);
    const include = parseInclude(ctx.query.include, ['dashboards']);
    await respond(ctx, 200, await dashboardGroups.get(ctx.state.principal, pathId(ctx, 'Dashboard group')), include);
  });

  router.patch('/dashboard_groups/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Dashboards');
    const doc = parseResourceDocument(await body(ctx), dashboardGroupResource, ctx.params.id);
    checkLinkageIds(doc);
    const group = await dashboardGroups.update(ctx.state.principal, pathId(ctx, 'Dashboard group'), readInput(doc, dashboardGroupFields, 'update'));
    await respond(ctx, 200, group);
  });

  router.delete('/dashboard_groups/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    await dashboardGroups.delete(ctx.state.principal, pathId(ctx, 'Dashboard group'));
    sendNoContent(ctx);
  });
}
