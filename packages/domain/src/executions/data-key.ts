import { createHash } from 'node:crypto';

/** What a data key is computed from: same inputs → same key (contract §4.3.23, ARCHITECTURE "Key"). */
export interface DataKeyInput {
  organizationId: string;
  /** `executions` (ad hoc), `reports`, `filters`, `alerts`, `schemas`. */
  kind: string;
  /** Report/filter id for report and filter keys; omitted for ad hoc SQL. */
  ownerId?: string;
  datasourceId: string;
  sql: string;
  values: unknown[];
  timeZone: string;
  rQuery?: string | null;
  /** Anything else that changes the result (e.g. the dashboard time zone). */
  extra?: Record<string, unknown>;
}

/** Canonical JSON: object keys sorted, so equal inputs always hash equally. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/**
 * The data key: `<organization>/<kind>[/<owner id>]/<sha256 of datasource, SQL, bound values, time
 * zone and post-processing>`. It contains `/`, as the contract says.
 */
export function computeDataKey(input: DataKeyInput): string {
  const digest = createHash('sha256')
    .update(canonical({ d: input.datasourceId, s: input.sql, v: input.values, z: input.timeZone, r: input.rQuery ?? null, x: input.extra ?? null }))
    .digest('hex');
  return [input.organizationId, input.kind, ...(input.ownerId ? [input.ownerId] : []), digest].join('/');
}

/** Key of a datasource's stored schema (all schemas, or one by name). */
export function schemaDataKey(organizationId: string, datasourceId: string, schemaName?: string): string {
  const base = `${organizationId}/schemas/${datasourceId}`;
  return schemaName === undefined ? base : `${base}/${Buffer.from(schemaName, 'utf8').toString('hex')}`;
}

/** The organization a data key belongs to (its first segment). */
export function organizationOfDataKey(dataKey: string): string {
  return dataKey.split('/', 1)[0] ?? '';
}
