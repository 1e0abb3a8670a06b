import type { Middleware } from 'koa';
import { ForbiddenError } from '@sightline/domain';

/**
 * CORS for the shared dashboard page: the page (served by the API server, another origin) reads
 * result data here with `Authorization: Data <token>`. Only the listed origins get CORS headers;
 * a preflight from any other origin is refused. The data access tokens stay what they are: one data
 * key each, minutes long; no cookies are involved (`Access-Control-Allow-Credentials` is never sent).
 * @param origins the allowed origins (a function: the API server's URL may be known only after it listens)
 */
export function cors(origins: () => readonly string[]): Middleware {
  return async (ctx, next) => {
    const origin = ctx.get('origin');
    const allowed = origin !== '' && origins().includes(origin);
    ctx.vary('Origin');
    if (ctx.method === 'OPTIONS' && ctx.get('access-control-request-method') !== '') {
      if (!allowed) throw new ForbiddenError('This origin may not read data from this server');
      ctx.status = 204;
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Allow-Methods', 'GET, HEAD');
      ctx.set('Access-Control-Allow-Headers', 'Authorization');
      ctx.set('Access-Control-Max-Age', '600');
      return;
    }
    if (allowed) {
      // set before the route runs, so error answers (401, 404) are readable by the page too
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Expose-Headers', 'X-Sql-Rows, X-Request-Id');
    }
    await next();
  };
}

/**
 * The origins the shared dashboard page is served from: the API server's public URL, and while it
 * runs on the loopback interface both names of it (`localhost`, `127.0.0.1`).
 */
export function pageOrigins(apiUrls: ReadonlyArray<string | undefined>): string[] {
  const out = new Set<string>();
  for (const url of apiUrls) {
    if (!url) continue;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      continue;
    }
    out.add(parsed.origin);
    if (parsed.hostname === 'localhost' || parsed.hostname === '127.0.0.1') {
      out.add(`${parsed.protocol}//localhost${parsed.port ? `:${parsed.port}` : ''}`);
      out.add(`${parsed.protocol}//127.0.0.1${parsed.port ? `:${parsed.port}` : ''}`);
    }
  }
  return [...out];
}
