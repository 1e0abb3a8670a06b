import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import {
  AGENT_AUTH_SCHEME,
  AGENT_CONNECT_PATH,
  AGENT_RELAY_PATH,
  AGENT_VERSION_HEADER,
  CLOSE_CODE,
  FRAME,
  RELAY_AUTH_SCHEME,
  dataFrames,
  decodeFrame,
  encodeFrame,
  RateLimitedError,
  type AgentAuthentication,
  type DatasourceAgentService,
  type Logger,
} from '@sightline/domain';

export interface AgentRelayDeps {
  agents: DatasourceAgentService;
  logger: Logger;
  /**
   * Where workers reach this process (its internal base URL), recorded with each agent connected
   * here. A function when it is known only once the server listens.
   */
  relayUrl: string | (() => string);
  /** Take the agent's address from `X-Forwarded-For` (behind a trusted reverse proxy only). */
  trustProxy?: boolean;
  /** Interval of pings to agents and of heartbeats to the database, in milliseconds (default 10 000). */
  heartbeatMs?: number;
  /**
   * An agent that answered no ping for this long is dropped (default: two heartbeats, at least
   * 10 s, so that a busy agent machine missing one ping keeps its connection).
   */
  pongTimeoutMs?: number;
}

/** A worker's session through an agent: one WebSocket from the worker, one channel on the agent's. */
interface Channel {
  worker: WebSocket;
  /** Bytes sent to the agent not yet written (worker → agent flow control). */
  pending: number;
}

/** An agent connected to this process. */
interface AgentConnection {
  agentId: string;
  organizationId: string;
  name: string;
  connectionId: string;
  ws: WebSocket;
  channels: Map<number, Channel>;
  nextChannel: number;
  /** Bytes sent to workers not yet written (agent → worker flow control). */
  pendingToWorkers: number;
  /** When the agent last answered a ping (or connected). */
  lastPongAt: number;
  activeTimer?: NodeJS.Timeout;
}

const MAX_PAYLOAD = 1024 * 1024;
const PAUSE_ABOVE = 4 * 1024 * 1024;
const RESUME_BELOW = 1024 * 1024;

/** Answers an upgrade request with a plain HTTP error (JSON:API error body) and closes the socket. */
function refuse(socket: Duplex, status: number, reason: string, detail: string, retryAfterSeconds?: number): void {
  const body = JSON.stringify({ errors: [{ status: String(status), code: String(status), title: reason, detail }] });
  const retry = retryAfterSeconds === undefined ? '' : `Retry-After: ${retryAfterSeconds}\r\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/vnd.api+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${retry}Connection: close\r\n\r\n${body}`,
  );
}

/**
 * The relay between datasource agents and workers, on the API server's HTTP server:
 * - `GET /agent/connect` (WebSocket upgrade, `Authorization: Agent <secret key>`): an enabled agent
 *   keeps one connection here; the relay records it (`connected`, `address`, `version`, the relay
 *   URL) and refreshes it by heartbeat, closing it when the agent is disabled, deleted or reconnects
 *   elsewhere.
 * - `GET /agent/relay` (WebSocket upgrade, `Authorization: Relay <token>`): a worker's database
 *   session; the token (signed with the deployment's key) names the agent, its organization and the
 *   database `host:port`. The relay opens a channel on that agent's connection and forwards bytes.
 * See docs/datasource-agents.md.
 */
