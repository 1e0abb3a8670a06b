import type { CreateInputOf, NewRecordOf, PatchOf, RecordOf, RowOf, UpdateInputOf } from '../fields/index.js';
import type { AggregationOption } from '../query/query.types.js';
import type { FilterScalar } from '../filters/filter.types.js';
import type { sharingLinkFields } from './sharing-link.fields.js';

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

/**
 * A sharing link of a dashboard (Sightline's `dashboard_sharing_links` resource; contract §3.13 has no
 * schema). Fields: `sharingLinkFields`, without the write-only `password` and the `passwordHash` that
 * stays in the repository.
 */
export interface SharingLink extends Omit<RecordOf<typeof sharingLinkFields>, 'password' | 'passwordHash'> {
  // restated so that messages and hovers name the type
  id: string;
}

/** Create Dashboard Sharing Link input (`dashboardId` required; `password` is hashed, never stored). */
export type CreateSharingLinkInput = CreateInputOf<typeof sharingLinkFields>;

/** Update input; `undefined` = unchanged (the dashboard cannot change: the service refuses another one). */
export type UpdateSharingLinkInput = UpdateInputOf<typeof sharingLinkFields>;

/** The writable attributes of a link, all optional (a create adds `dashboardId`). */
export type SharingLinkInput = UpdateSharingLinkInput;

/** Row of `dashboard_sharing_links`. */
export interface SharingLinkRow extends RowOf<typeof sharingLinkFields> {
  id: string;
}

/** What `SharingLinkRepository.insert` takes. */
export type NewSharingLink = NewRecordOf<typeof sharingLinkFields>;

/** What `SharingLinkRepository.update` takes. */
export type SharingLinkPatch = PatchOf<typeof sharingLinkFields>;

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
