import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { Principal } from '../api-keys/permissions.js';
import type { Clock } from '../clock.js';
import type { DashboardDataService, DashboardStatus } from '../dashboard-data/dashboard-data.service.js';
import { DashboardRepository } from '../dashboards/dashboard.repository.js';
import type { Dashboard } from '../dashboards/dashboard.types.js';
import { AppError, isAppError } from '../errors.js';
import { FilterRepository } from '../filters/filter.repository.js';
import type { Filter } from '../filters/filter.types.js';
import { isUuid } from '../ids.js';
import type { InputParameters } from '../query/query.types.js';
import { deriveDashboardReferences, loadReferenceContext } from '../reports/dashboard-references.js';
import { ReportRepository } from '../reports/report.repository.js';
import type { Report } from '../reports/report.types.js';
import { SharingSecretError, verifySharingSecret, type ViewerGrant, type ViewerTokens } from '../tokens/viewer-token.js';
import { applyFixedParameters, combineFixedParameters, fixedParametersToWire, parseFixedParameters } from './fixed-parameters.js';
import { verifyPassword } from './password.js';
import { SharingLinkRepository, type LinkForViewer } from './sharing-link.repository.js';
import type { SharingLinkService } from './sharing-link.service.js';
import type { FixedParameters, SharingLink } from './sharing-link.types.js';

/** Why a shared page or a viewer request is refused; `code` picks the page's wording. */
export type SharedRefusalCode =
  | 'link_not_found'
  | 'link_disabled'
  | 'link_expired'
  | 'sharing_secret_required'
  | 'sharing_secret_invalid'
  | 'sharing_secret_expired'
  | 'password_required'
  | 'password_incorrect'
  | 'too_many_attempts'
  | 'viewer_session_ended';

/** A refusal of the shared page or of a viewer request (never says more than the code does). */
export class SharedLinkRefusal extends AppError {
  /** Origins that may frame the refusal page (the link's, once the link is known). */
  embedOrigins: readonly string[] = [];

  constructor(
    status: number,
    readonly refusal: SharedRefusalCode,
    detail: string,
  ) {
    super(
      status,
      refusal,
      status === 404 ? 'Not Found' : status === 410 ? 'Gone' : status === 429 ? 'Too Many Requests' : status === 401 ? 'Unauthorized' : 'Forbidden',
      { detail },
    );
  }
}

const notFound = () => new SharedLinkRefusal(404, 'link_not_found', 'This sharing link does not exist (it may have been deleted or replaced by a new one)');

/** Failed password attempts per link and process before 429, and the window they count in. */
const PASSWORD_ATTEMPTS = 10;
const PASSWORD_WINDOW_MS = 15 * 60_000;

/** Everything the shared page shows, read once when it opens. */
export interface SharedDashboardPage {
  link: SharingLink;
  dashboard: Dashboard;
  /** Every report of the dashboard, in grid order. */
  reports: Report[];
  /** Filters the viewer may set: the dashboard's filters minus fixed and hidden ones. */
  filters: Filter[];
  /** Whether the reports use the built-in `timerange` / `aggregation` (and neither is fixed). */
  timerangeControl: boolean;
  aggregationControl: boolean;
  /** The dashboard's default parameters without the fixed ones (the page's initial selection). */
  defaultParameters: InputParameters;
  /** Fixed parameters in force (link and sharing secret combined). */
  fixed: FixedParameters;
  viewerToken: string;
  viewerTokenExpiresAt: Date;
}

/** A verified viewer request. */
export interface ViewerSession {
  grant: ViewerGrant;
  link: SharingLink;
  fixed: FixedParameters;
  expiresAt: Date;
}

export interface SharedDashboardServiceDeps {
  db: Knex;
  clock: Clock;
  links: SharingLinkService;
  dashboardData: DashboardDataService;
  viewerTokens: ViewerTokens;
}

/** Digest binding a viewer session to the link's current token and password (either changing ends it). */
function linkDigest(row: LinkForViewer): string {
  return createHash('sha256')
    .update(`${row.link.sharingToken}\u0000${row.passwordHash ?? ''}`)
    .digest('base64url')
    .slice(0, 22);
}

/**
 * The shared dashboard page (`/dashboards/{id}/shared`): opens a sharing link (token, optional
 * sharing secret, optional password), hands out a viewer token for that one dashboard, and answers
 * the page's Poll Dashboard Status with the link's fixed parameters forced in.
 */
export class SharedDashboardService {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(private readonly deps: SharedDashboardServiceDeps) {}

  private checkLinkState(link: SharingLink, now: Date): void {
    if (!link.enabled) throw new SharedLinkRefusal(403, 'link_disabled', 'This sharing link has been disabled');
    if (link.expiresAt && link.expiresAt.getTime() <= now.getTime()) throw new SharedLinkRefusal(410, 'link_expired', 'This sharing link has expired');
  }

