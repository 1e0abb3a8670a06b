import type { Knex } from 'knex';
import { ApiKeyService } from './api-keys/api-key.service.js';
import { AuthFailureLimiter, DEFAULT_AUTH_FAILURE_LIMIT, type AuthFailureLimit } from './api-keys/auth-failure-limiter.js';
import { CONFIG_DEFAULTS } from './config/config.js';
import { OrganizationService, type OrganizationProvisioner } from './organizations/organization.service.js';
import { DatasourceService, type SampleDataConnection } from './datasources/datasource.service.js';
import { DatasourceAgentService } from './datasource-agents/datasource-agent.service.js';
import { SqlSnippetService } from './sql-snippets/sql-snippet.service.js';
import { UserService } from './users/user.service.js';
import { UserGroupService, provisionBuiltInUserGroups } from './user-groups/user-group.service.js';
import { MailService } from './mail/mail.service.js';
import type { MailQueue } from './mail/mail.types.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { UnavailableError } from './errors.js';
import { ExecutionService } from './executions/execution.service.js';
import { DashboardService } from './dashboards/dashboard.service.js';
import { DashboardGroupService } from './dashboard-groups/dashboard-group.service.js';
import { ReportService } from './reports/report.service.js';
import { FilterService } from './filters/filter.service.js';
import { DashboardDataService } from './dashboard-data/dashboard-data.service.js';
import { DashboardSharingService } from './sharing/dashboard-sharing.service.js';
import { createJobQueue, type JobQueue, type PgBoss } from './queue/queue.js';
import type { ResolvedConfig } from './config/config.js';
import { PgResultStore } from './results/pg-result-store.js';
import type { ResultStore } from './results/result-store.js';
import { DataTokens } from './tokens/data-token.js';
import { DashboardScheduleService } from './dashboard-schedules/dashboard-schedule.service.js';
import { SqlAlertService } from './sql-alerts/sql-alert.service.js';
import { ExportJobService } from './export-jobs/export-job.service.js';
import { PgExportFileStore } from './export-jobs/export-file-store.js';
import { ViewerTokens } from './tokens/viewer-token.js';
import { SharingLinkService } from './sharing-links/sharing-link.service.js';
import { SharedDashboardService } from './sharing-links/shared-dashboard.service.js';
import { SshKeyService } from './ssh-tunnels/ssh-key.service.js';
import { RRuntime, type RRuntimeOptions } from './r-runtime/r-runtime.js';
import { SshTunnelPool } from './ssh-tunnels/ssh-tunnel-pool.js';

export interface DomainDeps {
  db: Knex;
  /** Key that seals datasource credentials (32 bytes). */
  encryptionKey: Buffer;
  /** Default statement timeout for datasource queries, in seconds. */
  queryTimeoutSeconds?: number;
  /** The deployment's sample database, when it has one (every organization gets a datasource for it). */
  sampleData?: SampleDataConnection;
  clock?: Clock;
  /** Queue for outgoing mail (the pg-boss `JobQueue`, `createJobQueue(boss)`). Without it, invitations answer 503. */
  mailQueue?: MailQueue;
  /** Public base URL of the API server, for links in e-mails (default `http://localhost:8080`). */
  apiBaseUrl?: string;
  /** Lifetime of invitation links in hours (default 7 days). */
  invitationTtlHours?: number;
  /** The job queue (executions). Without it, starting executions answers 503. */
  queue?: JobQueue;
  /** HMAC key of data access tokens. */
  dataTokenSecret?: string;
  /** Lifetime of data access tokens in seconds (default 300). */
  dataTokenTtlSeconds?: number;
  /** Where results live (default: the PostgreSQL chunk table). */
  resultStore?: ResultStore;
  /** Failed API-key authentications allowed per client address and key prefix per window (default 30 per 60 s). */
  authFailureLimit?: AuthFailureLimit;
  /** Public base URL of the data server, for export file URLs (default `http://localhost:8081`). */
  dataBaseUrl?: string;
  /** Lifetime of shared-page viewer tokens in seconds (default 600; the page renews them while it polls). */
  viewerTokenTtlSeconds?: number;
  /** R post-processing (`r_query`): Rscript and limits (default: Rscript on PATH, 60 s, 2 GiB). */
  rRuntime?: Partial<RRuntimeOptions>;
}

/** Stands in for a missing queue in processes that never enqueue (the operator CLI). */
const NO_QUEUE: JobQueue = {
  send: async () => {
    throw new UnavailableError('This process has no job queue');
  },
  cancel: async () => {
    throw new UnavailableError('This process has no job queue');
  },
};

