import type { UserService } from '@sightline/domain';
import { checkQueryParameters, serialize, validate } from '@sightline/jsonapi';
import { readJsonBody, sendJson, sendJsonApi } from '@sightline/http';
import type { ApiRouter } from '../../context.js';
import { presentUser, userResource } from '../../resources/user.resource.js';
import { acceptInvitationBody } from './invitation.schema.js';

export interface InvitationRouteDeps {
  users: UserService;
  maxBodyBytes: number;
}

/**
 * `POST /invitations/{token}/accept` with `{firstname, lastname, password}`: completes an invitation
 * without a UI (the token is the credential; no API key). Answers the now active user (200).
 * Unknown token → 404; used, replaced (resend) or expired token → 410 Gone. `GET` on the same URL
 * describes the invitation without using it.
 */
export function registerInvitationRoutes(router: ApiRouter, deps: InvitationRouteDeps): void {
  // Opening the e-mailed link (GET) explains the invitation and how to accept it (plain JSON).
  router.get('/invitations/:token/accept', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    const invitation = await deps.users.describeInvitation(ctx.params.token!);
    sendJson(ctx, 200, {
      email: invitation.email,
      organization: invitation.organizationName,
      expires_at: invitation.expiresAt.toISOString(),
      accept: { method: 'POST', content_type: 'application/json', body: { firstname: 'string', lastname: 'string', password: 'string, 10-200 characters' } },
    });
  });

  router.post('/invitations/:token/accept', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    const input = validate(acceptInvitationBody, await readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'json', required: true }), '');
    const user = await deps.users.acceptInvitation(ctx.params.token!, input);
    sendJsonApi(ctx, 200, serialize(userResource, presentUser(user)));
  });
}
