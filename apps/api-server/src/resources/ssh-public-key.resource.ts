import type { SshPublicKey } from '@sightline/domain';
import { defineResource, type ResourceRecord } from '@sightline/jsonapi';

/**
 * `ssh_public_keys`: the organization's SSH public key for bastions of `ssh_tunnel` datasources
 * (Sightline's own resource; the Cluvio contract has none). The id is the organization's id.
 */
export const sshPublicKeyResource = defineResource({
  type: 'ssh_public_keys',
  attributes: ['key_type', 'public_key', 'fingerprint', 'created_at'],
  relationships: {},
});

/** Presents the organization's public key. */
export function presentSshPublicKey(key: SshPublicKey): ResourceRecord {
  return {
    id: key.organizationId,
    attributes: { key_type: key.keyType, public_key: key.publicKey, fingerprint: key.fingerprint, created_at: key.createdAt.toISOString() },
  };
}
