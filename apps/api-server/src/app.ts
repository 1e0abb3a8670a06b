import Koa from 'koa';
import { Router } from '@koa/router';
import type { DomainServices, Knex, Logger } from '@sightline/domain';
import { errorHandler, requestContext, routingErrors } from '@sightline/http';
import type { ApiState } from './context.js';
import { authenticate } from './middleware/authenticate.js';
import { checkPathIds } from './middleware/path-ids.js';
import { registerApiKeyRoutes } from './routes/api-keys/api-key.router.js';
import { registerHealthRoute } from './routes/health.router.js';
import { registerDatasourceRoutes } from './routes/datasources/datasource.router.js';
import { registerDatasourceAgentRoutes } from './routes/datasource-agents/datasource-agent.router.js';
import { registerSshPublicKeyRoute } from './routes/datasources/ssh-public-key.router.js';
import { registerSqlSnippetRoutes } from './routes/sql-snippets/sql-snippet.router.js';
import { registerExecutionRoutes } from './routes/executions/execution.router.js';
import { registerDashboardDataRoutes } from './routes/dashboard-data/dashboard-data.router.js';
import { registerShareDashboardRoute } from './routes/sharing/share-dashboard.router.js';
import { registerUserRoutes } from './routes/users/user.router.js';
import { registerUserGroupRoutes } from './routes/user-groups/user-group.router.js';
import { registerInvitationRoutes } from './routes/invitations/invitation.router.js';
import { registerDashboardRoutes } from './routes/dashboards/dashboard.router.js';
import { registerDashboardGroupRoutes } from './routes/dashboard-groups/dashboard-group.router.js';
import { registerReportRoutes } from './routes/reports/report.router.js';
import { registerFilterRoutes } from './routes/filters/filter.router.js';
import { registerDashboardScheduleRoutes } from './routes/dashboard-schedules/dashboard-schedule.router.js';
import { registerSqlAlertRoutes } from './routes/sql-alerts/sql-alert.router.js';
import { registerExportJobRoutes } from './routes/export-jobs/export-job.router.js';
import { registerSharedDashboardRoutes } from './routes/shared-dashboards/shared-dashboard.router.js';
import { registerDashboardSharingLinkRoutes } from './routes/dashboard-sharing-links/dashboard-sharing-link.router.js';
import { ViewerAssets } from './shared-page/assets.js';
import { registerOpenApiRoutes } from './openapi/openapi.router.js';

export interface ApiAppDeps {
  db: Knex;
  logger: Logger;
  services: DomainServices;
  /** Largest accepted request body in bytes. */
  maxBodyBytes: number;
  /** Take the client address from `X-Forwarded-For` (behind a trusted reverse proxy only; default false). */
  trustProxy?: boolean;
  /**
   * Public base URL of the data server, where the shared dashboard page fetches result data (a
   * function when it is known only once the data server listens). Without it the page answers 503.
   */
  dataBaseUrl?: string | (() => string | undefined);
  /** The shared page's built assets (default: built on first use by this app). */
  viewerAssets?: ViewerAssets;
}

/**
 * The API server (JSON:API, `Authorization: Api <secret>`). Never listens and never reads the
 * environment: `main.ts` and tests build it from explicit dependencies.
 */
