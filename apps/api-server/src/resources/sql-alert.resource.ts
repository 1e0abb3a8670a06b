import { sqlAlertFields, type SqlAlert } from '@sightline/domain';
import { defineFieldResource, type ResourceRecord } from '@sightline/jsonapi';

/** `sql_alerts` (contract §3.10): attributes and relationships from `sqlAlertFields`. */
export const sqlAlertResource = defineFieldResource({ type: 'sql_alerts', fields: sqlAlertFields });

export function presentSqlAlert(a: SqlAlert): ResourceRecord {
  return sqlAlertResource.present(a);
}
