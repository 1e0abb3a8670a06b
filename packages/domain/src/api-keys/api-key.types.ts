import type { PermissionGrant } from './permissions.js';

/** An API key (its secret is never stored, only a hash). */
export interface ApiKey {
  id: string;
  organizationId: string;
  name: string;
  enabled: boolean;
  /** Last four characters of the secret, to recognise a key without revealing it. */
  secretHint: string;
  permissions: PermissionGrant[];
  lastUsedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A freshly created key together with its secret (shown once). */
export interface ApiKeyWithSecret extends ApiKey {
  secret: string;
}

export interface CreateApiKeyInput {
  name: string;
  enabled?: boolean;
  permissions: PermissionGrant[];
  /** Use this secret instead of a random one (SIGHTLINE_ADMIN_API_KEY). */
  secret?: string;
}

export interface UpdateApiKeyInput {
  name?: string;
  enabled?: boolean;
  permissions?: PermissionGrant[];
}

export interface ApiKeyRow {
  id: string;
  organization_id: string;
  name: string;
  secret_hash: string;
  secret_hint: string;
  enabled: boolean;
  last_used_at: Date | null;
  created_at: Date;
  updated_at: Date;
}
