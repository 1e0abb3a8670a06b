import type { SshKeyService } from '@sightline/domain';
import { checkQueryParameters, serialize } from '@sightline/jsonapi';
import { sendJsonApi } from '@sightline/http';
import type { ApiRouter } from '../../context.js';
import { presentSshPublicKey, sshPublicKeyResource } from '../../resources/ssh-public-key.resource.js';

export interface SshPublicKeyRouteDeps {
  sshKeys: SshKeyService;
}

/**
 * `GET /datasources/ssh_public_key` (beyond the contract): the public key of the organization's SSH
 * key pair (created on first request), for the `authorized_keys` of bastions that `ssh_tunnel`
 * datasources go through. Keys with Manage Datasources. Register before `/datasources/:id`.
 */
export function registerSshPublicKeyRoute(router: ApiRouter, deps: SshPublicKeyRouteDeps): void {
  router.get('/datasources/ssh_public_key', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    const key = await deps.sshKeys.publicKey(ctx.state.principal);
    sendJsonApi(ctx, 200, serialize(sshPublicKeyResource, presentSshPublicKey(key)));
  });
}
