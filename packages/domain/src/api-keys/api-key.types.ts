import type { CreateInputOf, NewRecordOf, PatchOf, RecordOf, RowOf, StoredRecordOf, UpdateInputOf } from '../fields/index.js';
import type { apiKeyFields } from './api-key.fields.js';

/** An API key (its secret is never stored, only a hash). Fields: `apiKeyFields`. */
export interface ApiKey extends RecordOf<typeof apiKeyFields> {
  // restated so that messages and hovers name the type (an empty extension would print its base)
  id: string;
}

/** A freshly created key together with its secret (shown once). */
export interface ApiKeyWithSecret extends ApiKey {
  secret: string;
}

/** Create API Key input. */
export type CreateApiKeyInput = CreateInputOf<typeof apiKeyFields> & {
  /** Use this secret instead of a random one (SIGHTLINE_ADMIN_API_KEY). */
  secret?: string;
};

/** Update API Key input; `permissions` replaces the grants; `undefined` = unchanged. */
export type UpdateApiKeyInput = UpdateInputOf<typeof apiKeyFields>;

/** A key as stored, before its permissions are attached. */
export type ApiKeyRecord = StoredRecordOf<typeof apiKeyFields>;

/** Row of `api_keys`. */
export interface ApiKeyRow extends RowOf<typeof apiKeyFields> {
  id: string;
}

/** What `ApiKeyRepository.insert` takes. */
export type NewApiKey = NewRecordOf<typeof apiKeyFields>;

/** What `ApiKeyRepository.update` takes. */
export type ApiKeyPatch = PatchOf<typeof apiKeyFields>;
