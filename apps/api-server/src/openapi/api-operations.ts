import { OpenApiBuilder, addDataServerOperations, addHealthOperation, type Body, type QueryParameter, type ResponseSpec } from '@sightline/openapi';
import type { ResourceDefinition } from '@sightline/jsonapi';
import { RESULTS_DEFAULT_LIMIT, RESULTS_MAX_LIMIT } from '@sightline/domain';
import { apiKeyResource } from '../resources/api-key.resource.js';
import { dashboardGroupResource } from '../resources/dashboard-group.resource.js';
import { dashboardScheduleResource } from '../resources/dashboard-schedule.resource.js';
import { dashboardSharingLinkResource } from '../resources/dashboard-sharing-link.resource.js';
import { dashboardResource } from '../resources/dashboard.resource.js';
import { datasourceResource } from '../resources/datasource.resource.js';
import { datasourceAgentResource } from '../resources/datasource-agent.resource.js';
import { sshPublicKeyResource } from '../resources/ssh-public-key.resource.js';
import { executionResource } from '../resources/execution.resource.js';
import { filterResource } from '../resources/filter.resource.js';
import { reportResource } from '../resources/report.resource.js';
import { sqlAlertResource } from '../resources/sql-alert.resource.js';
import { sqlSnippetResource } from '../resources/sql-snippet.resource.js';
import { userGroupResource } from '../resources/user-group.resource.js';
import { userResource } from '../resources/user.resource.js';
import { filterOptionsBody, pollStatusBody, refreshBody, reportDataBody } from '../routes/dashboard-data/dashboard-data.schema.js';
import { sortDashboardGroupsBody } from '../routes/dashboard-groups/dashboard-group.schema.js';
import { layoutBody } from '../routes/dashboards/dashboard.schema.js';
import { DASHBOARD_INCLUDES } from '../routes/dashboards/dashboard.router.js';
import { runExecutionBody } from '../routes/executions/execution.schema.js';
import { exportBody } from '../routes/export-jobs/export-job.schema.js';
import { acceptInvitationBody } from '../routes/invitations/invitation.schema.js';
import { activateUserBody, inviteUserBody } from '../routes/users/user.schema.js';

const NO_CONTENT: ResponseSpec = { description: 'Done (no content)' };

