import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';

/** A listening HTTP server with its URL and a graceful close. */
export interface RunningServer {
  url: string;
  server: Server;
  close(): Promise<void>;
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
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Requests still running after 10 s are cut so shutdown stays bounded.
        setTimeout(() => server.closeAllConnections(), 10_000).unref();
      }),
  };
}