  /** Verifies the sharing secret against the organization's secret; returns its fixed parameters and the secret version. */
  private async checkSecret(
    link: SharingLink,
    sharingSecret: string | undefined,
    now: Date,
  ): Promise<{ fixed: FixedParameters | null; version: number | null }> {
    if (sharingSecret === undefined || sharingSecret === '') {
      if (link.requiresSecret)
        throw new SharedLinkRefusal(
          401,
          'sharing_secret_required',
          'This sharing link only opens with a sharing secret (sharingSecret) from the embedding application',
        );
      return { fixed: null, version: null };
    }
    const secret = await this.deps.links.findSecretValue(link.organizationId);
    if (!secret) throw new SharedLinkRefusal(401, 'sharing_secret_invalid', 'The sharing secret is not valid');
    let claims;
    try {
      claims = verifySharingSecret(sharingSecret, secret.secret, now);
    } catch (err) {
      if (err instanceof SharingSecretError && err.problem === 'expired')
        throw new SharedLinkRefusal(401, 'sharing_secret_expired', 'The sharing secret has expired; the embedding application must sign a new one');
      if (err instanceof SharingSecretError && err.problem === 'missing_exp')
        throw new SharedLinkRefusal(401, 'sharing_secret_invalid', 'The sharing secret has no "exp" claim');
      throw new SharedLinkRefusal(401, 'sharing_secret_invalid', 'The sharing secret is not valid');
    }
    if (claims.sharingToken !== link.sharingToken)
      throw new SharedLinkRefusal(401, 'sharing_secret_invalid', 'The sharing secret was signed for another sharing link');
    if (claims.fixedParameters === undefined || claims.fixedParameters === null) return { fixed: null, version: secret.version };
    try {
      return { fixed: parseFixedParameters(claims.fixedParameters, '/fixed_parameters', now), version: secret.version };
    } catch (err) {
      if (!isAppError(err)) throw err;
      throw new SharedLinkRefusal(401, 'sharing_secret_invalid', `The sharing secret's fixed_parameters are malformed: ${err.detail ?? err.title}`);
    }
  }

  private async checkPassword(row: LinkForViewer, password: string | undefined): Promise<void> {
    if (row.passwordHash === null) return;
    if (password === undefined || password === '') throw new SharedLinkRefusal(401, 'password_required', 'This sharing link is protected by a password');
    const now = Date.now();
    const seen = this.failures.get(row.link.id);
    if (seen && now - seen.since < PASSWORD_WINDOW_MS && seen.count >= PASSWORD_ATTEMPTS) {
      throw new SharedLinkRefusal(429, 'too_many_attempts', 'Too many wrong passwords; try again in a few minutes');
    }
    if (await verifyPassword(password.slice(0, 1000), row.passwordHash)) return;
    if (!seen || now - seen.since >= PASSWORD_WINDOW_MS) this.failures.set(row.link.id, { count: 1, since: now });
    else seen.count += 1;
    throw new SharedLinkRefusal(401, 'password_incorrect', 'The password is not correct');
  }

  /**
   * Opens a shared dashboard: checks the link (exists for this dashboard, enabled, not expired), the
   * sharing secret (required by the link, or given anyway), the password, then reads what the page
   * shows and signs a viewer token.
   * @throws SharedLinkRefusal
   */
  async open(input: { dashboardId: string; sharingToken: string | undefined; sharingSecret?: string; password?: string }): Promise<SharedDashboardPage> {
    const now = this.deps.clock.now();
    if (!input.sharingToken || !isUuid(input.sharingToken)) throw notFound();
    const repo = new SharingLinkRepository(this.deps.db);
    const row = await repo.findByToken(input.sharingToken.toLowerCase());
    // a token of another dashboard (or organization) reads exactly like an unknown one
    if (!row || row.link.dashboardId !== input.dashboardId) throw notFound();
    const { link } = row;
    let secret: { fixed: FixedParameters | null; version: number | null };
    try {
      this.checkLinkState(link, now);
      secret = await this.checkSecret(link, input.sharingSecret, now);
      await this.checkPassword(row, input.password);
    } catch (err) {
      if (err instanceof SharedLinkRefusal) err.embedOrigins = link.allowedEmbedOrigins;
      throw err;
    }
    const fixed = combineFixedParameters(link.fixedParameters, secret.fixed);

    const org = link.organizationId;
    const [dashboard, reports, ctx] = await Promise.all([
      new DashboardRepository(this.deps.db).get(org, link.dashboardId),
      new ReportRepository(this.deps.db).listByDashboard(org, link.dashboardId),
      loadReferenceContext(this.deps.db, org),
    ]);
    const refs = await deriveDashboardReferences(reports, ctx);
    const hidden = new Set(dashboard.filtersConfiguration.hiddenParameters ?? []);
    const filters = refs.filters.filter((f) => !Object.hasOwn(fixed.filters, f.variableName) && !hidden.has(f.variableName));
    const defaults = dashboard.defaultParameters ?? {};
    const defaultParameters: InputParameters = {};
    if (defaults.timerange !== undefined && fixed.timerange === undefined) defaultParameters.timerange = defaults.timerange;
    if (defaults.aggregation !== undefined && fixed.aggregation === undefined) defaultParameters.aggregation = defaults.aggregation;
    if (defaults.tz !== undefined) defaultParameters.tz = defaults.tz;
    const freeDefaults = (defaults.filters ?? []).filter((f) => !Object.hasOwn(fixed.filters, f.variable_name));
    if (freeDefaults.length) defaultParameters.filters = freeDefaults;

    const grant: ViewerGrant = {
      organizationId: org,
      dashboardId: link.dashboardId,
      linkId: link.id,
      tokenDigest: linkDigest(row),
      secretVersion: secret.version,
      fixedParameters: secret.fixed ? fixedParametersToWire(secret.fixed) : {},
    };
    const viewer = this.deps.viewerTokens.sign(grant, now, link.expiresAt);
    await repo.touchViewed(link.id, now);
    return {
      link,
      dashboard,
      reports,
      filters,
      fixed,
      defaultParameters,
      timerangeControl: refs.variables.includes('timerange') && fixed.timerange === undefined && !hidden.has('timerange'),
      aggregationControl: refs.variables.includes('aggregation') && fixed.aggregation === undefined && !hidden.has('aggregation'),
      viewerToken: viewer.token,
      viewerTokenExpiresAt: viewer.expiresAt,
    };
  }

