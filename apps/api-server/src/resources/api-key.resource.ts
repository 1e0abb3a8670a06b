import { apiKeyFields, type ApiKey, type ApiKeyWithSecret } from '@sightline/domain';
import { defineFieldResource, type ResourceRecord } from '@sightline/jsonapi';

/** `api_keys`: Sightline's own resource for managing keys (the Cluvio contract has none); attributes from `apiKeyFields`. */
export const apiKeyResource = defineFieldResource({
  type: 'api_keys',
  fields: apiKeyFields,
  extraAttributes: ['secret'], // only the Create response fills it
});

/** Presents a key; `secret` only right after creation. */
export function presentApiKey(key: ApiKey | ApiKeyWithSecret): ResourceRecord {
  const record = apiKeyResource.present(key);
  return 'secret' in key ? { ...record, attributes: { ...record.attributes, secret: key.secret } } : record;
}