/** The services both apps and the worker use, built once per process from explicit dependencies. */
export interface DomainServices {
  clock: Clock;
  organizations: OrganizationService;
  apiKeys: ApiKeyService;
  datasources: DatasourceService;
  /** Datasource agents: CRUD, the `agents` of datasources, the relay's look-ups. */
  datasourceAgents: DatasourceAgentService;
  sqlSnippets: SqlSnippetService;
  mail: MailService;
  users: UserService;
  userGroups: UserGroupService;
  executions: ExecutionService;
  /** Dashboards: CRUD, lock, layout, duplicate, backup; `getByIdUnchecked`/`relations` for the read path. */
  dashboards: DashboardService;
  dashboardGroups: DashboardGroupService;
  /** Reports: CRUD, duplicate; `getByIdUnchecked`/`listByDashboard` for the read path. */
  reports: ReportService;
  /** Filters: CRUD; `listAll` (compiler definitions), `listByDashboard` (derived) for the read path. */
  filters: FilterService;
  dashboardData: DashboardDataService;
  dashboardSharing: DashboardSharingService;
  resultStore: ResultStore;
  tokens: DataTokens;
  /** Dashboard schedules: CRUD, Trigger, `enqueueDue` (the tick). */
  dashboardSchedules: DashboardScheduleService;
  /** SQL alerts: CRUD, Run, results, `enqueueDue` (the tick). */
  sqlAlerts: SqlAlertService;
  /** Public base URL of the API server (links in e-mails). */
  apiBaseUrl: string;
  /** Export jobs (API side: start/reuse, status with file URL, cancel). */
  exportJobs: ExportJobService;
  /** Export files (chunks in PostgreSQL). */
  exportFiles: PgExportFileStore;
  /** Dashboard sharing links and the organization's sharing secret. */
  sharingLinks: SharingLinkService;
  /** The shared dashboard page: opening links, viewer tokens, the viewer's status polls. */
  sharedDashboards: SharedDashboardService;
  /** The organizations' SSH key pairs (public key for bastions' authorized_keys). */
  sshKeys: SshKeyService;
  /** The SSH tunnels of this process (close them on shutdown: `sshTunnels.close()`). */
  sshTunnels: SshTunnelPool;
  /** R post-processing of `r_query` executions (the worker's runner uses it). */
  rRuntime: RRuntime;
}