  /**
   * Verifies `Authorization: Viewer <token>` for `dashboardId` and re-checks the link: still there,
   * enabled, not expired, same token and password, same sharing secret version.
   * @throws UnauthenticatedError (malformed, forged, expired token), SharedLinkRefusal
   */
  async authenticate(authorization: string | undefined, dashboardId: string): Promise<ViewerSession> {
    const now = this.deps.clock.now();
    const { grant, expiresAt } = this.deps.viewerTokens.verify(authorization, now);
    const ended = (why: string) => new SharedLinkRefusal(401, 'viewer_session_ended', why);
    if (grant.dashboardId !== dashboardId) throw new SharedLinkRefusal(403, 'link_not_found', 'This viewer token is for another dashboard');
    const row = await new SharingLinkRepository(this.deps.db).findForViewer(grant.organizationId, grant.linkId);
    if (!row || row.link.dashboardId !== dashboardId) throw ended('The sharing link no longer exists');
    this.checkLinkState(row.link, now);
    if (linkDigest(row) !== grant.tokenDigest) throw ended('The sharing link was changed (new token or password); open it again');
    if (row.link.requiresSecret && grant.secretVersion === null) throw ended('The sharing link now requires a sharing secret; open it again');
    if (grant.secretVersion !== null && grant.secretVersion !== row.secretVersion)
      throw ended("The organization's sharing secret was rotated; open the link again");
    let secretFixed: FixedParameters | null = null;
    if (Object.keys(grant.fixedParameters).length) secretFixed = parseFixedParameters(grant.fixedParameters, '/fixed_parameters', now);
    return { grant, link: row.link, fixed: combineFixedParameters(row.link.fixedParameters, secretFixed), expiresAt };
  }

  /**
   * Poll Dashboard Status for a viewer: the request's parameters with the fixed ones forced in, and
   * the fixed filters left out of the answer (their options are not the viewer's to see). Renews the
   * viewer token when half its life is gone.
   * @throws what Poll Dashboard Status throws (ValidationError for bad parameters, NotFoundError)
   */
  async pollStatus(
    session: ViewerSession,
    input: { refreshData: boolean; parameters?: InputParameters },
  ): Promise<{ status: DashboardStatus; renewed?: { token: string; expiresAt: Date } }> {
    const { grant, fixed } = session;
    const principal = new Principal(grant.organizationId, `viewer:${grant.linkId}`, [{ permission: 'View Dashboards', datasourceIds: null }]);
    const parameters = applyFixedParameters(input.parameters, fixed);
    const status = await this.deps.dashboardData.pollStatus(principal, grant.dashboardId, { refreshData: input.refreshData, parameters });
    const fixedNames = Object.keys(fixed.filters);
    if (fixedNames.length) {
      const fixedFilters = await new FilterRepository(this.deps.db).listByVariableNames(grant.organizationId, fixedNames);
      for (const f of fixedFilters) delete status.filters[f.id];
      const used = new Set<string>();
      for (const entry of [...Object.values(status.reports), ...Object.values(status.filters)])
        if ('data_key' in entry && entry.data_key) used.add(entry.data_key);
      for (const key of Object.keys(status.data_keys)) if (!used.has(key)) delete status.data_keys[key];
    }
    const now = this.deps.clock.now();
    let renewed: { token: string; expiresAt: Date } | undefined;
    if (session.expiresAt.getTime() - now.getTime() < (this.deps.viewerTokens.ttlSeconds * 1000) / 2) {
      renewed = this.deps.viewerTokens.sign(grant, now, session.link.expiresAt);
    }
    return { status, renewed };
  }
}
