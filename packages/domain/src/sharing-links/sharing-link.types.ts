import type { AggregationOption } from '../query/query.types.js';
import type { FilterScalar } from '../filters/filter.types.js';

/**
 * Parameters a sharing link (or the sharing secret that opened it) pins: custom filters by variable
 * name, and the built-in `aggregation` and `timerange`. A viewer can never override them.
 */
export interface FixedParameters {
  aggregation?: AggregationOption;
  timerange?: string;
  /** Selected values by filter variable name. */
  filters: Record<string, FilterScalar[]>;
}

/** A sharing link of a dashboard (Sightline's `dashboard_sharing_links` resource; contract §3.13 has no schema). */
export interface SharingLink {
  id: string;
  organizationId: string;
  dashboardId: string;
  /** Random UUID: the bearer part of `/dashboards/{id}/shared?sharingToken=…`. */
  sharingToken: string;
  name: string | null;
  /** The URL must also carry `sharingSecret=<JWT>` signed with the organization's sharing secret. */
  requiresSecret: boolean;
  expiresAt: Date | null;
  fixedParameters: FixedParameters | null;
  enabled: boolean;
  /** A password is set (the hash never leaves the repository). */
  passwordProtected: boolean;
  /** Origins that may show the page in a frame (CSP `frame-ancestors`); empty = none. */
  allowedEmbedOrigins: string[];
  lastViewedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Create/Update input; `undefined` = unchanged / default. */
export interface SharingLinkInput {
  dashboardId?: string;
  name?: string | null;
  requiresSecret?: boolean;
  expiresAt?: Date | null;
  fixedParameters?: FixedParameters | null;
  enabled?: boolean;
  /** A new password, or null to remove it. */
  password?: string | null;
  allowedEmbedOrigins?: string[];
}

/** Row of `dashboard_sharing_links`. */
export interface SharingLinkRow {
  id: string;
  organization_id: string;
  dashboard_id: string;
  sharing_token: string;
  name: string | null;
  requires_secret: boolean;
  expires_at: Date | null;
  fixed_parameters: Record<string, unknown> | null;
  enabled: boolean;
  password_hash: string | null;
  allowed_embed_origins: string[];
  last_viewed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** The organization's embedding secret, as an admin key reads it. */
export interface SharingSecret {
  secret: string;
  /** Incremented by every rotation. */
  version: number;
  createdAt: Date;
  /** When it was last rotated (= createdAt before the first rotation). */
  updatedAt: Date;
}

/** Row of `organization_sharing_secrets`. */
export interface SharingSecretRow {
  organization_id: string;
  secret_sealed: string;
  version: number;
  created_at: Date;
  updated_at: Date;
}
