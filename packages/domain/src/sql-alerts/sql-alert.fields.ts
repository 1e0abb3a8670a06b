import { z } from 'zod';
import { defineFields, f, nulFreeText } from '../fields/index.js';
import { ALERT_ATTACHMENT_FORMATS } from '../scheduling/attach-as.js';
import { attachAsSchema, emailListSchema } from '../scheduling/field-schemas.js';
import { MAX_SCHEDULE_LENGTH, RUN_EVERY_MAX, RUN_EVERY_MIN, RUN_SCHEDULES } from '../scheduling/schedule-grammar.js';
import { EMAIL_CONDITIONS, SQL_ALERT_RESULT_STATUSES, TRIGGER_CONDITIONS } from './alert-evaluation.js';

/**
 * The `sql_alerts` resource (contract §3.10), one line per attribute: the domain type `SqlAlert`, the
 * row mapping, the API attributes and request schemas derive from it. Rules across attributes
 * (`run_at` for `at`, `run_every` for `every`, `trigger_value` for comparisons) are the service's.
 */
export const sqlAlertFields = defineFields({
  id: f.id(),
  organizationId: f.tenant(),
  name: f.text(nulFreeText(500).pipe(z.string().min(1, 'must not be empty'))).required(),
  description: f.text({ max: 100_000 }).nullable(),
  sqlQuery: f.text(nulFreeText(1_000_000).pipe(z.string().min(1, 'must not be empty'))).required(),
  runSchedule: f.enum(RUN_SCHEDULES).required(),
  /** Comma-separated times of day for `at` (24-hour or am/pm), as written. */
  runAt: f.text({ max: MAX_SCHEDULE_LENGTH }).nullable(),
  /** Minutes between runs for `every`. */
  runEvery: f.integer(RUN_EVERY_MIN, RUN_EVERY_MAX).nullable(),
  triggerCondition: f.enum(TRIGGER_CONDITIONS).default('has_results'),
  /** Right-hand side of comparisons: `<first cell> <condition> <trigger_value>`. */
  triggerValue: f.value(z.number().finite()).nullable(),
  emailCondition: f.enum(EMAIL_CONDITIONS).required(),
  emails: f.text(emailListSchema('emails')).nullable(),
  ccEmails: f.text(emailListSchema('cc_emails')).nullable(),
  bccEmails: f.text(emailListSchema('bcc_emails')).nullable(),
  /** Query errors go here instead of the regular recipients. */
  errorEmails: f.text(emailListSchema('error_emails')).nullable(),
  /** `csv` or `excel`: the result attached to mails. */
  attachAs: f.text(attachAsSchema(ALERT_ATTACHMENT_FORMATS)).nullable(),
  /** Set while a run's query runs. */
  runningExecutionId: f.text({ max: 64 }).nullable().readOnly(),
  lastResultStatus: f.enum(SQL_ALERT_RESULT_STATUSES).nullable().readOnly(),
  /** Alert-evaluation error of the last run (e.g. a non-numeric value), separate from the SQL error. */
  lastErrorMessage: f.text({ max: 100_000 }).nullable().readOnly(),
  lastQueryRun: f.timestamp().nullable().readOnly(),
  lastQuerySuccess: f.timestamp().nullable().readOnly(),
  lastQueryErrorMessage: f.text({ max: 100_000 }).nullable().readOnly(),
  createdAt: f.createdAt(),
  updatedAt: f.updatedAt(),
  datasourceId: f.ref('datasources'),
  /** Next due time in the organization's time zone; null when `disabled`. */
  nextRunAt: f.timestamp().nullable().internal(),
});
