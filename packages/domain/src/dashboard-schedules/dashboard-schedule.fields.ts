import { z } from 'zod';
import { defineFields, f, nulFreeText } from '../fields/index.js';
import { SCHEDULE_ATTACHMENT_FORMATS } from '../scheduling/attach-as.js';
import { attachAsSchema, emailListSchema, inputParametersSchema, scheduleSchema } from '../scheduling/field-schemas.js';

/**
 * The `dashboard_schedules` resource (contract §3.6), one line per attribute: the domain type
 * `DashboardSchedule`, the row mapping, the API attributes and request schemas derive from it.
 * Lists and the schedule text are stored as written; their grammar is checked on the way in.
 */
export const dashboardScheduleFields = defineFields({
  id: f.id(),
  organizationId: f.tenant(),
  name: f.text(nulFreeText(500).pipe(z.string().min(1, 'must not be empty'))).required(),
  /** Comma-separated recipients (at least one). */
  emails: f.text(emailListSchema('emails', true)).required(),
  /** Comma-separated subset of `SCHEDULE_ATTACHMENT_FORMATS` (blank: a mail without files). */
  attachAs: f.text(attachAsSchema(SCHEDULE_ATTACHMENT_FORMATS)).required(),
  /** The §4.8 schedule: `disabled`, `daily;…`, `weekly;…;…` (0 = Monday), `monthly;…;…`. */
  schedule: f.text(scheduleSchema).required(),
  ccEmails: f.text(emailListSchema('cc_emails')).nullable(),
  bccEmails: f.text(emailListSchema('bcc_emails')).nullable(),
  subjectText: f.text({ max: 998 }).nullable(),
  bodyText: f.text({ max: 100_000 }).nullable(),
  // ⚠ undocumented (contract §5.22): stored and shown as given
  sendVia: f.text({ max: 200 }).nullable(),
  /** Width of rendered pictures in px; null = the dashboard's `default_page_width`. */
  pageWidth: f.integer(100, 20_000).nullable(),
  /** Input parameters the schedule's data is refreshed and rendered under. */
  parameters: f.json(inputParametersSchema).nullable(),
  /** When the last run's mail was handed to SMTP. */
  lastSentAt: f.timestamp().nullable().readOnly(),
  createdAt: f.createdAt(),
  updatedAt: f.updatedAt(),
  /** Target dashboard; null when the schedule targets a report (the report wins, §4.8 rule 52). */
  dashboardId: f.ref('dashboards').nullable().optional(),
  reportId: f.ref('reports').nullable().optional(),
  /** Datasources whose reports a run may show: the Manage Dashboards scope of the key that last wrote it (null = all). */
  runDatasourceIds: f.value(z.array(z.string())).nullable().internal(),
  /** Next due time in the organization's time zone; null when `disabled`. */
  nextDueAt: f.timestamp().nullable().internal(),
});
