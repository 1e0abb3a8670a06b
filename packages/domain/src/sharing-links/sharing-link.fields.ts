import { z } from 'zod';
import { defineFields, f } from '../fields/index.js';
import type { FilterScalar } from '../filters/filter.types.js';
import type { AggregationOption } from '../query/query.types.js';
import { fixedParametersToWire, parseFixedParameters } from './fixed-parameters.js';
import type { FixedParameters } from './sharing-link.types.js';

/** Shortest and longest accepted sharing-link password. */
export const SHARING_PASSWORD_LENGTH = { min: 8, max: 200 } as const;

const EMBED_ORIGIN = /^https?:\/\/(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$/;

/**
 * Normalises an origin that may frame a shared page: `https://host[:port]` (or `http://`), host
 * optionally `*.`-prefixed, no path. It ends up in a CSP header, so nothing else gets through.
 * @returns the lowercase origin, or undefined when the text is not one
 */
export function parseEmbedOrigin(text: string): string | undefined {
  const origin = text.trim().toLowerCase().replace(/\/$/, '');
  return origin.length <= 300 && EMBED_ORIGIN.test(origin) ? origin : undefined;
}

const origin = z
  .string()
  .max(300)
  .transform((value, ctx) => {
    const parsed = parseEmbedOrigin(value);
    if (parsed === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be an origin such as "https://app.example.com" (scheme, host, optional port; "*." allowed before the host)',
      });
      return z.NEVER;
    }
    return parsed;
  });

/** `fixed_parameters` as written: checked (every problem a 422 with its pointer) and read into the domain shape. */
const fixedParameters = z.unknown().transform((raw) => parseFixedParameters(raw, '/data/attributes/fixed_parameters', new Date()));

/** Stored fixed parameters back to the domain shape (they were validated before they were stored). */
function fixedFromColumn(raw: Record<string, unknown>): FixedParameters {
  const out: FixedParameters = { filters: Object.create(null) as Record<string, FilterScalar[]> };
  for (const [name, value] of Object.entries(raw)) {
    if (name === 'aggregation') out.aggregation = value as AggregationOption;
    else if (name === 'timerange') out.timerange = value as string;
    else out.filters[name] = value as FilterScalar[];
  }
  return out;
}

/**
 * The `dashboard_sharing_links` resource (the contract names the type, §3.13, but documents no
 * attributes; these are Sightline's, README "Beyond the Cluvio API"), one line per attribute: the
 * domain type `SharingLink`, the row mapping, the API attributes and request schemas derive from it.
 * Writes name only the writable attributes and `dashboard` (anything else is an unknown attribute).
 */
export const sharingLinkFields = defineFields({
  id: f.id(),
  organizationId: f.tenant(),
  name: f.text(z.string().trim().min(1).max(200)).nullable(),
  /** Random UUID: the bearer part of `/dashboards/{id}/shared?sharingToken=…`. */
  sharingToken: f.text({ max: 100 }).outputOnly(),
  /** The URL must also carry `sharingSecret=<JWT>` signed with the organization's sharing secret. */
  requiresSecret: f.boolean().default(false),
  expiresAt: f.timestamp().nullable(),
  /** Filters, `aggregation` and `timerange` the page pins (a viewer can never override them). */
  fixedParameters: f
    .json(fixedParameters)
    .nullable()
    .shownAs(fixedParametersToWire)
    .storedAs((fixed) => JSON.stringify(fixedParametersToWire(fixed)), fixedFromColumn),
  enabled: f.boolean().default(true),
  /** A new password, or null to remove it: hashed into `passwordHash` by the service, never stored or shown. */
  password: f.text(z.string().min(SHARING_PASSWORD_LENGTH.min).max(SHARING_PASSWORD_LENGTH.max)).nullable().writeOnly().column(false),
  /** scrypt hash of the password (never leaves the repository except for the viewer's check). */
  passwordHash: f.text({ max: 1000 }).nullable().internal(),
  /** A password is set. */
  passwordProtected: f.boolean().column(false).outputOnly(),
  /** Origins that may show the page in a frame (CSP `frame-ancestors`); empty = none. */
  allowedEmbedOrigins: f.json(z.array(origin).max(20)).default([]),
  lastViewedAt: f.timestamp().nullable().outputOnly(),
  createdAt: f.createdAt().outputOnly(),
  updatedAt: f.updatedAt().outputOnly(),
  dashboardId: f.ref('dashboards'),
});
