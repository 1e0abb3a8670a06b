import { datasourceFields, type CanSee, type Datasource, type Principal } from '@sightline/domain';
import { defineFieldResource, type ResourceRecord } from '@sightline/jsonapi';

/** `datasources` (contract §3.1): attributes and the `agents` relationship from `datasourceFields`. */
export const datasourceResource = defineFieldResource({
  type: 'datasources',
  fields: datasourceFields,
});

/** Whether the key holds a permission for one datasource (any datasource when `datasourceId` is undefined). */
function canSeeFor(principal: Principal, datasourceId?: string): CanSee {
  return (permission) => (datasourceId === undefined ? principal.has(permission) : principal.canUseDatasource(datasourceId, permission));
}

/** Credentials appear only for keys with Manage Datasources on the datasource (contract §1.3). */
export function datasourceOmissions(principal: Principal, datasourceId?: string): string[] {
  return datasourceResource.hiddenAttributes(canSeeFor(principal, datasourceId));
}

export function presentDatasource(ds: Datasource, principal: Principal): ResourceRecord {
  return datasourceResource.present(ds, canSeeFor(principal, ds.id));
}
