import type Koa from 'koa';

/** One route a Koa app registers: an upper-case method and its path (a string, or a RegExp route's pattern). */
export interface RegisteredRoute {
  method: string;
  path: string | RegExp;
  regexp: RegExp;
}

interface Layer {
  methods: string[];
  path: string | RegExp;
  regexp: RegExp;
}

/**
 * Every route of every @koa/router mounted on `app` (each `router.routes()` middleware carries its
 * router). `HEAD` is left out: the router answers it for every `GET`.
 */
export function registeredRoutes(app: Koa<any>): RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  for (const middleware of app.middleware as Array<{ router?: { stack: Layer[] } }>) {
    for (const layer of middleware.router?.stack ?? []) {
      for (const method of layer.methods) if (method !== 'HEAD') routes.push({ method, path: layer.path, regexp: layer.regexp });
    }
  }
  return routes;
}

/** An operation of an OpenAPI document: upper-case method and path template. */
export interface DocumentedOperation {
  method: string;
  path: string;
}

/** `/reports/:id` → `/reports/{id}`. */
export const toTemplate = (koaPath: string): string => koaPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** A concrete path for a template, with `sample` for every parameter. */
export const samplePath = (template: string, sample = 'a1/b2'): string => template.replace(/\{[^}]+\}/g, sample);

/**
 * Compares registered routes with documented operations, both ways. A string route matches the
 * operation with the same method and template; a RegExp route matches operations whose sample path
 * it accepts. Returns what is registered but undocumented and documented but not registered.
 */
export function compareRoutes(
  routes: readonly RegisteredRoute[],
  operations: readonly DocumentedOperation[],
): { undocumented: string[]; unregistered: string[] } {
  const matches = (r: RegisteredRoute, o: DocumentedOperation) =>
    r.method === o.method && (typeof r.path === 'string' ? toTemplate(r.path) === o.path : r.regexp.test(samplePath(o.path)));
  return {
    undocumented: routes.filter((r) => !operations.some((o) => matches(r, o))).map((r) => `${r.method} ${String(r.path)}`),
    unregistered: operations.filter((o) => !routes.some((r) => matches(r, o))).map((o) => `${o.method} ${o.path}`),
  };
}

/** The operations of an OpenAPI document served by the server whose URL is `serverUrl` (path-level `servers` override the document's). */
export function documentedOperations(
  document: { servers?: Array<{ url: string }>; paths: Record<string, Record<string, unknown>> },
  serverUrl: string,
): DocumentedOperation[] {
  const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
  const out: DocumentedOperation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    const servers = (item.servers as Array<{ url: string }> | undefined) ?? document.servers ?? [];
    if (!servers.some((s) => s.url === serverUrl)) continue;
    for (const method of methods) if (item[method]) out.push({ method: method.toUpperCase(), path });
  }
  return out;
}
