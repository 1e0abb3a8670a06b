import { fixedParametersToWire, type SharingLink } from '@sightline/domain';
import { defineResource, type ResourceRecord } from '@sightline/jsonapi';

/**
 * `dashboard_sharing_links`: the contract names the type (§3.13) but documents no attributes;
 * these are Sightline's (README "Beyond the Cluvio API"). `password` is write-only.
 */
export const dashboardSharingLinkResource = defineResource({
  type: 'dashboard_sharing_links',
  attributes: [
    'name', 'sharing_token', 'requires_secret', 'expires_at', 'fixed_parameters', 'enabled', 'password_protected', 'allowed_embed_origins',
    'last_viewed_at', 'created_at', 'updated_at',
  ],
  relationships: {
    dashboard: { type: 'dashboards', many: false },
  },
});

/** Presents a sharing link (never its password hash). */
export function presentDashboardSharingLink(link: SharingLink): ResourceRecord {
  return {
    id: link.id,
    attributes: {
      name: link.name,
      sharing_token: link.sharingToken,
      requires_secret: link.requiresSecret,
      expires_at: link.expiresAt?.toISOString() ?? null,
      fixed_parameters: link.fixedParameters ? fixedParametersToWire(link.fixedParameters) : null,
      enabled: link.enabled,
      password_protected: link.passwordProtected,
      allowed_embed_origins: link.allowedEmbedOrigins,
      last_viewed_at: link.lastViewedAt?.toISOString() ?? null,
      created_at: link.createdAt.toISOString(),
      updated_at: link.updatedAt.toISOString(),
    },
    relationships: { dashboard: link.dashboardId },
  };
}
