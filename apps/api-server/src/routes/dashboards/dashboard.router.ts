import {
  ForbiddenError,
  dashboardFields,
  type Dashboard,
  type DashboardGroupService,
  type DashboardService,
  type FilterService,
  type Principal,
  type SharingLinkService,
  type SqlSnippetService,
  type UserGroupService,
  type UserService,
} from '@sightline/domain';
import {
  checkQueryParameters,
  parseInclude,
  parseResourceDocument,
  readInput,
  serialize,
  validate,
  type IncludedSet,
  type ResourceRecord,
} from '@sightline/jsonapi';
import { readJsonBody, sendJson, sendJsonApi, sendNoContent } from '@sightline/http';
import type { ApiContext, ApiRouter } from '../../context.js';
import { checkLinkageIds, pathId } from './ids.js';
import {
  canSeeDashboardUsers,
  canSeeSharingLinks,
  dashboardOmissions,
  dashboardResource,
  dashboardSharingLinkResource,
  presentDashboard,
} from '../../resources/dashboard.resource.js';
import { presentDashboardSharingLink } from '../../resources/dashboard-sharing-link.resource.js';
import { dashboardGroupResource, presentDashboardGroup } from '../../resources/dashboard-group.resource.js';
import { filterResource, presentFilter } from '../../resources/filter.resource.js';
import { presentReport, reportResource } from '../../resources/report.resource.js';
import { presentSqlSnippet, sqlSnippetResource } from '../../resources/sql-snippet.resource.js';
import { presentUser, userResource } from '../../resources/user.resource.js';
import { presentUserGroup, userGroupResource } from '../../resources/user-group.resource.js';
import { layoutBody } from './dashboard.schema.js';

export interface DashboardRouteDeps {
  dashboards: DashboardService;
  dashboardGroups: DashboardGroupService;
  filters: FilterService;
  sqlSnippets: SqlSnippetService;
  users: UserService;
  userGroups: UserGroupService;
  sharingLinks: SharingLinkService;
  maxBodyBytes: number;
}

/** The relationships `include` accepts on Get Dashboard (also in the OpenAPI document). */
export const DASHBOARD_INCLUDES = ['reports', 'filters', 'sql_snippets', 'dashboard_groups', 'dashboard_sharing_links', 'user', 'user_groups'] as const;

/** Dashboards as this key may see them (relations computed; permission-dependent relationships are omitted by the caller). */
export async function presentDashboardsFor(dashboards: DashboardService, principal: Principal, list: readonly Dashboard[]): Promise<ResourceRecord[]> {
  const relations = await dashboards.relationsOfMany(principal, list);
  return list.map((d, i) => presentDashboard(d, relations[i]!));
}

