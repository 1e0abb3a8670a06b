// The socket a driver speaks its wire protocol over when the datasource is not reached by direct TCP
// (SSH tunnel, datasource agent). The drivers see a net.Socket look-alike around the transport's stream.
import { Duplex } from 'node:stream';
import { QueryError, type DatasourceTransport } from './driver.types.js';

/**
 * A `net.Socket` look-alike around a transport stream: node-postgres calls `connect()` and waits
 * for `'connect'`, both drivers call `setNoDelay`/`setKeepAlive`/`ref`/`unref`. The inner stream is
 * already open, so `connect()` only announces it. Back-pressure passes through both ways; destroying
 * either side destroys the other (an inner error reaches the driver as the socket's error).
 */
export class TransportSocket extends Duplex {
  private readonly inner: Duplex;

  constructor(inner: Duplex) {
    super({ allowHalfOpen: false });
    this.inner = inner;
    inner.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('error', (err: Error) => this.destroy(err));
    inner.on('close', () => {
      if (!this.destroyed) this.destroy();
    });
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.inner.destroyed) {
      callback(new Error('The connection through the transport is closed'));
      return;
    }
    this.inner.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.inner.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.inner.destroyed) this.inner.destroy();
    callback(error);
  }

  /** The inner stream is open already: announce it on the next tick (after the caller's listeners). */
  connect(): this {
    process.nextTick(() => this.emit('connect'));
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  setTimeout(): this {
    return this;
  }

  /** Passed on to the inner stream when it has `ref` (an idle pooled session must not keep the process alive). */
  ref(): this {
    (this.inner as Duplex & { ref?(): unknown }).ref?.();
    return this;
  }

  unref(): this {
    (this.inner as Duplex & { unref?(): unknown }).unref?.();
    return this;
  }
}

/**
 * Opens a stream to `host:port` through `transport`, bounded by `timeoutMs`; a stream that arrives
 * after the deadline is destroyed. Failures are `QueryError` kind `connection_error` naming `host:port`.
 * @throws QueryError kind connection_error
 */
export async function openTransportSocket(transport: DatasourceTransport, host: string, port: number, timeoutMs: number): Promise<TransportSocket> {
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const opening = transport.open(host, port);
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new QueryError('connection_error', `Could not connect to ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  opening.then(
    (late) => {
      if (timedOut) late.destroy();
    },
    () => {},
  );
  try {
    const inner = await Promise.race([opening, deadline]);
    return new TransportSocket(inner);
  } catch (err) {
    if (err instanceof QueryError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new QueryError('connection_error', `Could not connect to ${host}:${port}: ${reason}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}
