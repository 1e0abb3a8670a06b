import { sharingLinkFields, type SharingLinkService, type SharingSecret } from '@sightline/domain';
import { checkQueryParameters, parseResourceDocument, readInput, serialize } from '@sightline/jsonapi';
import { readJsonBody, sendJson, sendJsonApi, sendNoContent } from '@sightline/http';
import type { ApiContext, ApiRouter } from '../../context.js';
import { dashboardSharingLinkResource, presentDashboardSharingLink } from '../../resources/dashboard-sharing-link.resource.js';
import { checkLinkageIds, pathId } from '../dashboards/ids.js';

export interface DashboardSharingLinkRouteDeps {
  sharingLinks: SharingLinkService;
  maxBodyBytes: number;
}

function presentSecret(secret: SharingSecret): Record<string, unknown> {
  return { sharing_secret: secret.secret, version: secret.version, created_at: secret.createdAt.toISOString(), updated_at: secret.updatedAt.toISOString() };
}

/**
 * `/dashboard_sharing_links` (permission "Manage Dashboards"): list, create, get, update, delete,
 * and `POST /dashboard_sharing_links/{id}/rotate_token`; `/organization/sharing_secret` (admin keys):
 * read and rotate the secret embedding hosts sign sharing-secret JWTs with.
 */
export function registerDashboardSharingLinkRoutes(router: ApiRouter, deps: DashboardSharingLinkRouteDeps): void {
  const { sharingLinks } = deps;
  const body = (ctx: ApiContext) => readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'jsonapi', required: true });
  const send = (ctx: ApiContext, status: number, data: Parameters<typeof presentDashboardSharingLink>[0]) =>
    sendJsonApi(ctx, status, serialize(dashboardSharingLinkResource, presentDashboardSharingLink(data)));

  router.get('/dashboard_sharing_links', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    const links = await sharingLinks.list(ctx.state.principal);
    sendJsonApi(ctx, 200, serialize(dashboardSharingLinkResource, links.map(presentDashboardSharingLink)));
  });

  router.post('/dashboard_sharing_links', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Dashboards');
    const doc = parseResourceDocument(await body(ctx), dashboardSharingLinkResource);
    checkLinkageIds(doc);
    send(ctx, 201, await sharingLinks.create(ctx.state.principal, readInput(doc, sharingLinkFields, 'create')));
  });

  router.get('/dashboard_sharing_links/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    send(ctx, 200, await sharingLinks.get(ctx.state.principal, pathId(ctx, 'Dashboard sharing link')));
  });

  router.patch('/dashboard_sharing_links/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.state.principal.requireAny('Manage Dashboards');
    const doc = parseResourceDocument(await body(ctx), dashboardSharingLinkResource, ctx.params.id);
    checkLinkageIds(doc);
    const input = readInput(doc, sharingLinkFields, 'update');
    send(ctx, 200, await sharingLinks.update(ctx.state.principal, pathId(ctx, 'Dashboard sharing link'), input));
  });

  router.delete('/dashboard_sharing_links/:id', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    await sharingLinks.delete(ctx.state.principal, pathId(ctx, 'Dashboard sharing link'));
    sendNoContent(ctx);
  });

  // A new sharing token: the old URL, and every page opened with it, stops working at once.
  router.post('/dashboard_sharing_links/:id/rotate_token', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    send(ctx, 200, await sharingLinks.rotateToken(ctx.state.principal, pathId(ctx, 'Dashboard sharing link')));
  });

  router.get('/organization/sharing_secret', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.set('Cache-Control', 'no-store');
    sendJson(ctx, 200, presentSecret(await sharingLinks.getSecret(ctx.state.principal)));
  });

  router.post('/organization/sharing_secret/rotate', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    ctx.set('Cache-Control', 'no-store');
    sendJson(ctx, 200, presentSecret(await sharingLinks.rotateSecret(ctx.state.principal)));
  });
}
