import { PERMISSIONS } from '@sightline/domain';
import { z } from 'zod';

const permission = z
  .object({
    name: z.enum(PERMISSIONS),
    datasource_ids: z.array(z.string().min(1).max(64)).max(1000).nullable().default(null),
  })
  .strict();

const permissions = z
  .array(permission)
  .max(50)
  .refine((list) => new Set(list.map((p) => p.name)).size === list.length, 'each permission may appear once');

export const createApiKeyAttributes = z
  .object({
    name: z.string().trim().min(1).max(200),
    enabled: z.boolean().default(true),
    permissions: permissions.default([]),
  })
  .strict();

export const updateApiKeyAttributes = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    enabled: z.boolean().optional(),
    permissions: permissions.optional(),
  })
  .strict();

export type PermissionInput = z.infer<typeof permission>;
