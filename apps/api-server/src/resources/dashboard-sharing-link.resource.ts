import { sharingLinkFields, type SharingLink } from '@sightline/domain';
import { defineFieldResource, type ResourceRecord } from '@sightline/jsonapi';

/**
 * `dashboard_sharing_links`: the contract names the type (§3.13) but documents no attributes;
 * these are Sightline's (README "Beyond the Cluvio API"), from `sharingLinkFields`. `password` is write-only.
 */
export const dashboardSharingLinkResource = defineFieldResource({ type: 'dashboard_sharing_links', fields: sharingLinkFields });

/** Presents a sharing link (never its password or hash: neither is in `SharingLink`). */
export function presentDashboardSharingLink(link: SharingLink): ResourceRecord {
  return dashboardSharingLinkResource.present({ ...link, password: null, passwordHash: null });
}