/** Builds the domain services (the composition roots call this once). */
export function createDomainServices(deps: DomainDeps): DomainServices {
  const clock = deps.clock ?? systemClock;
  const authFailureLimiter = new AuthFailureLimiter(deps.db, deps.authFailureLimit ?? DEFAULT_AUTH_FAILURE_LIMIT);
  const datasourceAgents = new DatasourceAgentService({ db: deps.db, encryptionKey: deps.encryptionKey, failureLimiter: authFailureLimiter });
  const sshKeys = new SshKeyService({ db: deps.db, encryptionKey: deps.encryptionKey });
  const sshTunnels = new SshTunnelPool({ db: deps.db, keys: sshKeys });
  const datasources = new DatasourceService({
    sshTunnels,
    db: deps.db,
    agents: datasourceAgents,
    encryptionKey: deps.encryptionKey,
    defaultQueryTimeoutSeconds: deps.queryTimeoutSeconds ?? CONFIG_DEFAULTS.queryTimeoutSeconds,
    sampleData: deps.sampleData,
  });
  const apiKeys = new ApiKeyService({
    db: deps.db,
    findUnknownDatasourceIds: (db, org, ids) => datasources.unknownIds(db, org, ids),
    failureLimiter: authFailureLimiter,
  });
  const provisioners: OrganizationProvisioner[] = [
    async (trx, organization) => {
      await datasources.ensureSampleDatasource(trx, organization.id);
    },
    provisionBuiltInUserGroups,
  ];
  const organizations = new OrganizationService({ db: deps.db, provisioners });
  const sqlSnippets = new SqlSnippetService({ db: deps.db, datasources });
  const mail = new MailService({ queue: deps.mailQueue });
  const users = new UserService({
    db: deps.db,
    mail,
    clock,
    apiBaseUrl: deps.apiBaseUrl ?? `http://localhost:${CONFIG_DEFAULTS.apiPort}`,
    invitationTtlHours: deps.invitationTtlHours,
  });
  const userGroups = new UserGroupService({ db: deps.db });
  const resultStore = deps.resultStore ?? new PgResultStore(deps.db);
  const tokens = new DataTokens(
    deps.dataTokenSecret ?? 'unset-data-token-secret-process-cannot-issue-tokens',
    deps.dataTokenTtlSeconds ?? CONFIG_DEFAULTS.dataTokenTtlSeconds,
  );
  const filters = new FilterService({ db: deps.db, datasources });
  const executions = new ExecutionService({
    db: deps.db,
    datasources,
    sqlSnippets,
    queue: deps.queue ?? NO_QUEUE,
    tokens,
    resultStore,
    clock,
    filterDefinitions: (organizationId) => filters.listAll(organizationId),
  });
  const dashboards = new DashboardService({ db: deps.db, clock });
  const dashboardGroups = new DashboardGroupService({ db: deps.db });
  const reports = new ReportService({ db: deps.db, datasources });
  const dashboardData = new DashboardDataService({
    db: deps.db,
    dashboards,
    reports,
    filters,
    datasources,
    sqlSnippets,
    executions,
    organizations,
    resultStore,
    tokens,
    clock,
  });
  const dashboardSharing = new DashboardSharingService({ db: deps.db, mail, apiBaseUrl: deps.apiBaseUrl ?? 'http://localhost:8080' });
  const dashboardSchedules = new DashboardScheduleService({ db: deps.db, clock, queue: deps.queue ?? NO_QUEUE, dashboards, reports, organizations });
  const sqlAlerts = new SqlAlertService({ db: deps.db, clock, queue: deps.queue ?? NO_QUEUE, datasources, sqlSnippets, filters, executions, organizations });
  const exportJobs = new ExportJobService({
    db: deps.db,
    dashboards,
    reports,
    dashboardData,
    executions,
    queue: deps.queue ?? NO_QUEUE,
    tokens,
    clock,
    dataBaseUrl: deps.dataBaseUrl ?? 'http://localhost:8081',
  });
  const exportFiles = new PgExportFileStore(deps.db);
  const sharingLinks = new SharingLinkService({ db: deps.db, clock, encryptionKey: deps.encryptionKey });
  const viewerTokens = new ViewerTokens(deps.dataTokenSecret ?? 'unset-data-token-secret-process-cannot-issue-tokens', deps.viewerTokenTtlSeconds ?? 600);
  const sharedDashboards = new SharedDashboardService({ db: deps.db, clock, links: sharingLinks, dashboardData, viewerTokens });
  return {
    clock,
    organizations,
    apiKeys,
    datasources,
    datasourceAgents,
    sqlSnippets,
    mail,
    users,
    userGroups,
    executions,
    resultStore,
    tokens,
    dashboards,
    dashboardGroups,
    reports,
    filters,
    dashboardData,
    dashboardSharing,
    exportJobs,
    exportFiles,
    dashboardSchedules,
    sqlAlerts,
    apiBaseUrl: deps.apiBaseUrl ?? `http://localhost:${CONFIG_DEFAULTS.apiPort}`,
    sharingLinks,
    sharedDashboards,
    sshKeys,
    sshTunnels,
    rRuntime: new RRuntime({ timeoutMs: 60_000, memoryLimitBytes: 2048 * 1_048_576, ...deps.rRuntime }),
  };
}

/**
 * The domain services of a process from its resolved configuration (the composition roots share
 * this so the wiring exists once). `boss` is required to enqueue work.
 */
export function createServicesFromConfig(
  db: Knex,
  config: ResolvedConfig,
  boss?: PgBoss,
  extra: { sampleData?: SampleDataConnection; clock?: Clock } = {},
): DomainServices {
  const queue = boss ? createJobQueue(boss) : undefined;
  return createDomainServices({
    db,
    encryptionKey: config.encryptionKey,
    queryTimeoutSeconds: config.queryTimeoutSeconds,
    sampleData: extra.sampleData,
    clock: extra.clock,
    queue,
    mailQueue: queue,
    apiBaseUrl: config.apiBaseUrl ?? `http://localhost:${config.apiPort}`,
    dataTokenSecret: config.dataTokenSecret,
    dataTokenTtlSeconds: config.dataTokenTtlSeconds,
    authFailureLimit: { limit: config.authFailureLimit, windowSeconds: config.authFailureWindowSeconds },
    dataBaseUrl: config.dataBaseUrl ?? `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.dataPort}`,
    rRuntime: { rscriptPath: config.rScriptPath, timeoutMs: config.rTimeoutSeconds * 1000, memoryLimitBytes: config.rMemoryLimitMb * 1_048_576 },
  });
}

/** Checks that the database answers (health endpoints). */
export async function pingDatabase(db: Knex): Promise<void> {
  await db.raw('SELECT 1');
}
