import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';

/** A listening HTTP server with its URL and a graceful close. */
export interface RunningServer {
  url: string;
  server: Server;
  /**
   * Stops accepting connections, ends idle keep-alive sockets, lets requests in progress (e.g. a
   * long download) finish for up to `graceMs` (default 10 s), then cuts the ones still running.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * Listens with `app` on `host:port` (port 0 = any free port).
 * `close()` stops accepting, lets in-flight requests finish, then ends idle keep-alive sockets.
 */
export async function listen(app: Koa<any>, host: string, port: number): Promise<RunningServer> {
  const server = app.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  const address = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${address.port}`,
    server,
    close: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
        // a keep-alive socket that goes idle after its response is closed rather than reused
        server.prependListener('request', (_req, res) => {
          if (!res.headersSent) res.setHeader('Connection', 'close');
        });
        const cut = setTimeout(() => server.closeAllConnections(), Math.max(0, graceMs));
        cut.unref();
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
