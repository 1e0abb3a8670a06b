import { ForbiddenError } from '../errors.js';

/**
 * API key permissions: the seven names of the Cluvio contract, plus `View Dashboards`, `View Alerts`
 * (inferred from the contract's "View X ∨ Manage X" pattern) and `Manage API Keys` (Sightline's own
 * key management). `Manage X` implies `View X`.
 */
export const PERMISSIONS = [
  'View Datasources',
  'Manage Datasources',
  'View Dashboards',
  'Manage Dashboards',
  'View Alerts',
  'Manage Alerts',
  'View Users',
  'Manage Users',
  'Include SQL Details',
  'Manage API Keys',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

/** Permissions that may be limited to some datasources. */
export const DATASOURCE_SCOPED_PERMISSIONS: readonly Permission[] = [
  'View Datasources',
  'Manage Datasources',
  'View Dashboards',
  'Manage Dashboards',
  'View Alerts',
  'Manage Alerts',
];

const IMPLIED_BY: Record<Permission, Permission[]> = {
  'View Datasources': ['Manage Datasources'],
  'Manage Datasources': [],
  'View Dashboards': ['Manage Dashboards'],
  'Manage Dashboards': [],
  'View Alerts': ['Manage Alerts'],
  'Manage Alerts': [],
  'View Users': ['Manage Users'],
  'Manage Users': [],
  'Include SQL Details': [],
  'Manage API Keys': [],
};

/** One permission of a key, limited to `datasourceIds` or unlimited (`null`). */
export interface PermissionGrant {
  permission: Permission;
  datasourceIds: string[] | null;
}

/** The set of datasources a check allows: every one of the organization, or the listed ids. */
export type DatasourceScope = 'all' | ReadonlySet<string>;

/** True when `permission` is granted by `held` directly or by implication (Manage implies View). */
export function grants(held: Permission, permission: Permission): boolean {
  return held === permission || IMPLIED_BY[permission].includes(held);
}

/**
 * Who is calling: an API key of one organization with its permissions. Every service check goes
 * through this object, so the rules live in one place.
 */
export class Principal {
  constructor(
    readonly organizationId: string,
    readonly apiKeyId: string,
    readonly grants: readonly PermissionGrant[],
  ) {}

  /** True when the key holds `permission` (for at least some datasources, if scoped). */
  has(permission: Permission): boolean {
    return this.grants.some((g) => grants(g.permission, permission));
  }

  /** True when the key holds at least one of `permissions`. */
  hasAny(...permissions: Permission[]): boolean {
    return permissions.some((p) => this.has(p));
  }

  /**
   * Checks that the key holds at least one of `permissions`.
   * @throws ForbiddenError naming the alternatives
   */
  requireAny(...permissions: Permission[]): void {
    if (!this.hasAny(...permissions)) {
      throw new ForbiddenError(`This operation requires the ${permissions.map((p) => `"${p}"`).join(' or ')} permission`);
    }
  }

  /** The datasources reachable through any of `permissions` (union of their scopes). */
  datasourceScope(...permissions: Permission[]): DatasourceScope {
    const ids = new Set<string>();
    for (const g of this.grants) {
      if (!permissions.some((p) => grants(g.permission, p))) continue;
      if (g.datasourceIds === null) return 'all';
      for (const id of g.datasourceIds) ids.add(id);
    }
    return ids;
  }

  /** True when one of `permissions` covers datasource `datasourceId`. */
  canUseDatasource(datasourceId: string, ...permissions: Permission[]): boolean {
    const scope = this.datasourceScope(...permissions);
    return scope === 'all' || scope.has(datasourceId);
  }
}

/** True when `scope` admits `datasourceId`. */
export function scopeAdmits(scope: DatasourceScope, datasourceId: string): boolean {
  return scope === 'all' || scope.has(datasourceId);
}
