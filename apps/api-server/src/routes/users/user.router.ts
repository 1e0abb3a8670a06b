import { userFields, ValidationError, type UserGroupService, type UserService, type User } from '@sightline/domain';
import { checkQueryParameters, parseInclude, parseResourceDocument, readInput, serialize, validate, type IncludedSet } from '@sightline/jsonapi';
import { readJsonBody, sendJsonApi, sendNoContent } from '@sightline/http';
import type { ApiContext, ApiRouter } from '../../context.js';
import { presentUser, userResource } from '../../resources/user.resource.js';
import { presentUserGroup, userGroupResource } from '../../resources/user-group.resource.js';
import { activateUserBody, inviteUserBody } from './user.schema.js';

export interface UserRouteDeps {
  users: UserService;
  userGroups: UserGroupService;
  maxBodyBytes: number;
}

/**
 * `/users` (contract rows 75-82): list, get, update, activate, deactivate, invite, resend and delete
 * invitations. Reads need "View Users" (Manage implies it), writes "Manage Users".
 */
export function registerUserRoutes(router: ApiRouter, deps: UserRouteDeps): void {
  const { users, userGroups } = deps;

  const respondUser = async (ctx: ApiContext, status: number, user: User, include: Set<string> = new Set()) => {
    const principal = ctx.state.principal;
    const org = principal.organizationId;
    const included: IncludedSet[] = [];
    if (include.has('user_groups'))
      included.push({ definition: userGroupResource, records: (await userGroups.listByIds(org, user.userGroupIds)).map(presentUserGroup) });
    if (include.has('invited_by_user') && user.invitedByUserId) {
      included.push({ definition: userResource, records: (await users.listByIds(org, [user.invitedByUserId])).map((u) => presentUser(u, principal)) });
    } else if (include.has('invited_by_user')) {
      included.push({ definition: userResource, records: [] });
    }
    sendJsonApi(ctx, status, serialize(userResource, presentUser(user, principal), { included: include.size ? included : undefined }));
  };

  router.get('/users', async (ctx) => {
    checkQueryParameters(ctx.query, ['include']);
    const include = parseInclude(ctx.query.include, ['user_groups']);
    const principal = ctx.state.principal;
    principal.requireAny('View Users');
    const list = await users.list(principal.organizationId);
    const included: IncludedSet[] = [];
    if (include.has('user_groups')) {
      const ids = [...new Set(list.flatMap((u) => u.userGroupIds))];
      included.push({ definition: userGroupResource, records: (await userGroups.listByIds(principal.organizationId, ids)).map(presentUserGroup) });
    }
    sendJsonApi(
      ctx,
      200,
      serialize(
        userResource,
        list.map((u) => presentUser(u, principal)),
        { included: include.size ? included : undefined },
      ),
    );
  });

  // Before `/users/:id` routes of the same method so "invite" is never taken for an id.
  router.post('/users/invite', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Users');
    const input = validate(inviteUserBody, await readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'json', required: true }), '');
    const user = await users.invite(ctx.state.principal.organizationId, { email: input.email, role: input.role, userGroupIds: input.user_group_ids });
    await respondUser(ctx, 201, user);
  });

  router.get('/users/:id', async (ctx) => {
    checkQueryParameters(ctx.query, ['include']);
    const include = parseInclude(ctx.query.include, ['user_groups', 'invited_by_user']);
    ctx.state.principal.requireAny('View Users');
    const user = await users.get(ctx.state.principal.organizationId, ctx.params.id!);
    await respondUser(ctx, 200, user, include);
  });

  router.patch('/users/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Users');
    const doc = parseResourceDocument(await readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'jsonapi', required: true }), userResource, ctx.params.id);
    const input = readInput(doc, userFields, 'update');
    if ('invited_by_user' in doc.relationships) {
      throw new ValidationError('The "invited_by_user" relationship is read-only', { source: { pointer: '/data/relationships/invited_by_user' } });
    }
    const user = await users.update(ctx.state.principal.organizationId, ctx.params.id!, input);
    await respondUser(ctx, 200, user);
  });

  router.post('/users/:id/activate', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Users');
    const body = await readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'json', required: false });
    const input = validate(activateUserBody, body ?? {}, '');
    await users.activate(ctx.state.principal.organizationId, ctx.params.id!, input.role);
    sendNoContent(ctx);
  });

  router.post('/users/:id/deactivate', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Users');
    await users.deactivate(ctx.state.principal.organizationId, ctx.params.id!);
    sendNoContent(ctx);
  });

  router.post('/users/:id/resend_invite', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Users');
    await users.resendInvite(ctx.state.principal.organizationId, ctx.params.id!);
    sendNoContent(ctx);
  });

  router.delete('/users/:id/invite', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Users');
    await users.deleteInvite(ctx.state.principal.organizationId, ctx.params.id!);
    sendNoContent(ctx);
  });
}
