import { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { QueryError, type DatasourceTransport } from '../drivers/driver.types.js';
import { AGENT_RELAY_PATH, MAX_FRAME_PAYLOAD } from './agent-protocol.js';
import type { AgentRelayTokens } from './agent-relay-token.js';
import type { AgentRoute, DatasourceAgentRepository } from './datasource-agent.repository.js';

/** Longest wait for a session to open through relay and agent (the driver's connect timeout is usually shorter). */
const OPEN_TIMEOUT_MS = 20_000;

/** Scheme of the `Authorization` header a worker sends to a relay: `Relay <token>`. */
export const RELAY_AUTH_SCHEME = 'Relay';

/** Messages a relay sends a worker as text frames (the session's bytes are binary frames). */
type RelayNotice = { t: 'opened' } | { t: 'error'; message: string };

/**
 * A database session carried through a relay and an agent: one WebSocket from this process to the
 * relay holding the agent's connection. Binary frames are the session's bytes both ways; the relay
 * closes the WebSocket with code 1000 when the database closed the session, and with an error
 * notice first when the agent or its connection failed.
 */
class RelayStream extends Duplex {
  private lastError: string | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly agentName: string,
  ) {
    super({ allowHalfOpen: false });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        const notice = parseNotice(data);
        if (notice?.t === 'error') this.lastError = notice.message;
        return;
      }
      if (!this.push(data)) ws.pause();
    });
    ws.on('close', (code) => {
      if (this.destroyed) return;
      if (code === 1000) this.push(null);
      else this.destroy(new Error(this.lastError ?? `The connection through the datasource agent "${agentName}" was lost`));
    });
    ws.on('error', (err) => {
      if (!this.destroyed) this.destroy(new Error(`The connection to the relay of datasource agent "${agentName}" failed: ${err.message}`));
    });
  }

  override _read(): void {
    if (this.ws.isPaused) this.ws.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.ws.readyState !== WebSocket.OPEN) {
      callback(new Error(this.lastError ?? `The connection through the datasource agent "${this.agentName}" is closed`));
      return;
    }
    // the relay accepts messages up to 1 MiB: large writes (a long SQL text) go in pieces
    let offset = 0;
    const sendNext = (err?: Error) => {
      if (err || offset >= chunk.length) {
        callback(err ?? null);
        return;
      }
      const piece = chunk.subarray(offset, offset + MAX_FRAME_PAYLOAD);
      offset += piece.length;
      this.ws.send(piece, { binary: true }, sendNext);
    };
    sendNext();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    else if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    callback(error);
  }
}

function parseNotice(data: Buffer): RelayNotice | undefined {
  try {
    const v = JSON.parse(data.toString('utf8')) as RelayNotice;
    return v && typeof v === 'object' && (v.t === 'opened' || (v.t === 'error' && typeof v.message === 'string')) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The relay's endpoint for worker sessions under a relay base URL. */
function relayEndpoint(relayUrl: string): string {
  const url = new URL(relayUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/$/, '')}${AGENT_RELAY_PATH}`;
  return url.toString();
}

/** Opens one session through `route`'s relay; resolves once the agent reached the database. */
function openThroughRelay(route: AgentRoute, token: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(relayEndpoint(route.relayUrl), {
      headers: { authorization: `${RELAY_AUTH_SCHEME} ${token}` },
      handshakeTimeout: 10_000,
      perMessageDeflate: false,
    });
    let settled = false;
    let failure: string | undefined;
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.terminate();
      reject(new QueryError('connection_error', message));
    };
    // the driver gives up at its connect timeout; this bounds the WebSocket itself (an agent that never answers)
    const timer = setTimeout(() => fail(`The datasource agent "${route.name}" did not open the session within ${OPEN_TIMEOUT_MS / 1000} s`), OPEN_TIMEOUT_MS);
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      fail(
        res.statusCode === 409
          ? `The datasource agent "${route.name}" is not connected`
          : `The relay of datasource agent "${route.name}" refused the session (HTTP ${res.statusCode})`,
      );
    });
    ws.on('error', (err) => fail(`Could not reach the relay of datasource agent "${route.name}": ${err.message}`));
    ws.on('close', () => fail(failure ?? `The datasource agent "${route.name}" closed the session before it opened`));
    const onMessage = (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const notice = parseNotice(data);
      if (notice?.t === 'error') failure = `Datasource agent "${route.name}": ${notice.message}`;
      if (notice?.t === 'opened' && !settled) {
        settled = true;
        clearTimeout(timer);
        ws.off('message', onMessage);
        ws.removeAllListeners('close');
        ws.removeAllListeners('error');
        resolve(new RelayStream(ws, route.name));
      }
    };
    ws.on('message', onMessage);
  });
}

/**
 * The transport of a datasource in connection mode `agent`: each database session (queries, Test
 * Connection, cancel, schema refresh) becomes a WebSocket from this process to the relay (API
 * server process) that holds a connected agent of the datasource, which opens the TCP connection
 * to `host:port` from its own network. With several connected agents the most recently seen one is
 * tried first; an agent that vanished between look-up and connect is skipped.
 */
export class AgentTransport implements DatasourceTransport {
  /** The pool key of agent-mode sessions: alike whichever agent carries them (agents are chosen per session). */
  readonly key: string;

  constructor(
    private readonly deps: { repository: DatasourceAgentRepository; tokens: AgentRelayTokens },
    private readonly datasource: { id: string; organizationId: string },
  ) {
    this.key = `agent:${datasource.id}`;
  }

  /** @throws QueryError kind connection_error naming the agent(s) and why */
  async open(host: string, port: number): Promise<Duplex> {
    const routes = await this.deps.repository.routesForDatasource(this.datasource.organizationId, this.datasource.id);
    if (!routes.length) throw new QueryError('connection_error', await this.whyNoAgent());
    let last: unknown;
    for (const route of routes) {
      const token = this.deps.tokens.issue({ agentId: route.agentId, organizationId: route.organizationId, host, port });
      try {
        return await openThroughRelay(route, token);
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }

  private async whyNoAgent(): Promise<string> {
    const agents = await this.deps.repository.namesForDatasource(this.datasource.id);
    if (!agents.length) return 'The datasource uses connection mode "agent" but has no datasource agents';
    const names = agents.map((a) => `"${a.name}"${a.enabled ? '' : ' (disabled)'}`).join(', ');
    return agents.length === 1 ? `The datasource agent ${names} is not connected` : `None of the datasource agents ${names} is connected`;
  }
}
