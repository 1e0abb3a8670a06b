import { SHARE_MODES, type DashboardSharingService } from '@sightline/domain';
import { checkQueryParameters, validate } from '@sightline/jsonapi';
import { readJsonBody, sendNoContent } from '@sightline/http';
import { z } from 'zod';
import type { ApiRouter } from '../../context.js';

/** Share Dashboard body (contract row 29, plain JSON). */
const shareBody = z
  .object({
    share_mode: z.enum(SHARE_MODES),
    user_group_ids: z.array(z.string().min(1).max(64)).max(1000).default([]),
    notify_new_users: z.boolean().default(false),
    include_thumbnail: z.boolean().default(false),
  })
  .strict();

export interface ShareDashboardRouteDeps {
  dashboardSharing: DashboardSharingService;
  maxBodyBytes: number;
}

/** `POST /dashboards/{id}/share` (row 29): 204; e-mails users who gain access when asked to. */
export function registerShareDashboardRoute(router: ApiRouter, deps: ShareDashboardRouteDeps): void {
  router.post('/dashboards/:id/share', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    const body = validate(shareBody, await readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'json', required: true }), '');
    await deps.dashboardSharing.share(ctx.state.principal, ctx.params.id!, {
      shareMode: body.share_mode,
      userGroupIds: body.user_group_ids,
      notifyNewUsers: body.notify_new_users,
      includeThumbnail: body.include_thumbnail,
    });
    sendNoContent(ctx);
  });
}
