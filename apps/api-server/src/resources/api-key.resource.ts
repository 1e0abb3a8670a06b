import type { ApiKey, ApiKeyWithSecret } from '@sightline/domain';
import { defineResource, type ResourceRecord } from '@sightline/jsonapi';

/** `api_keys`: Sightline's own resource for managing keys (the Cluvio contract has none). */
export const apiKeyResource = defineResource({
  type: 'api_keys',
  attributes: ['name', 'enabled', 'permissions', 'secret', 'secret_hint', 'last_used_at', 'created_at', 'updated_at'],
  relationships: {},
});

/** Presents a key; `secret` only right after creation. */
export function presentApiKey(key: ApiKey | ApiKeyWithSecret): ResourceRecord {
  return {
    id: key.id,
    attributes: {
      name: key.name,
      enabled: key.enabled,
      permissions: key.permissions.map((g) => ({ name: g.permission, datasource_ids: g.datasourceIds })),
      secret: 'secret' in key ? key.secret : undefined,
      secret_hint: key.secretHint,
      last_used_at: key.lastUsedAt?.toISOString() ?? null,
      created_at: key.createdAt.toISOString(),
      updated_at: key.updatedAt.toISOString(),
    },
  };
}