const include = (names: readonly string[]): QueryParameter => ({
  name: 'include',
  description: `Comma-separated related resources to include: ${names.map((n) => `\`${n}\``).join(', ')}.`,
  schema: { type: 'string' },
});

interface CrudOptions {
  /** Operation id stem, singular and plural (`Report`, `Reports`). */
  name: [string, string];
  /** The same in words for summaries (`report`, `reports`; default: the stems in lower case). */
  words?: [string, string];
  tag: string;
  list?: { include?: readonly string[] };
  create?: boolean;
  get?: { include?: readonly string[] };
  update?: boolean;
  delete?: boolean;
}

/** List/Create/Get/Update/Delete of a JSON:API resource at `/<type>[/{id}]`. */
function crud(b: OpenApiBuilder, definition: ResourceDefinition, o: CrudOptions): void {
  const base = `/${definition.type}`;
  const [one, many] = o.name;
  const [oneWord, manyWords] = o.words ?? [one.toLowerCase(), many.toLowerCase()];
  const idDescription = { id: `${oneWord[0]!.toUpperCase()}${oneWord.slice(1)} id` };
  if (o.list) {
    b.add({
      method: 'get',
      path: base,
      operationId: `list${many}`,
      tag: o.tag,
      access: 'Api',
      summary: `List ${manyWords}`,
      ...(o.list.include ? { query: [include(o.list.include)] } : {}),
      responses: { 200: { description: `The ${manyWords} this key may see`, content: [b.resourceDocument(definition, true)] } },
    });
  }
  if (o.create) {
    b.add({
      method: 'post',
      path: base,
      operationId: `create${one}`,
      tag: o.tag,
      access: 'Api',
      summary: `Create ${oneWord}`,
      requestBody: b.requestDocument(definition, 'create'),
      responses: { 201: { description: 'Created', content: [b.resourceDocument(definition)] } },
    });
  }
  if (o.get) {
    b.add({
      method: 'get',
      path: `${base}/{id}`,
      operationId: `get${one}`,
      tag: o.tag,
      access: 'Api',
      summary: `Get ${oneWord}`,
      pathParameters: idDescription,
      ...(o.get.include ? { query: [include(o.get.include)] } : {}),
      responses: { 200: { description: `The ${oneWord}`, content: [b.resourceDocument(definition)] } },
    });
  }
  if (o.update) {
    b.add({
      method: 'patch',
      path: `${base}/{id}`,
      operationId: `update${one}`,
      tag: o.tag,
      access: 'Api',
      summary: `Update ${oneWord}`,
      pathParameters: idDescription,
      requestBody: b.requestDocument(definition, 'update'),
      responses: { 200: { description: 'Updated', content: [b.resourceDocument(definition)] } },
    });
  }
  if (o.delete) {
    b.add({
      method: 'delete',
      path: `${base}/{id}`,
      operationId: `delete${one}`,
      tag: o.tag,
      access: 'Api',
      summary: `Delete ${oneWord}`,
      pathParameters: idDescription,
      responses: { 204: NO_CONTENT },
    });
  }
}

const ALL = { list: {}, create: true, get: {}, update: true, delete: true } as const;

/**
 * Every route of the API server (and, by reference, of the data server) as OpenAPI operations. The
 * resource schemas come from the resource definitions and their field tables, request bodies from the
 * routes' zod schemas; only paths, summaries and response kinds are stated here.
 * `openapi.int.test.ts` checks that this list and the registered Koa routes are the same set.
 */
export function describeApi(): OpenApiBuilder {
  const b = new OpenApiBuilder();
  const executionId = b.jsonSchema('execution_reference', { type: 'object', required: ['execution_id'], properties: { execution_id: { type: 'string' } } });
  const jobId = b.jsonSchema('export_job_reference', { type: 'object', required: ['job_id'], properties: { job_id: { type: 'string' } } });
  const object = (name: string, description: string): Body => ({ ...b.jsonSchema(name, { type: 'object', description }) });
  const updatedAt = { type: 'string', format: 'date-time' };
  const dataKeyStatus = {
    type: 'object',
    required: ['result_status', 'execution_id', 'execution_status', 'running'],
    properties: {
      result_status: { type: 'string', description: 'Status of the newest result (`no-data` when there is none).' },
      data_timestamp: { type: 'integer', description: 'Unix seconds' },
      data_current: { type: 'boolean' },
      data_access_token: { type: 'string', description: 'Token for the data server (`Authorization: Data <token>`).' },
      execution_id: { type: ['string', 'null'] },
      execution_status: { type: ['string', 'null'] },
      running: { type: 'boolean' },
    },
  };
  const dashboardStatus = b.jsonSchema('dashboard_status', {
    type: 'object',
    description: 'Poll Dashboard Status (contract §4.3.19): every report and filter of the dashboard and the state of each data key.',
    required: ['reports', 'filters', 'data_keys', 'updated_at', 'status_check_delay'],
    properties: {
      reports: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          required: ['updated_at'],
          properties: { data_key: { type: 'string' }, error: { type: 'string' }, updated_at: updatedAt },
        },
      },
      filters: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          required: ['updated_at'],
          properties: { data_key: { type: 'string' }, error: { type: 'string' }, updated_at: updatedAt },
        },
      },
      data_keys: { type: 'object', additionalProperties: dataKeyStatus },
      updated_at: updatedAt,
      status_check_delay: { type: 'number', description: 'Seconds to wait before the next poll.' },
    },
  });
  const dataReference = b.jsonSchema('data_reference', {
    type: 'object',
    description: 'Where the result lies on the data server: `GET /results/{data_key}` with `Authorization: Data <data_access_token>`.',
    required: ['data_key', 'data_access_token', 'data_timestamp'],
    properties: { data_key: { type: 'string' }, data_access_token: { type: 'string' }, data_timestamp: { type: 'integer', description: 'Unix seconds' } },
  });

  const keyAndToken = b.jsonSchema('data_key_reference', {
    type: 'object',
    description: 'Where the data lies on the data server: `GET /results/{data_key}` (or `/schemas/{data_key}`) with `Authorization: Data <data_access_token>`.',
    required: ['data_key', 'data_access_token'],
    properties: { data_key: { type: 'string' }, data_access_token: { type: 'string' } },
  });

  addHealthOperation(b);

  crud(b, apiKeyResource, { name: ['ApiKey', 'ApiKeys'], words: ['API key', 'API keys'], tag: 'API keys', ...ALL });

  crud(b, datasourceResource, { name: ['Datasource', 'Datasources'], tag: 'Datasources', ...ALL, list: { include: ['agents'] }, get: { include: ['agents'] } });
  b.add({
    method: 'post',
    path: '/datasources/{id}/test_connection',
    operationId: 'testDatasourceConnection',
    tag: 'Datasources',
    access: 'Api',
    summary: 'Test datasource connection',
    responses: {
      200: {
        description: 'The outcome of the connection attempt',
        content: [object('connection_test', 'Whether the connection succeeded, with the error when not.')],
      },
    },
  });
  crud(b, datasourceAgentResource, {
    name: ['DatasourceAgent', 'DatasourceAgents'],
    words: ['datasource agent', 'datasource agents'],
    tag: 'Datasource agents',
    ...ALL,
    list: { include: ['datasources'] },
    get: { include: ['datasources'] },
  });
  b.add({
    method: 'get',
    path: '/datasources/ssh_public_key',
    operationId: 'getSshPublicKey',
    tag: 'Datasources',
    access: 'Api',
    summary: 'Get SSH public key',
    description: "The public key of the organization's SSH key pair, for SSH tunnels to datasources.",
    responses: { 200: { description: 'The public key', content: [b.resourceDocument(sshPublicKeyResource)] } },
  });
  b.add({
    method: 'post',
    path: '/datasources/{id}/executions',
    operationId: 'runExecution',
    tag: 'Executions',
    access: 'Api',
    summary: 'Run execution',
    description: 'Runs ad hoc SQL on the datasource. Poll Get Execution until it finished, then fetch its data.',
    requestBody: { ...b.json('run_execution', runExecutionBody), required: true },
    responses: { 201: { description: 'Started', content: [b.resourceDocument(executionResource)] } },
  });
  b.add({
    method: 'post',
    path: '/datasources/{id}/refresh',
    operationId: 'refreshDatasourceSchema',
    tag: 'Datasources',
    access: 'Api',
    summary: 'Refresh datasource schema',
    responses: { 200: { description: 'The schema query started', content: [executionId] } },
  });
  b.add({
    method: 'get',
    path: '/datasources/{id}/schema',
    operationId: 'getDatasourceSchema',
    tag: 'Datasources',
    access: 'Api',
    summary: 'Get datasource schema',
    query: [{ name: 'name', description: 'Only the schema of this name.', schema: { type: 'string' } }],
    responses: { 200: { description: 'Where to fetch the schema document from the data server', content: [keyAndToken] } },
  });

  b.add({
    method: 'get',
    path: '/executions/{id}',
    operationId: 'getExecution',
    tag: 'Executions',
    access: 'Api',
    summary: 'Get execution',
    responses: { 200: { description: 'The execution and its state', content: [b.resourceDocument(executionResource)] } },
  });
  b.add({
    method: 'post',
    path: '/executions/{id}/cancel',
    operationId: 'cancelExecution',
    tag: 'Executions',
    access: 'Api',
    summary: 'Cancel execution',
    responses: { 204: NO_CONTENT },
  });
  b.add({
    method: 'get',
    path: '/executions/{id}/data',
    operationId: 'getExecutionData',
    tag: 'Executions',
    access: 'Api',
    summary: 'Get execution data',
    responses: {
      200: { description: 'Where to fetch the result from the data server', content: [dataReference] },
      204: { description: 'The execution has no result (yet)' },
    },
  });

  crud(b, sqlSnippetResource, {
    name: ['SqlSnippet', 'SqlSnippets'],
    words: ['SQL snippet', 'SQL snippets'],
    tag: 'SQL snippets',
    ...ALL,
    get: { include: ['datasource', 'sql_snippets'] },
  });

  crud(b, dashboardResource, { name: ['Dashboard', 'Dashboards'], tag: 'Dashboards', ...ALL, get: { include: DASHBOARD_INCLUDES } });
  b.add({
    method: 'post',
    path: '/dashboards/{id}/lock',
    operationId: 'lockDashboard',
    tag: 'Dashboards',
    access: 'Api',
    summary: 'Lock dashboard',
    responses: { 204: NO_CONTENT },
  });
  b.add({
    method: 'post',
    path: '/dashboards/{id}/unlock',
    operationId: 'unlockDashboard',
    tag: 'Dashboards',
    access: 'Api',
    summary: 'Unlock dashboard',
    responses: { 204: NO_CONTENT },
  });
  b.add({
    method: 'put',
    path: '/dashboards/{id}/layout',
    operationId: 'setDashboardLayout',
    tag: 'Dashboards',
    access: 'Api',
    summary: 'Set dashboard layout',
    requestBody: { ...b.json('dashboard_layout', layoutBody), required: true },
    responses: { 204: NO_CONTENT },
  });
  b.add({
    method: 'post',
    path: '/dashboards/{id}/duplicate',
    operationId: 'duplicateDashboard',
    tag: 'Dashboards',
    access: 'Api',
    summary: 'Duplicate dashboard',
    responses: { 201: { description: 'The copy', content: [b.resourceDocument(dashboardResource)] } },
  });
  b.add({
    method: 'post',
    path: '/dashboards/{id}/backup',
    operationId: 'backupDashboard',
    tag: 'Dashboards',
    access: 'Api',
    summary: 'Back up dashboard',
    responses: { 200: { description: 'The backup document', content: [object('dashboard_backup', 'The dashboard with its reports, filters and layout.')] } },
  });
  b.add({
    method: 'post',
    path: '/dashboards/{id}/share',
    operationId: 'shareDashboard',
    tag: 'Dashboards',
    access: 'Api',
    summary: 'Share dashboard',
    requestBody: { ...object('share_dashboard', 'Users and user groups to share with, and their access.'), required: true },
    responses: { 204: NO_CONTENT },
  });

  b.add({
    method: 'post',
    path: '/dashboards/{id}/status',
    operationId: 'pollDashboardStatus',
    tag: 'Dashboard data',
    access: 'Api',
    summary: 'Poll dashboard status',
    description: 'Starts missing queries (or all of them with `refresh_data`) and answers the state of every report and filter. Poll until none is running.',
    requestBody: { ...b.json('poll_status', pollStatusBody), required: true },
    responses: { 200: { description: 'The status', content: [dashboardStatus] } },
  });
  b.add({
    method: 'post',
    path: '/dashboards/{id}/refresh',
    operationId: 'refreshDashboard',
    tag: 'Dashboard data',
    access: 'Api',
    summary: 'Refresh dashboard',
    requestBody: { ...b.json('refresh', refreshBody), required: false },
    responses: { 204: NO_CONTENT },
  });
  b.add({
    method: 'post',
    path: '/reports/{id}/refresh',
    operationId: 'refreshReport',
    tag: 'Dashboard data',
    access: 'Api',
    summary: 'Refresh report',
    requestBody: { ...b.json('refresh', refreshBody), required: false },
    responses: { 200: { description: 'The query started', content: [executionId] } },
  });
  b.add({
    method: 'post',
    path: '/reports/{id}/data',
    operationId: 'getReportData',
    tag: 'Dashboard data',
    access: 'Api',
    summary: 'Get report data',
    requestBody: { ...b.json('report_data', reportDataBody), required: false },
    responses: { 200: { description: 'Where to fetch the data (data key and token)', content: [keyAndToken] }, 204: { description: 'No data yet' } },
  });
  b.add({
    method: 'post',
    path: '/filters/{id}/options',
    operationId: 'getFilterOptions',
    tag: 'Dashboard data',
    access: 'Api',
    summary: 'Get filter options',
    requestBody: { ...b.json('filter_options', filterOptionsBody), required: false },
    responses: { 200: { description: 'The options state', content: [object('filter_options_status', 'State, data key and token of the options query.')] } },
  });
  b.add({
    method: 'post',
    path: '/filters/{id}/refresh_options',
    operationId: 'refreshFilterOptions',
    tag: 'Dashboard data',
    access: 'Api',
    summary: 'Refresh filter options',
    requestBody: { ...b.json('filter_options', filterOptionsBody), required: false },
    responses: { 200: { description: 'The query started', content: [executionId] }, 204: { description: 'The filter has no options query' } },
  });

  for (const kind of ['pdf', 'png'] as const) {
    b.add({
      method: 'post',
      path: `/dashboards/{id}/export_${kind}`,
      operationId: `exportDashboard${kind.toUpperCase()}`,
      tag: 'Exports',
      access: 'Api',
      summary: `Export dashboard as ${kind.toUpperCase()}`,
      requestBody: { ...b.json('export_request', exportBody), required: false },
      responses: { 200: { description: 'The export job', content: [jobId] } },
    });
  }
  for (const kind of ['pdf', 'png', 'csv'] as const) {
    b.add({
      method: 'post',
      path: `/reports/{id}/export_${kind}`,
      operationId: `exportReport${kind.toUpperCase()}`,
      tag: 'Exports',
      access: 'Api',
      summary: `Export report as ${kind.toUpperCase()}`,
      requestBody: { ...b.json('export_request', exportBody), required: false },
      responses: { 200: { description: 'The export job', content: [jobId] } },
    });
  }
  b.add({
    method: 'get',
    path: '/export_jobs/{id}',
    operationId: 'getExportJob',
    tag: 'Exports',
    access: 'Api',
    summary: 'Get export job',
    responses: {
      200: {
        description: 'State and, when done, the signed file URL',
        content: [object('export_job', 'State of the export job; `url` of the file once done.')],
      },
    },
  });
  b.add({
    method: 'post',
    path: '/export_jobs/{id}/cancel',
    operationId: 'cancelExportJob',
    tag: 'Exports',
    access: 'Api',
    summary: 'Cancel export job',
    responses: { 204: NO_CONTENT },
  });

  crud(b, dashboardSharingLinkResource, {
    name: ['DashboardSharingLink', 'DashboardSharingLinks'],
    words: ['dashboard sharing link', 'dashboard sharing links'],
    tag: 'Sharing links',
    ...ALL,
  });
  b.add({
    method: 'post',
    path: '/dashboard_sharing_links/{id}/rotate_token',
    operationId: 'rotateSharingLinkToken',
    tag: 'Sharing links',
    access: 'Api',
    summary: 'Rotate sharing link token',
    responses: { 200: { description: 'The link with its new token', content: [b.resourceDocument(dashboardSharingLinkResource)] } },
  });
  const secret = b.jsonSchema('sharing_secret', {
    type: 'object',
    description: "The organization's secret for signing sharing link parameters (HS256).",
    required: ['sharing_secret', 'version', 'created_at', 'updated_at'],
    properties: {
      sharing_secret: { type: 'string' },
      version: { type: 'integer' },
      created_at: { type: 'string', format: 'date-time' },
      updated_at: { type: 'string', format: 'date-time' },
    },
  });
  b.add({
    method: 'get',
    path: '/organization/sharing_secret',
    operationId: 'getSharingSecret',
    tag: 'Sharing links',
    access: 'Api',
    summary: 'Get sharing secret',
    responses: { 200: { description: 'The secret', content: [secret] } },
  });
  b.add({
    method: 'post',
    path: '/organization/sharing_secret/rotate',
    operationId: 'rotateSharingSecret',
    tag: 'Sharing links',
    access: 'Api',
    summary: 'Rotate sharing secret',
    responses: { 200: { description: 'The new secret', content: [secret] } },
  });

  crud(b, dashboardGroupResource, {
    name: ['DashboardGroup', 'DashboardGroups'],
    words: ['dashboard group', 'dashboard groups'],
    tag: 'Dashboard groups',
    ...ALL,
    get: { include: ['dashboards'] },
  });
  b.add({
    method: 'post',
    path: '/dashboard_groups/sort',
    operationId: 'sortDashboardGroups',
    tag: 'Dashboard groups',
    access: 'Api',
    summary: 'Sort dashboard groups',
    requestBody: { ...b.json('sort_dashboard_groups', sortDashboardGroupsBody), required: true },
    responses: { 204: NO_CONTENT },
  });

  crud(b, reportResource, { name: ['Report', 'Reports'], tag: 'Reports', ...ALL, get: { include: ['dashboard', 'datasource'] } });
  b.add({
    method: 'post',
    path: '/reports/{id}/duplicate',
    operationId: 'duplicateReport',
    tag: 'Reports',
    access: 'Api',
    summary: 'Duplicate report',
    responses: { 201: { description: 'The copy', content: [b.resourceDocument(reportResource)] } },
  });

  crud(b, filterResource, { name: ['Filter', 'Filters'], tag: 'Filters', ...ALL, get: { include: ['datasource', 'sql_snippets', 'parent_filter'] } });

  crud(b, dashboardScheduleResource, {
    name: ['DashboardSchedule', 'DashboardSchedules'],
    words: ['dashboard schedule', 'dashboard schedules'],
    tag: 'Dashboard schedules',
    ...ALL,
    get: { include: ['dashboard', 'report'] },
  });
  b.add({
    method: 'post',
    path: '/dashboard_schedules/{id}/trigger',
    operationId: 'triggerDashboardSchedule',
    tag: 'Dashboard schedules',
    access: 'Api',
    summary: 'Trigger dashboard schedule',
    responses: { 204: NO_CONTENT },
  });

  crud(b, sqlAlertResource, {
    name: ['SqlAlert', 'SqlAlerts'],
    words: ['SQL alert', 'SQL alerts'],
    tag: 'SQL alerts',
    ...ALL,
    get: { include: ['datasource'] },
  });
  b.add({
    method: 'post',
    path: '/sql_alerts/{id}/run',
    operationId: 'runSqlAlert',
    tag: 'SQL alerts',
    access: 'Api',
    summary: 'Run SQL alert',
    responses: { 200: { description: 'The query started', content: [executionId] } },
  });
  b.add({
    method: 'get',
    path: '/sql_alerts/{id}/results',
    operationId: 'listSqlAlertResults',
    tag: 'SQL alerts',
    access: 'Api',
    summary: 'List SQL alert results',
    query: [
      { name: 'cursor', description: 'Continue after this cursor (from the previous page).', schema: { type: 'string' } },
      { name: 'limit', description: `Page size (default ${RESULTS_DEFAULT_LIMIT}).`, schema: { type: 'integer', minimum: 1, maximum: RESULTS_MAX_LIMIT } },
    ],
    responses: { 200: { description: 'A page of results', content: [object('sql_alert_results', 'Results, newest first, with the next cursor.')] } },
  });

  crud(b, userResource, {
    name: ['User', 'Users'],
    tag: 'Users',
    list: { include: ['user_groups'] },
    get: { include: ['user_groups', 'invited_by_user'] },
    update: true,
  });
  b.add({
    method: 'post',
    path: '/users/invite',
    operationId: 'inviteUser',
    tag: 'Users',
    access: 'Api',
    summary: 'Invite user',
    requestBody: { ...b.json('invite_user', inviteUserBody), required: true },
    responses: { 201: { description: 'The invited user', content: [b.resourceDocument(userResource)] } },
  });
  b.add({
    method: 'post',
    path: '/users/{id}/activate',
    operationId: 'activateUser',
    tag: 'Users',
    access: 'Api',
    summary: 'Activate user',
    requestBody: { ...b.json('activate_user', activateUserBody), required: false },
    responses: { 204: NO_CONTENT },
  });
  b.add({
    method: 'post',
    path: '/users/{id}/deactivate',
    operationId: 'deactivateUser',
    tag: 'Users',
    access: 'Api',
    summary: 'Deactivate user',
    responses: { 204: NO_CONTENT },
  });
  b.add({
    method: 'post',
    path: '/users/{id}/resend_invite',
    operationId: 'resendInvite',
    tag: 'Users',
    access: 'Api',
    summary: 'Resend invitation',
    responses: { 204: NO_CONTENT },
  });
  b.add({
    method: 'delete',
    path: '/users/{id}/invite',
    operationId: 'deleteInvite',
    tag: 'Users',
    access: 'Api',
    summary: 'Delete invitation',
    responses: { 204: NO_CONTENT },
  });

  crud(b, userGroupResource, {
    name: ['UserGroup', 'UserGroups'],
    words: ['user group', 'user groups'],
    tag: 'User groups',
    ...ALL,
    get: { include: ['users', 'dashboards'] },
  });

  b.add({
    method: 'get',
    path: '/invitations/{token}/accept',
    operationId: 'getInvitation',
    tag: 'Invitations',
    access: 'none',
    summary: 'Get invitation',
    responses: {
      200: {
        description: 'Who is invited to which organization',
        content: [
          b.jsonSchema('invitation', {
            type: 'object',
            required: ['email', 'organization', 'expires_at', 'accept'],
            properties: {
              email: { type: 'string' },
              organization: { type: 'string' },
              expires_at: { type: 'string', format: 'date-time' },
              accept: { type: 'object', description: 'How to accept: method, content type and body fields.' },
            },
          }),
        ],
      },
    },
  });
  b.add({
    method: 'post',
    path: '/invitations/{token}/accept',
    operationId: 'acceptInvitation',
    tag: 'Invitations',
    access: 'none',
    summary: 'Accept invitation',
    requestBody: { ...b.json('accept_invitation', acceptInvitationBody), required: true },
    responses: { 200: { description: 'The activated user', content: [b.resourceDocument(userResource)] } },
  });

  const html: Body = { mediaType: 'text/html', schema: { type: 'string' } };
  b.add({
    method: 'get',
    path: '/dashboards/{id}/shared',
    operationId: 'getSharedDashboardPage',
    tag: 'Shared dashboards',
    access: 'none',
    summary: 'Shared dashboard page',
    description: 'The page of a sharing link (`?sharing_token=…` and signed parameters).',
    responses: { 200: { description: 'The page', content: [html] } },
  });
  b.add({
    method: 'post',
    path: '/dashboards/{id}/shared',
    operationId: 'unlockSharedDashboardPage',
    tag: 'Shared dashboards',
    access: 'none',
    summary: 'Shared dashboard page (password form)',
    requestBody: { mediaType: 'application/x-www-form-urlencoded', schema: { type: 'object', properties: { password: { type: 'string' } } }, required: true },
    responses: { 200: { description: 'The page', content: [html] } },
  });
  b.add({
    method: 'post',
    path: '/dashboards/{id}/shared/status',
    operationId: 'pollSharedDashboardStatus',
    tag: 'Shared dashboards',
    access: 'Viewer',
    summary: 'Poll shared dashboard status',
    requestBody: { ...b.json('poll_status', pollStatusBody), required: true },
    responses: { 200: { description: 'The status', content: [dashboardStatus] } },
  });
  b.add({
    method: 'get',
    path: '/shared-assets/{file}',
    operationId: 'getSharedAsset',
    tag: 'Shared dashboards',
    access: 'none',
    summary: 'Shared page asset',
    responses: {
      200: { description: 'A script or style sheet of the page', content: [{ mediaType: 'application/octet-stream', schema: { type: 'string' } }] },
    },
  });

  b.add({
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    tag: 'Documentation',
    access: 'none',
    summary: 'This OpenAPI document',
    responses: { 200: { description: 'OpenAPI 3.1', content: [{ mediaType: 'application/json', schema: { type: 'object' } }] } },
  });
  b.add({
    method: 'get',
    path: '/docs',
    operationId: 'getApiReference',
    tag: 'Documentation',
    access: 'none',
    summary: 'API reference page',
    responses: { 200: { description: 'The page', content: [html] } },
  });
  const script: Body = { mediaType: 'text/javascript', schema: { type: 'string' } };
  b.add({
    method: 'get',
    path: '/docs/scalar.js',
    operationId: 'getApiReferenceScript',
    tag: 'Documentation',
    access: 'none',
    summary: 'API reference renderer (Scalar)',
    responses: { 200: { description: 'The script', content: [script] } },
  });
  b.add({
    method: 'get',
    path: '/docs/init.js',
    operationId: 'getApiReferenceInit',
    tag: 'Documentation',
    access: 'none',
    summary: 'API reference start-up script',
    responses: { 200: { description: 'The script', content: [script] } },
  });

  addDataServerOperations(b);
  return b;
}