export function createApiApp(deps: ApiAppDeps): Koa<ApiState> {
  const app = new Koa<ApiState>();
  app.proxy = deps.trustProxy ?? false;
  app.silent = true;

  const open = new Router<ApiState>();
  registerHealthRoute(open, deps.db, 'api-server');
  registerInvitationRoutes(open, { users: deps.services.users, maxBodyBytes: deps.maxBodyBytes });
  // The shared dashboard page authenticates with its link, not with an API key (SHARED_PAGE_ROUTES).
  const dataBaseUrl = deps.dataBaseUrl;
  registerSharedDashboardRoutes(open, {
    sharedDashboards: deps.services.sharedDashboards,
    assets: deps.viewerAssets ?? new ViewerAssets(deps.logger),
    dataBaseUrl: typeof dataBaseUrl === 'function' ? dataBaseUrl : () => dataBaseUrl,
    maxBodyBytes: deps.maxBodyBytes,
  });
  registerOpenApiRoutes(open, { dataBaseUrl: typeof dataBaseUrl === 'function' ? dataBaseUrl : () => dataBaseUrl });

  const router = new Router<ApiState>();
  registerApiKeyRoutes(router, { apiKeys: deps.services.apiKeys, maxBodyBytes: deps.maxBodyBytes });
  // before /datasources/:id, which would take `ssh_public_key` for an id
  registerSshPublicKeyRoute(router, { sshKeys: deps.services.sshKeys });
  registerDatasourceRoutes(router, {
    datasources: deps.services.datasources,
    datasourceAgents: deps.services.datasourceAgents,
    maxBodyBytes: deps.maxBodyBytes,
  });
  registerDatasourceAgentRoutes(router, {
    datasourceAgents: deps.services.datasourceAgents,
    datasources: deps.services.datasources,
    maxBodyBytes: deps.maxBodyBytes,
  });
  registerSqlSnippetRoutes(router, { sqlSnippets: deps.services.sqlSnippets, datasources: deps.services.datasources, maxBodyBytes: deps.maxBodyBytes });
  registerExecutionRoutes(router, { executions: deps.services.executions, maxBodyBytes: deps.maxBodyBytes });
  registerDashboardDataRoutes(router, { dashboardData: deps.services.dashboardData, maxBodyBytes: deps.maxBodyBytes });
  registerShareDashboardRoute(router, { dashboardSharing: deps.services.dashboardSharing, maxBodyBytes: deps.maxBodyBytes });
  registerUserRoutes(router, { users: deps.services.users, userGroups: deps.services.userGroups, maxBodyBytes: deps.maxBodyBytes });
  registerUserGroupRoutes(router, {
    userGroups: deps.services.userGroups,
    users: deps.services.users,
    dashboards: deps.services.dashboards,
    maxBodyBytes: deps.maxBodyBytes,
  });
  registerDashboardRoutes(router, {
    dashboards: deps.services.dashboards,
    dashboardGroups: deps.services.dashboardGroups,
    filters: deps.services.filters,
    sqlSnippets: deps.services.sqlSnippets,
    users: deps.services.users,
    userGroups: deps.services.userGroups,
    sharingLinks: deps.services.sharingLinks,
    maxBodyBytes: deps.maxBodyBytes,
  });
  registerDashboardSharingLinkRoutes(router, { sharingLinks: deps.services.sharingLinks, maxBodyBytes: deps.maxBodyBytes });
  registerDashboardGroupRoutes(router, {
    dashboardGroups: deps.services.dashboardGroups,
    dashboards: deps.services.dashboards,
    maxBodyBytes: deps.maxBodyBytes,
  });
  registerReportRoutes(router, {
    reports: deps.services.reports,
    dashboards: deps.services.dashboards,
    datasources: deps.services.datasources,
    maxBodyBytes: deps.maxBodyBytes,
  });
  registerFilterRoutes(router, {
    filters: deps.services.filters,
    datasources: deps.services.datasources,
    sqlSnippets: deps.services.sqlSnippets,
    maxBodyBytes: deps.maxBodyBytes,
  });
  registerDashboardScheduleRoutes(router, {
    dashboardSchedules: deps.services.dashboardSchedules,
    dashboards: deps.services.dashboards,
    reports: deps.services.reports,
    maxBodyBytes: deps.maxBodyBytes,
  });
  registerSqlAlertRoutes(router, { sqlAlerts: deps.services.sqlAlerts, datasources: deps.services.datasources, maxBodyBytes: deps.maxBodyBytes });
  registerExportJobRoutes(router, { exportJobs: deps.services.exportJobs, maxBodyBytes: deps.maxBodyBytes });

  checkPathIds(open, router);

  app.use(requestContext(deps.logger));
  app.use(errorHandler());
  app.use(routingErrors());
  app.use(open.routes());
  app.use(open.allowedMethods());
  // Authentication before routing: without a valid key every path but the open ones answers 401,
  // so route names (and which methods they take) cannot be probed.
  app.use(authenticate(deps.services.apiKeys));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
