import { describe, expect, it } from '@jest/globals';
import { dashboardScheduleFields } from '../../src/dashboard-schedules/index.js';
import { sqlAlertFields } from '../../src/sql-alerts/index.js';

const issues = (result: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }) =>
  (result.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);

describe('dashboardScheduleFields', () => {
  it('has the contract attributes and relationships; internal state stays out of the API', () => {
    expect(dashboardScheduleFields.relationships).toEqual({ dashboard: { type: 'dashboards', many: false }, report: { type: 'reports', many: false } });
    for (const name of [
      'name',
      'emails',
      'attach_as',
      'schedule',
      'cc_emails',
      'bcc_emails',
      'subject_text',
      'body_text',
      'send_via',
      'page_width',
      'parameters',
      'last_sent_at',
      'created_at',
      'updated_at',
    ]) {
      expect(dashboardScheduleFields.attributes).toContain(name);
    }
    expect(dashboardScheduleFields.attributes).not.toContain('next_due_at');
    expect(dashboardScheduleFields.attributes).not.toContain('run_datasource_ids');
  });

  it('checks the grammar of schedule, recipient lists and attach_as at the edge, naming the wrong part', () => {
    const base = { name: 'x', emails: 'a@example.com', attach_as: 'csv', schedule: 'daily;06:00' };
    expect(dashboardScheduleFields.createSchema.safeParse(base).success).toBe(true);
    expect(issues(dashboardScheduleFields.createSchema.safeParse({ ...base, schedule: 'monthly;1,32;06:00' }))).toEqual([
      'schedule: Invalid schedule "monthly;1,32;06:00": day of month "32" (part 2, item 2) must be a whole number from 1 to 31',
    ]);
    expect(issues(dashboardScheduleFields.createSchema.safeParse({ ...base, emails: 'a@example.com,b@' }))).toEqual([
      'emails: "b@" (address 2) is not a valid e-mail address',
    ]);
    expect(issues(dashboardScheduleFields.createSchema.safeParse({ ...base, emails: '' }))).toEqual(['emails: needs at least one address']);
    expect(issues(dashboardScheduleFields.createSchema.safeParse({ ...base, attach_as: 'csv,gif' }))).toEqual([
      'attach_as: "gif" (item 2) is not a format; use a comma-separated list of excel, csv, png, dark_png, inline_png, dark_inline_png, pdf, dark_pdf',
    ]);
    // read-only attributes echoed by clients are accepted and dropped
    expect(dashboardScheduleFields.createSchema.parse({ ...base, last_sent_at: 'whatever' })).not.toHaveProperty('lastSentAt');
  });

  it('create defaults: optional attributes and the target relationships are null', () => {
    const prepared = dashboardScheduleFields.prepareCreate({ name: 'x', emails: 'a@example.com', attachAs: '', schedule: 'disabled', dashboardId: 'd' });
    expect(prepared).toMatchObject({ ccEmails: null, bccEmails: null, subjectText: null, pageWidth: null, parameters: null, reportId: null, dashboardId: 'd' });
  });
});

describe('sqlAlertFields', () => {
  it('has the contract attributes; status attributes are read-only', () => {
    expect(sqlAlertFields.relationships).toEqual({ datasource: { type: 'datasources', many: false } });
    expect(sqlAlertFields.attributes).not.toContain('next_run_at');
    const parsed = sqlAlertFields.createSchema.parse({
      name: 'a',
      sql_query: 'SELECT 1',
      run_schedule: 'disabled',
      email_condition: 'all',
      last_result_status: 'ok',
      running_execution_id: 'x',
    });
    expect(parsed).toEqual({ name: 'a', sqlQuery: 'SELECT 1', runSchedule: 'disabled', emailCondition: 'all' });
    expect(sqlAlertFields.prepareCreate({ ...parsed, datasourceId: 'd' })).toMatchObject({
      triggerCondition: 'has_results',
      triggerValue: null,
      attachAs: null,
    });
  });

  it('refuses unknown enums, pictures as attachments and bad addresses', () => {
    const base = { name: 'a', sql_query: 'SELECT 1', run_schedule: 'disabled', email_condition: 'all' };
    expect(issues(sqlAlertFields.createSchema.safeParse({ ...base, attach_as: 'png' }))).toEqual([
      'attach_as: "png" (item 1) is not a format; use a comma-separated list of csv, excel',
    ]);
    expect(issues(sqlAlertFields.createSchema.safeParse({ ...base, error_emails: 'x' }))).toEqual([
      'error_emails: "x" (address 1) is not a valid e-mail address',
    ]);
    expect(sqlAlertFields.createSchema.safeParse({ ...base, run_schedule: 'hourly' }).success).toBe(false);
    expect(sqlAlertFields.createSchema.safeParse({ ...base, trigger_value: Number.NaN }).success).toBe(false);
    expect(sqlAlertFields.createSchema.safeParse({ ...base, run_every: 0 }).success).toBe(false);
  });
});
