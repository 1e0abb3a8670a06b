import { reportFields, type Report } from '@sightline/domain';
import { defineFieldResource, type ResourceRecord } from '@sightline/jsonapi';

/** `reports` (contract §3.7): attributes and relationships from `reportFields`. */
export const reportResource = defineFieldResource({ type: 'reports', fields: reportFields });

export function presentReport(r: Report): ResourceRecord {
  return reportResource.present(r);
}
