import { SHARING_PASSWORD_LENGTH, parseEmbedOrigin } from '@sightline/domain';
import { z } from 'zod';

const origin = z.string().max(300).transform((value, ctx) => {
  const parsed = parseEmbedOrigin(value);
  if (parsed === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be an origin such as "https://app.example.com" (scheme, host, optional port; "*." allowed before the host)' });
    return z.NEVER;
  }
  return parsed;
});

const timestamp = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

/** Attributes both create and update take (`fixed_parameters` is checked by the domain parser). */
const attributes = {
  name: z.string().trim().min(1).max(200).nullable(),
  requires_secret: z.boolean(),
  expires_at: timestamp.nullable(),
  fixed_parameters: z.unknown(),
  enabled: z.boolean(),
  password: z.string().min(SHARING_PASSWORD_LENGTH.min).max(SHARING_PASSWORD_LENGTH.max).nullable(),
  allowed_embed_origins: z.array(origin).max(20),
};

export const createSharingLinkAttributes = z.object({
  name: attributes.name.optional(),
  requires_secret: attributes.requires_secret.default(false),
  expires_at: attributes.expires_at.optional(),
  fixed_parameters: attributes.fixed_parameters.optional(),
  enabled: attributes.enabled.default(true),
  password: attributes.password.optional(),
  allowed_embed_origins: attributes.allowed_embed_origins.default([]),
}).strict();

export const updateSharingLinkAttributes = z.object({
  name: attributes.name.optional(),
  requires_secret: attributes.requires_secret.optional(),
  expires_at: attributes.expires_at.optional(),
  fixed_parameters: attributes.fixed_parameters.optional(),
  enabled: attributes.enabled.optional(),
  password: attributes.password.optional(),
  allowed_embed_origins: attributes.allowed_embed_origins.optional(),
}).strict();

export type SharingLinkAttributes = z.infer<typeof updateSharingLinkAttributes>;
