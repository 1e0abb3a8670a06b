import type { Context } from 'koa';
import {
  BadRequestError,
  NotFoundError,
  SharedLinkRefusal,
  UnavailableError,
  isAppError,
  parseFixedParameters,
  type FilterScalar,
  type InputParameters,
  type Logger,
  type SharedDashboardService,
} from '@sightline/domain';
import { checkQueryParameters, validate } from '@sightline/jsonapi';
import { PayloadTooLargeError, UnsupportedMediaTypeError, readJsonBody, sendJson } from '@sightline/http';
import type { ApiRouter } from '../../context.js';
import { VIEWER_TOKEN_HEADER } from '../../../viewer/config.js';
import type { ViewerAssets } from '../../shared-page/assets.js';
import { contentSecurityPolicy, initialSelection, renderNotice, renderSharedPage, type RenderedPage } from '../../shared-page/page.js';
import { pollStatusBody } from '../dashboard-data/dashboard-data.schema.js';

/**
 * Routes that take no API key (the shared page authenticates with the sharing token, the sharing
 * secret, the password, or the viewer token). Auth-before-routing must let exactly these through.
 */
export const SHARED_PAGE_ROUTES = [
  'GET /dashboards/{id}/shared',
  'POST /dashboards/{id}/shared',
  'POST /dashboards/{id}/shared/status',
  'GET /shared-assets/{file}',
] as const;

export interface SharedDashboardRouteDeps {
  sharedDashboards: SharedDashboardService;
  assets: ViewerAssets;
  /** Public base URL of the data server (the page fetches result data there); undefined = page unavailable. */
  dataBaseUrl: () => string | undefined;
  maxBodyBytes: number;
}

const PAGE_PARAMETERS = ['sharingToken', 'sharingSecret', 'timerange', 'aggregation', 'tz', 'filters'] as const;
const ASSET_NAME = /^[A-Za-z0-9_-]{1,100}\.(js|css)$/;
const FORM_LIMIT = 8 * 1024;

/** Page wording of each refusal; the HTTP status of the plain error page. */
const NOTICES: Record<string, { status: number; title: string; message: string }> = {
  link_not_found: {
    status: 404,
    title: 'Link not found',
    message: 'This shared dashboard link does not exist. It may have been deleted or replaced by a new one.',
  },
  link_disabled: { status: 403, title: 'Link disabled', message: 'This shared dashboard link has been disabled by its owner.' },
  link_expired: { status: 410, title: 'Link expired', message: 'This shared dashboard link has expired.' },
  sharing_secret_required: { status: 403, title: 'Not available', message: 'This dashboard can only be opened from the application it is embedded in.' },
  sharing_secret_invalid: {
    status: 403,
    title: 'Not available',
    message: "The link's signature is not valid. Open the dashboard again from the application it is embedded in.",
  },
  sharing_secret_expired: {
    status: 403,
    title: 'Link expired',
    message: 'This signed link has expired. Open the dashboard again from the application it is embedded in.',
  },
  password_required: { status: 401, title: 'Password required', message: 'This shared dashboard is protected by a password.' },
  password_incorrect: { status: 401, title: 'Password required', message: 'This shared dashboard is protected by a password.' },
  too_many_attempts: { status: 429, title: 'Too many attempts', message: 'Too many wrong passwords. Try again in a few minutes.' },
};

function single(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  if (Array.isArray(value)) throw new BadRequestError(`Query parameter "${name}" may be given once`, { source: { parameter: name } });
  return value;
}

/** The URL's page parameters: the link's credentials and (Cluvio's "parameters in URLs") an initial selection. */
function pageQuery(ctx: Context): {
  sharingToken?: string;
  sharingSecret?: string;
  url: { timerange?: string; aggregation?: string; tz?: string; filters?: Record<string, FilterScalar[]> };
} {
  // other parameters (an embedding host's own) are ignored, but none may be repeated
  for (const name of PAGE_PARAMETERS) single(ctx, name);
  const text = (name: string, max: number) => {
    const value = single(ctx, name);
    if (value !== undefined && value.length > max) throw new BadRequestError(`Query parameter "${name}" is too long`, { source: { parameter: name } });
    return value;
  };
  const url: { timerange?: string; aggregation?: string; tz?: string; filters?: Record<string, FilterScalar[]> } = {
    timerange: text('timerange', 200),
    aggregation: text('aggregation', 50),
    tz: text('tz', 100),
  };
  const filters = text('filters', 64 * 1024);
  if (filters !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(filters);
    } catch {
      throw new BadRequestError('Query parameter "filters" must be URL-encoded JSON such as {"country":["Canada"]}', { source: { parameter: 'filters' } });
    }
    try {
      url.filters = parseFixedParameters(parsed, '/filters', new Date()).filters;
    } catch (err) {
      throw new BadRequestError(`Query parameter "filters": ${isAppError(err) ? (err.detail ?? err.title) : 'malformed'}`, {
        source: { parameter: 'filters' },
      });
    }
  }
  return { sharingToken: text('sharingToken', 100), sharingSecret: text('sharingSecret', 8 * 1024), url };
}

/** Reads a small `application/x-www-form-urlencoded` body (the password form). */
async function readForm(ctx: Context): Promise<URLSearchParams> {
  if (ctx.request.type !== 'application/x-www-form-urlencoded') throw new UnsupportedMediaTypeError('Content-Type must be "application/x-www-form-urlencoded"');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > FORM_LIMIT) throw new PayloadTooLargeError(FORM_LIMIT);
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function origin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

