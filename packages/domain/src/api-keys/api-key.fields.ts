import { z } from 'zod';
import { defineFields, f } from '../fields/index.js';
import { PERMISSIONS, type PermissionGrant } from './permissions.js';

/** `permissions` as the API writes it: `[{ name, datasource_ids }]`, each permission once, read into grants. */
const permissionGrants = z
  .array(
    z
      .object({
        name: z.enum(PERMISSIONS),
        datasource_ids: z.array(z.string().min(1).max(64)).max(1000).nullable().default(null),
      })
      .strict(),
  )
  .max(50)
  .refine((list) => new Set(list.map((p) => p.name)).size === list.length, 'each permission may appear once')
  .transform((list) => list.map((p): PermissionGrant => ({ permission: p.name, datasourceIds: p.datasource_ids })));

/**
 * The `api_keys` resource (Sightline's own; the Cluvio contract has none), one line per attribute: the
 * domain type `ApiKey`, the row mapping, the API attributes and request schemas derive from it. The
 * secret is never stored (only its hash); the Create response adds it as the extra attribute `secret`.
 * Writes name only `name`, `enabled` and `permissions` (anything else is an unknown attribute).
 */
export const apiKeyFields = defineFields({
  id: f.id(),
  organizationId: f.tenant(),
  name: f.text(z.string().trim().min(1).max(200)).required(),
  enabled: f.boolean().default(true),
  /** Granted permissions, each unscoped (`datasourceIds` null) or limited to datasources (`api_key_permissions`). */
  permissions: f
    .value(permissionGrants)
    .column(false)
    .default([])
    .shownAs((grants) => grants.map((g) => ({ name: g.permission, datasource_ids: g.datasourceIds }))),
  /** SHA-256 of the secret (the secret itself is never stored). */
  secretHash: f.text({ max: 200 }).internal(),
  /** Last four characters of the secret, to recognise a key without revealing it. */
  secretHint: f.text({ max: 10 }).outputOnly(),
  lastUsedAt: f.timestamp().nullable().outputOnly(),
  createdAt: f.createdAt().outputOnly(),
  updatedAt: f.updatedAt().outputOnly(),
});