/** Contract rows 18–22, 25, 26, 30–32: dashboards, lock, layout, duplicate, backup. */
export function registerDashboardRoutes(router: ApiRouter, deps: DashboardRouteDeps): void {
  const { dashboards } = deps;
  const body = (ctx: ApiContext) => readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'jsonapi', required: true });

  const respond = async (ctx: ApiContext, status: number, d: Dashboard, include: Set<string> = new Set()) => {
    const principal = ctx.state.principal;
    const relations = await dashboards.relations(principal, d);
    const included: IncludedSet[] = [];
    // permission checks first, so a forbidden include fails before any work
    if ((include.has('user') || include.has('user_groups')) && !canSeeDashboardUsers(principal)) {
      throw new ForbiddenError('include=user and include=user_groups require the "View Users", "Manage Users" or "Manage Dashboards" permission', {
        source: { parameter: 'include' },
      });
    }
    if (include.has('dashboard_sharing_links') && !canSeeSharingLinks(principal)) {
      throw new ForbiddenError('include=dashboard_sharing_links requires the "Manage Dashboards" permission', { source: { parameter: 'include' } });
    }
    if (include.has('reports')) included.push({ definition: reportResource, records: relations.reports.map(presentReport) });
    if (include.has('filters'))
      included.push({ definition: filterResource, records: (await deps.filters.listVisibleByIds(principal, relations.filterIds)).map(presentFilter) });
    if (include.has('sql_snippets'))
      included.push({
        definition: sqlSnippetResource,
        records: (await deps.sqlSnippets.listByIds(principal.organizationId, relations.sqlSnippetIds)).map(presentSqlSnippet),
      });
    if (include.has('dashboard_groups'))
      included.push({
        definition: dashboardGroupResource,
        records: (await deps.dashboardGroups.listByIds(principal.organizationId, relations.dashboardGroupIds)).map(presentDashboardGroup),
      });
    if (include.has('dashboard_sharing_links')) {
      included.push({
        definition: dashboardSharingLinkResource,
        records: (await deps.sharingLinks.listByDashboards(principal.organizationId, [d.id])).map(presentDashboardSharingLink),
      });
    }
    if (include.has('user')) {
      const owner = relations.userId ? await deps.users.listByIds(principal.organizationId, [relations.userId]) : [];
      included.push({ definition: userResource, records: owner.map((u) => presentUser(u, principal)) });
    }
    if (include.has('user_groups'))
      included.push({
        definition: userGroupResource,
        records: (await deps.userGroups.listByIds(principal.organizationId, relations.userGroupIds)).map(presentUserGroup),
      });
    sendJsonApi(
      ctx,
      status,
      serialize(dashboardResource, presentDashboard(d, relations), {
        omitRelationships: dashboardOmissions(principal),
        included: include.size ? included : undefined,
      }),
    );
  };

  router.get('/dashboards', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    const principal = ctx.state.principal;
    const list = await dashboards.list(principal);
    const relations = await dashboards.relationsOfMany(principal, list);
    const records: ResourceRecord[] = list.map((d, i) => presentDashboard(d, relations[i]!));
    sendJsonApi(ctx, 200, serialize(dashboardResource, records, { omitRelationships: dashboardOmissions(principal) }));
  });

  router.post('/dashboards', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Dashboards');
    const doc = parseResourceDocument(await body(ctx), { ...dashboardResource, relationships: {} });
    checkLinkageIds(doc);
    const d = await dashboards.create(ctx.state.principal, readInput(doc, dashboardFields, 'create'));
    await respond(ctx, 201, d);
  });

  router.get('/dashboards/:id', async (ctx) => {
    checkQueryParameters(ctx.query, ['include']);
    const include = parseInclude(ctx.query.include, DASHBOARD_INCLUDES);
    await respond(ctx, 200, await dashboards.get(ctx.state.principal, pathId(ctx, 'Dashboard')), include);
  });

  router.patch('/dashboards/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Dashboards');
    // relationships of dashboards are read-only (contract §3.4): the update schema has none
    const doc = parseResourceDocument(await body(ctx), { ...dashboardResource, relationships: {} }, ctx.params.id);
    checkLinkageIds(doc);
    const input = readInput(doc, dashboardFields, 'update');
    await respond(ctx, 200, await dashboards.update(ctx.state.principal, pathId(ctx, 'Dashboard'), input));
  });

  router.delete('/dashboards/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    await dashboards.delete(ctx.state.principal, pathId(ctx, 'Dashboard'));
    sendNoContent(ctx);
  });

  router.post('/dashboards/:id/lock', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    await dashboards.setLocked(ctx.state.principal, pathId(ctx, 'Dashboard'), true);
    sendNoContent(ctx);
  });

  router.post('/dashboards/:id/unlock', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    await dashboards.setLocked(ctx.state.principal, pathId(ctx, 'Dashboard'), false);
    sendNoContent(ctx);
  });

  router.put('/dashboards/:id/layout', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Dashboards');
    const input = validate(layoutBody, await readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'json', required: true }), '');
    await dashboards.updateLayout(ctx.state.principal, pathId(ctx, 'Dashboard'), { layout: input.layout, floatingEnabled: input.floating_enabled });
    sendNoContent(ctx);
  });

  router.post('/dashboards/:id/duplicate', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    await respond(ctx, 201, await dashboards.duplicate(ctx.state.principal, pathId(ctx, 'Dashboard')));
  });

  router.post('/dashboards/:id/backup', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    sendJson(ctx, 200, await dashboards.backup(ctx.state.principal, pathId(ctx, 'Dashboard')));
  });
}
