import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import ssh2 from 'ssh2';
import type { Principal } from '../api-keys/permissions.js';
import { decryptSecret, encryptSecret } from '../crypto/secrets.js';
import { SshKeyRepository } from './ssh-key.repository.js';

/** An organization's SSH key pair (the private key opened: services only). */
export interface OrganizationSshKeyPair {
  keyType: 'ssh-ed25519';
  /** OpenSSH one-line public key, for the bastion's `authorized_keys`. */
  publicKey: string;
  /** `SHA256:<base64>` as `ssh-keygen -lf` prints it. */
  fingerprint: string;
  /** OpenSSH private key. */
  privateKey: string;
  createdAt: Date;
}

/** What `GET /datasources/ssh_public_key` shows. */
export interface SshPublicKey {
  organizationId: string;
  keyType: string;
  publicKey: string;
  fingerprint: string;
  createdAt: Date;
}

/** `SHA256:<unpadded base64>` of an SSH key blob (the form OpenSSH prints). */
export function sshFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * An Ed25519 pair whose private key ssh2 itself can read back. About 1 in 300 keys that ssh2 generates
 * fails its own parser ("Malformed OpenSSH private key", seen in tests), so such a key is never stored.
 */
function generateParsableKeyPair(comment: string): { public: string; private: string } {
  for (let attempt = 0; attempt < 20; attempt++) {
    const generated = ssh2.utils.generateKeyPairSync('ed25519', { comment });
    if (!(ssh2.utils.parseKey(generated.private) instanceof Error)) return generated;
  }
  throw new Error('Could not generate a readable SSH key pair');
}

/**
 * The organizations' SSH key pairs: one Ed25519 pair each, generated on first need, the private key
 * sealed with the deployment's encryption key like datasource credentials.
 */
export class SshKeyService {
  constructor(private readonly deps: { db: Knex; encryptionKey: Buffer }) {}

  /** The organization's key pair, created on first use (concurrent first uses agree on one). */
  async keyPair(organizationId: string): Promise<OrganizationSshKeyPair> {
    const repo = new SshKeyRepository(this.deps.db);
    let row = await repo.findKey(organizationId);
    if (!row) {
      const generated = generateParsableKeyPair(`sightline-${organizationId}`);
      const blob = Buffer.from(generated.public.split(' ')[1]!, 'base64');
      row = await repo.insertKeyIfMissing({
        organization_id: organizationId,
        key_type: 'ssh-ed25519',
        public_key: generated.public.trim(),
        fingerprint: sshFingerprint(blob),
        private_key_enc: encryptSecret(generated.private, this.deps.encryptionKey),
      });
    }
    return {
      keyType: 'ssh-ed25519',
      publicKey: row.public_key,
      fingerprint: row.fingerprint,
      privateKey: decryptSecret(row.private_key_enc, this.deps.encryptionKey),
      createdAt: row.created_at,
    };
  }

  /**
   * The public key a customer adds to the bastion's `authorized_keys` (keys with Manage Datasources).
   * @throws ForbiddenError without Manage Datasources
   */
  async publicKey(principal: Principal): Promise<SshPublicKey> {
    principal.requireAny('Manage Datasources');
    const pair = await this.keyPair(principal.organizationId);
    return {
      organizationId: principal.organizationId,
      keyType: pair.keyType,
      publicKey: pair.publicKey,
      fingerprint: pair.fingerprint,
      createdAt: pair.createdAt,
    };
  }
}