function sendPage(ctx: Context, status: number, page: RenderedPage, policy: { frameAncestors: readonly string[]; scripts: boolean; connect?: string[] }): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Content-Security-Policy', contentSecurityPolicy({ styleHashes: page.styleHashes, ...policy }));
  // X-Frame-Options cannot name origins: it only backs up frame-ancestors when nothing may frame
  if (!policy.frameAncestors.length) ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
  ctx.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  ctx.body = page.html;
}

/**
 * The shared dashboard page and what it needs, without API keys: the page itself (GET, or POST with
 * the password), the viewer's Poll Dashboard Status, and the page's built assets.
 */
export function registerSharedDashboardRoutes(router: ApiRouter, deps: SharedDashboardRouteDeps): void {
  const page = async (ctx: Context, password: string | undefined) => {
    let query: ReturnType<typeof pageQuery> | undefined;
    try {
      query = pageQuery(ctx);
      const dataBaseUrl = deps.dataBaseUrl();
      const dataOrigin = dataBaseUrl ? origin(dataBaseUrl) : undefined;
      if (!dataBaseUrl || !dataOrigin) throw new UnavailableError('The shared dashboard page is not configured (no data server URL)');
      const id = ctx.params.id!;
      const [opened, assets] = await Promise.all([
        deps.sharedDashboards.open({ dashboardId: id, sharingToken: query.sharingToken, sharingSecret: query.sharingSecret, password }),
        deps.assets.get().catch((err: unknown) => {
          throw new UnavailableError('The shared dashboard page could not be built', { cause: err });
        }),
      ]);
      const rendered = renderSharedPage(opened, assets, {
        statusUrl: `/dashboards/${encodeURIComponent(id)}/shared/status`,
        dataBaseUrl: dataBaseUrl.replace(/\/+$/, ''),
        initial: initialSelection(opened.defaultParameters, query.url),
      });
      sendPage(ctx, 200, rendered, { frameAncestors: opened.link.allowedEmbedOrigins, scripts: true, connect: [dataOrigin] });
    } catch (err) {
      if (err instanceof SharedLinkRefusal) {
        const notice = NOTICES[err.refusal] ?? NOTICES.link_not_found!;
        const form = err.refusal === 'password_required' || err.refusal === 'password_incorrect';
        const rendered = renderNotice({
          title: notice.title,
          message: notice.message,
          passwordForm: form,
          error: err.refusal === 'password_incorrect' ? 'The password is not correct.' : undefined,
        });
        sendPage(ctx, notice.status, rendered, { frameAncestors: err.embedOrigins, scripts: false });
        return;
      }
      const status = isAppError(err) && err.status < 500 ? err.status : 503;
      if (!isAppError(err) || err.status >= 500) (ctx.state.log as Logger | undefined)?.error({ err }, 'shared dashboard page failed');
      const message = isAppError(err) && err.status < 500 ? (err.detail ?? err.title) : 'The dashboard cannot be shown right now. Try again in a moment.';
      sendPage(ctx, status, renderNotice({ title: status < 500 ? 'Bad link' : 'Not available', message }), { frameAncestors: [], scripts: false });
    }
  };

  router.get('/dashboards/:id/shared', (ctx) => page(ctx, undefined));

  router.post('/dashboards/:id/shared', async (ctx) => {
    let form: URLSearchParams;
    try {
      form = await readForm(ctx);
    } catch (err) {
      const status = isAppError(err) ? err.status : 400;
      sendPage(ctx, status, renderNotice({ title: 'Bad request', message: isAppError(err) ? (err.detail ?? err.title) : 'Malformed form' }), {
        frameAncestors: [],
        scripts: false,
      });
      return;
    }
    await page(ctx, form.get('password') ?? undefined);
  });

  // Poll Dashboard Status (row 23) for the page: the same body and answer, a viewer token instead of an API key.
  router.post('/dashboards/:id/shared/status', async (ctx) => {
    (ctx.state as { authScheme?: string }).authScheme = 'Viewer';
    checkQueryParameters(ctx.query, []);
    const session = await deps.sharedDashboards.authenticate(ctx.get('authorization') || undefined, ctx.params.id!);
    const input = validate(pollStatusBody, (await readJsonBody(ctx, { limit: deps.maxBodyBytes, mediaType: 'json', required: true })) ?? {}, '');
    const { status, renewed } = await deps.sharedDashboards.pollStatus(session, {
      refreshData: input.refresh_data,
      parameters: input.parameters as InputParameters | undefined,
    });
    if (renewed) ctx.set(VIEWER_TOKEN_HEADER, renewed.token);
    ctx.set('Cache-Control', 'no-store');
    sendJson(ctx, 200, status);
  });

  router.get('/shared-assets/:file', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    const name = ctx.params.file!;
    const assets = ASSET_NAME.test(name) ? await deps.assets.get() : undefined;
    const file = assets?.files.get(name);
    // an unknown asset is an error like any other: a JSON:API error document
    if (!file) throw new NotFoundError(`No shared page asset "${name}"`, { code: 'asset_not_found' });
    const gzipped = ctx.acceptsEncodings('gzip', 'identity') === 'gzip';
    ctx.status = 200;
    ctx.set('Content-Type', file.contentType);
    // names carry a content hash: a new build has new names
    ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
    ctx.set('Vary', 'Accept-Encoding');
    if (gzipped) ctx.set('Content-Encoding', 'gzip');
    ctx.body = gzipped ? file.gzip : file.body;
  });
}
