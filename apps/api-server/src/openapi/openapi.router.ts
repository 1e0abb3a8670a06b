import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Router } from '@koa/router';
import { checkQueryParameters } from '@sightline/jsonapi';
import type { OpenApiDocument } from '@sightline/openapi';
import { describeApi } from './api-operations.js';

/** The documentation routes: open (no API key), like the shared page's. */
export const DOCUMENTATION_ROUTES = ['GET /openapi.json', 'GET /docs', 'GET /docs/scalar.js', 'GET /docs/init.js'] as const;

export interface OpenApiRouteDeps {
  /** Public base URL of the data server, when known (else the document names a server variable). */
  dataBaseUrl: () => string | undefined;
  /** Version shown in the document's `info`. */
  version?: string;
}

const DESCRIPTION = [
  "Sightline's public API: a Cluvio-compatible JSON:API server (`Authorization: Api <secret>`) and a data server",
  'that streams results by data key (`Authorization: Data <token>`). Resource documents use `application/vnd.api+json`;',
  'writes also accept `application/json`. Every error is a JSON:API error document.',
].join(' ');

/** The OpenAPI document of both servers, built from the route descriptions (once per data server URL). */
export function openApiDocument(options: { dataServerUrl?: string; version?: string }): OpenApiDocument {
  return describeApi().build({
    title: 'Sightline API',
    version: options.version ?? '0.1.0',
    description: DESCRIPTION,
    apiServerUrl: '/',
    dataServerUrl: options.dataServerUrl,
  });
}

/** Where the API reference page's script (Scalar's self-contained browser bundle) lies in node_modules. */
function scalarBundlePath(): string {
  const entry = createRequire(import.meta.url).resolve('@scalar/api-reference');
  return path.join(path.dirname(entry), 'browser', 'standalone.js');
}

/**
 * Scalar's bundle with its remote font faces disabled: the theme declares them on fonts.scalar.com
 * even with `withDefaultFonts: false`. `local(…)` names no installed font, so the browser requests
 * nothing and uses the system fonts of `SYSTEM_FONTS`. `test/api-docs-page.int.test.ts` checks in a
 * browser that no request leaves this server.
 */
async function readScalarBundle(): Promise<string> {
  const text = await readFile(scalarBundlePath(), 'utf8');
  return text.replaceAll('url(https://fonts.scalar.com/', 'local(sightline-no-remote-font-');
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sightline API reference</title>
</head>
<body>
<div id="api-reference"></div>
<script src="/docs/scalar.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// No inline script (the page's CSP forbids it) and nothing from a CDN: system fonts instead of
// Scalar's Inter and mono from fonts.scalar.com (see `readScalarBundle`).
const SYSTEM_FONTS = [
  ':root, .light-mode, .dark-mode {',
  '  --scalar-font: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif !important;',
  '  --scalar-font-code: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace !important;',
  '}',
].join(' ');
const INIT = `Scalar.createApiReference('#api-reference', ${JSON.stringify({ url: '/openapi.json', withDefaultFonts: false, customCss: SYSTEM_FONTS })});\n`;

/**
 * `GET /openapi.json` (the document, no authentication) and `GET /docs` (a reference page rendering it
 * with Scalar; its two scripts are served from here too, nothing from a CDN).
 */
export function registerOpenApiRoutes(router: Router<any>, deps: OpenApiRouteDeps): void {
  const cache = new Map<string, string>();
  let bundle: Promise<string> | undefined;

  router.get('/openapi.json', (ctx) => {
    checkQueryParameters(ctx.query, []);
    const dataUrl = deps.dataBaseUrl();
    const key = dataUrl ?? '';
    let text = cache.get(key);
    if (text === undefined) {
      text = JSON.stringify(openApiDocument({ dataServerUrl: dataUrl, version: deps.version }));
      cache.set(key, text);
    }
    ctx.status = 200;
    ctx.type = 'application/json; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = text;
  });

  router.get('/docs', (ctx) => {
    checkQueryParameters(ctx.query, []);
    const dataUrl = deps.dataBaseUrl();
    ctx.status = 200;
    ctx.type = 'text/html; charset=utf-8';
    ctx.set(
      'Content-Security-Policy',
      [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        `connect-src 'self'${dataUrl ? ` ${new URL(dataUrl).origin}` : ''}`,
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'none'",
      ].join('; '),
    );
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = PAGE;
  });

  const script = (ctx: Parameters<Parameters<typeof router.get>[1]>[0], body: string | Buffer) => {
    ctx.status = 200;
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = body;
  };
  router.get('/docs/init.js', (ctx) => {
    checkQueryParameters(ctx.query, []);
    script(ctx, INIT);
  });
  router.get('/docs/scalar.js', async (ctx) => {
    checkQueryParameters(ctx.query, []);
    script(
      ctx,
      await (bundle ??= readScalarBundle().catch((err: unknown) => {
        bundle = undefined;
        throw err;
      })),
    );
  });
}