export class AgentRelay {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD, perMessageDeflate: false });
  private readonly connections = new Map<string, AgentConnection>();
  private readonly timer: NodeJS.Timeout;
  private readonly pongTimeoutMs: number;
  private readonly onRevoked = (agentId: string) => {
    this.connections.get(agentId)?.ws.close(CLOSE_CODE.REVOKED, 'agent disabled or deleted');
  };

  constructor(private readonly deps: AgentRelayDeps) {
    const heartbeatMs = deps.heartbeatMs ?? 10_000;
    this.pongTimeoutMs = deps.pongTimeoutMs ?? Math.max(2 * heartbeatMs, 10_000);
    this.timer = setInterval(() => void this.heartbeat(), heartbeatMs);
    this.timer.unref();
    deps.agents.events.on('revoked', this.onRevoked);
  }

  /** Handles the relay's upgrade requests on `server` (others are answered 404). */
  attach(server: Server): this {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => {});
      const path = (req.url ?? '').split('?')[0];
      const handled =
        path === AGENT_CONNECT_PATH ? this.acceptAgent(req, socket, head) : path === AGENT_RELAY_PATH ? this.acceptWorker(req, socket, head) : undefined;
      if (!handled) {
        refuse(socket, 404, 'Not Found', 'No WebSocket endpoint at this path');
        return;
      }
      handled.catch((err: unknown) => {
        this.deps.logger.error({ err }, 'agent relay upgrade failed');
        if (!socket.destroyed) refuse(socket, 503, 'Service Unavailable', 'The relay could not handle the connection');
      });
    });
    return this;
  }

  /** Number of agents connected to this process. */
  get connectedAgents(): number {
    return this.connections.size;
  }

  /** Closes every agent and worker connection of this process. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.deps.agents.events.off('revoked', this.onRevoked);
    const closing = [...this.connections.values()].map(
      (c) =>
        new Promise<void>((resolve) => {
          c.ws.once('close', () => resolve());
          c.ws.close(1001, 'server shutting down');
          setTimeout(() => {
            c.ws.terminate();
            resolve();
          }, 2000).unref();
        }),
    );
    await Promise.all(closing);
    this.wss.close();
  }

  private credential(req: IncomingMessage, scheme: string): string | undefined {
    const header = req.headers.authorization ?? '';
    const prefix = `${scheme} `;
    return header.startsWith(prefix) ? header.slice(prefix.length).trim() : undefined;
  }

  private address(req: IncomingMessage): string | null {
    const forwarded = this.deps.trustProxy
      ? String(req.headers['x-forwarded-for'] ?? '')
          .split(',')[0]
          ?.trim()
      : '';
    const raw = forwarded || req.socket.remoteAddress || null;
    return raw?.replace(/^::ffff:/, '') ?? null;
  }

  private async acceptAgent(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    let authentication: AgentAuthentication;
    try {
      authentication = await this.deps.agents.authenticate(this.credential(req, AGENT_AUTH_SCHEME), this.address(req) ?? undefined);
    } catch (err) {
      if (!(err instanceof RateLimitedError)) throw err;
      refuse(socket, 429, 'Too Many Requests', err.detail ?? 'Too many failed authentications', err.retryAfterSeconds);
      return;
    }
    const { agent } = authentication;
    if (!agent) {
      if (authentication.refused === 'disabled') refuse(socket, 403, 'Forbidden', 'This datasource agent is disabled; it may connect again once it is enabled');
      else refuse(socket, 401, 'Unauthorized', 'Unknown or deleted datasource agent key');
      return;
    }
    const versionHeader = req.headers[AGENT_VERSION_HEADER];
    const version = typeof versionHeader === 'string' && /^[\x20-\x7e]{1,100}$/.test(versionHeader) ? versionHeader : null;
    const connectionId = randomUUID();
    const relayUrl = typeof this.deps.relayUrl === 'function' ? this.deps.relayUrl() : this.deps.relayUrl;
    const recorded = await this.deps.agents.repo().markConnected(agent.id, { connectionId, relayUrl, address: this.address(req), version });
    if (!recorded) {
      refuse(socket, 401, 'Unauthorized', 'Unknown, disabled or deleted datasource agent key');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const previous = this.connections.get(agent.id);
      previous?.ws.close(CLOSE_CODE.REVOKED, 'replaced by a newer connection of the same agent');
      const conn: AgentConnection = {
        agentId: agent.id,
        organizationId: agent.organizationId,
        name: agent.name,
        connectionId,
        ws,
        channels: new Map(),
        nextChannel: 1,
        pendingToWorkers: 0,
        lastPongAt: Date.now(),
      };
      this.connections.set(agent.id, conn);
      this.deps.logger.info({ agent_id: agent.id, organization_id: agent.organizationId, version }, 'datasource agent connected');
      ws.on('pong', () => {
        conn.lastPongAt = Date.now();
      });
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (isBinary) this.fromAgent(conn, data);
      });
      ws.on('error', () => {});
      ws.on('close', () => {
        clearTimeout(conn.activeTimer);
        if (this.connections.get(agent.id) === conn) this.connections.delete(agent.id);
        for (const channel of conn.channels.values())
          this.failWorker(channel.worker, CLOSE_CODE.AGENT_GONE, `The datasource agent "${conn.name}" disconnected`);
        conn.channels.clear();
        void this.deps.agents
          .repo()
          .markDisconnected(agent.id, connectionId)
          .catch((err: unknown) => this.deps.logger.warn({ err }, 'could not record an agent disconnect'));
        this.deps.logger.info({ agent_id: agent.id }, 'datasource agent disconnected');
      });
    });
  }

  private async acceptWorker(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const token = this.credential(req, RELAY_AUTH_SCHEME);
    const grant = token ? this.deps.agents.relayTokens.verify(token) : undefined;
    if (!grant) {
      refuse(socket, 401, 'Unauthorized', 'Invalid or expired relay token');
      return;
    }
    const conn = this.connections.get(grant.agentId);
    // the token names the agent's organization too: a relay never pairs a session with another organization's agent
    if (!conn || conn.organizationId !== grant.organizationId || conn.ws.readyState !== WebSocket.OPEN) {
      refuse(socket, 409, 'Conflict', 'The datasource agent is not connected to this relay');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (worker) => {
      if (conn.ws.readyState !== WebSocket.OPEN) {
        this.failWorker(worker, CLOSE_CODE.AGENT_GONE, `The datasource agent "${conn.name}" disconnected`);
        return;
      }
      const number = conn.nextChannel++;
      const channel: Channel = { worker, pending: 0 };
      conn.channels.set(number, channel);
      this.activeChanged(conn);
      conn.ws.send(encodeFrame(FRAME.OPEN, number, JSON.stringify({ host: grant.host, port: grant.port })));
      worker.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary || conn.ws.readyState !== WebSocket.OPEN) return;
        for (const frame of dataFrames(number, data)) {
          channel.pending += frame.length;
          conn.ws.send(frame, () => {
            channel.pending -= frame.length;
            if (channel.pending < RESUME_BELOW && worker.isPaused) worker.resume();
          });
        }
        if (channel.pending > PAUSE_ABOVE) worker.pause();
      });
      worker.on('error', () => {});
      worker.on('close', () => {
        if (conn.channels.get(number) !== channel) return;
        conn.channels.delete(number);
        this.activeChanged(conn);
        if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(encodeFrame(FRAME.CLOSE, number));
      });
    });
  }

  private fromAgent(conn: AgentConnection, data: Buffer): void {
    const frame = decodeFrame(data);
    if (!frame) return;
    const channel = conn.channels.get(frame.channel);
    if (!channel) return;
    const { worker } = channel;
    switch (frame.type) {
      case FRAME.OPENED:
        if (worker.readyState === WebSocket.OPEN) worker.send(JSON.stringify({ t: 'opened' }));
        return;
      case FRAME.DATA: {
        if (worker.readyState !== WebSocket.OPEN) return;
        const size = frame.payload.length;
        conn.pendingToWorkers += size;
        worker.send(frame.payload, { binary: true }, () => {
          conn.pendingToWorkers -= size;
          if (conn.pendingToWorkers < RESUME_BELOW && conn.ws.isPaused) conn.ws.resume();
        });
        // one slow worker holds back the agent's connection: memory stays bounded
        if (conn.pendingToWorkers > PAUSE_ABOVE) conn.ws.pause();
        return;
      }
      case FRAME.CLOSE:
        conn.channels.delete(frame.channel);
        this.activeChanged(conn);
        worker.close(1000);
        return;
      case FRAME.ERROR:
        conn.channels.delete(frame.channel);
        this.activeChanged(conn);
        this.failWorker(worker, CLOSE_CODE.OPEN_FAILED, frame.payload.toString('utf8').slice(0, 2000) || 'the agent could not open the session');
        return;
      default:
    }
  }

  /** Tells the worker why its session ended, then closes it. */
  private failWorker(worker: WebSocket, code: number, message: string): void {
    if (worker.readyState === WebSocket.OPEN) {
      worker.send(JSON.stringify({ t: 'error', message }));
      worker.close(code, message.slice(0, 100));
    } else if (worker.readyState === WebSocket.CONNECTING) {
      worker.terminate();
    }
  }

  /** Records the number of open sessions soon (coalesced), so `active_queries` stays current. */
  private activeChanged(conn: AgentConnection): void {
    if (conn.activeTimer) return;
    conn.activeTimer = setTimeout(() => {
      conn.activeTimer = undefined;
      if (this.connections.get(conn.agentId) !== conn) return;
      void this.deps.agents
        .repo()
        .heartbeat(conn.agentId, conn.connectionId, conn.channels.size)
        .catch(() => {});
    }, 200);
  }

  /** Pings every agent (dropping those that did not answer the last ping) and refreshes their records. */
  private async heartbeat(): Promise<void> {
    for (const conn of [...this.connections.values()]) {
      // an agent that has not answered for a while is gone (a starved machine may miss one ping)
      if (Date.now() - conn.lastPongAt > this.pongTimeoutMs) {
        conn.ws.terminate();
        continue;
      }
      conn.ws.ping();
      try {
        const current = await this.deps.agents.repo().heartbeat(conn.agentId, conn.connectionId, conn.channels.size);
        if (!current) conn.ws.close(CLOSE_CODE.REVOKED, 'agent disabled, deleted or connected elsewhere');
      } catch (err) {
        this.deps.logger.warn({ err, agent_id: conn.agentId }, 'agent heartbeat failed');
      }
    }
  }
}

/** Starts the agent relay on a listening API server. */
export function startAgentRelay(server: Server, deps: AgentRelayDeps): AgentRelay {
  return new AgentRelay(deps).attach(server);
}
