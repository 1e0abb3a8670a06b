import { userGroupFields, type DashboardService, type UserGroup, type UserGroupService, type UserService } from '@sightline/domain';
import { checkQueryParameters, parseInclude, parseResourceDocument, readInput, serialize, type IncludedSet } from '@sightline/jsonapi';
import { readJsonBody, sendJsonApi, sendNoContent } from '@sightline/http';
import type { ApiContext, ApiRouter } from '../../context.js';
import { dashboardOmissions, dashboardResource } from '../../resources/dashboard.resource.js';
import { presentDashboardsFor } from '../dashboards/dashboard.router.js';
import { presentUser, userResource } from '../../resources/user.resource.js';
import { presentUserGroup, userGroupResource } from '../../resources/user-group.resource.js';

export interface UserGroupRouteDeps {
  userGroups: UserGroupService;
  users: UserService;
  dashboards: DashboardService;
  maxBodyBytes: number;
}

/** `/user_groups` (contract rows 83-87). Reads need "View Users", writes "Manage Users". */
export function registerUserGroupRoutes(router: ApiRouter, deps: UserGroupRouteDeps): void {
  const { userGroups, users } = deps;
  const body = (ctx: ApiContext) => readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'jsonapi', required: true });

  const respond = async (ctx: ApiContext, status: number, group: UserGroup, include: Set<string> = new Set()) => {
    const principal = ctx.state.principal;
    const included: IncludedSet[] = [];
    if (include.has('users')) {
      included.push({
        definition: userResource,
        records: (await users.listByIds(principal.organizationId, group.userIds)).map((u) => presentUser(u, principal)),
      });
    }
    if (include.has('dashboards')) {
      const shared = await deps.dashboards.listByIds(principal.organizationId, group.dashboardIds);
      included.push({
        definition: dashboardResource,
        records: await presentDashboardsFor(deps.dashboards, principal, shared),
        omitRelationships: dashboardOmissions(principal),
      });
    }
    sendJsonApi(ctx, status, serialize(userGroupResource, presentUserGroup(group), { included: include.size ? included : undefined }));
  };

  router.get('/user_groups', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('View Users');
    const groups = await userGroups.list(ctx.state.principal.organizationId);
    sendJsonApi(ctx, 200, serialize(userGroupResource, groups.map(presentUserGroup)));
  });

  router.post('/user_groups', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Users');
    const doc = parseResourceDocument(await body(ctx), userGroupResource);
    const group = await userGroups.create(ctx.state.principal.organizationId, readInput(doc, userGroupFields, 'create'));
    await respond(ctx, 201, group);
  });

  router.get('/user_groups/:id', async (ctx) => {
    checkQueryParameters(ctx.query, ['include']);
    const include = parseInclude(ctx.query.include, ['users', 'dashboards']);
    ctx.state.principal.requireAny('View Users');
    await respond(ctx, 200, await userGroups.get(ctx.state.principal.organizationId, ctx.params.id!), include);
  });

  router.patch('/user_groups/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Users');
    const doc = parseResourceDocument(await body(ctx), userGroupResource, ctx.params.id);
    const group = await userGroups.update(ctx.state.principal.organizationId, ctx.params.id!, readInput(doc, userGroupFields, 'update'));
    await respond(ctx, 200, group);
  });

  router.delete('/user_groups/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Users');
    await userGroups.delete(ctx.state.principal.organizationId, ctx.params.id!);
    sendNoContent(ctx);
  });
}
