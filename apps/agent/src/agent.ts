import net from 'node:net';
import WebSocket from 'ws';
import {
  AGENT_AUTH_SCHEME,
  AGENT_CONNECT_PATH,
  AGENT_VERSION_HEADER,
  CLOSE_CODE,
  FRAME,
  dataFrames,
  decodeFrame,
  decodeOpenTarget,
  encodeFrame,
} from '@sightline/domain/agent-protocol';

/** How an agent reaches the server and how it behaves. */
export interface AgentOptions {
  /** Base URL of the Sightline API server (http(s)://…); the agent connects to its WebSocket endpoint. */
  serverUrl: string;
  /** The agent's secret key (shown once when the agent was created). */
  secretKey: string;
  /** Reported to the server (the agent resource's `version`). */
  version: string;
  /** First reconnect delay in milliseconds (doubles per failed attempt). */
  minBackoffMs?: number;
  /** Longest reconnect delay in milliseconds. */
  maxBackoffMs?: number;
  /** Without a ping from the server for this long, the connection counts as dead (milliseconds). */
  idleTimeoutMs?: number;
  /**
   * Database addresses (`host:port`, as the datasources name them) the agent may connect to; others
   * are refused. Undefined: any address the server asks for.
   */
  allow?: readonly string[];
  /** One line per event (connected, refused, sessions opened and closed). */
  log?: (line: string) => void;
}

/** A session to a database: one TCP socket, one channel of the WebSocket. */
interface Session {
  socket: net.Socket;
  opened: boolean;
  /** Bytes handed to the WebSocket and not yet written (flow control). */
  pending: number;
  /** True once the server was told the session ended (no further frames for it). */
  closed: boolean;
}

const PAUSE_ABOVE = 1024 * 1024;
const RESUME_BELOW = 256 * 1024;

/**
 * The datasource agent: keeps one outbound WebSocket to the API server, authenticated by its secret
 * key, and opens the TCP connections the server asks for (to databases as seen from the agent's
 * network), carrying their bytes as channels of that WebSocket. Reconnects with exponential backoff
 * whenever the connection fails, is refused (wrong, disabled or deleted key) or drops.
 */
export class Agent {
  private ws: WebSocket | undefined;
  private readonly sessions = new Map<number, Session>();
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly log: (line: string) => void;

  constructor(private readonly options: AgentOptions) {
    this.log = options.log ?? ((line) => console.log(line));
  }

  /** The WebSocket URL of the server's agent endpoint. */
  get endpoint(): string {
    const url = new URL(this.options.serverUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.pathname = `${url.pathname.replace(/\/$/, '')}${AGENT_CONNECT_PATH}`;
    return url.toString();
  }

  /** Connects (and keeps reconnecting until `stop`). */
  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Closes the connection and every session; no reconnect. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.idleTimer);
    this.closeSessions();
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.close(1000, 'agent stopping');
      setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000).unref();
    });
  }

  private connect(): void {
    if (this.stopped) return;
    const ws = new WebSocket(this.endpoint, {
      headers: { authorization: `${AGENT_AUTH_SCHEME} ${this.options.secretKey}`, [AGENT_VERSION_HEADER]: this.options.version },
      handshakeTimeout: 10_000,
      perMessageDeflate: false,
    });
    this.ws = ws;
    ws.on('unexpected-response', (_req, res) => {
      this.log(
        res.statusCode === 401
          ? 'refused: the server does not accept this agent key (wrong or deleted agent)'
          : res.statusCode === 403
            ? 'refused: this agent is disabled on the server (it connects again once enabled)'
            : `refused: the server answered HTTP ${res.statusCode}`,
      );
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      this.attempt = 0;
      this.log(`connected to ${this.options.serverUrl}`);
      this.touch();
    });
    ws.on('ping', () => this.touch());
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.onFrame(data);
    });
    ws.on('error', (err) => {
      // 'close' follows; the message says why the connection failed
      if (!/Unexpected server response/.test(err.message)) this.log(`connection error: ${err.message}`);
    });
    ws.on('close', (code, reason) => {
      clearTimeout(this.idleTimer);
      this.closeSessions();
      if (this.ws === ws) this.ws = undefined;
      if (code === CLOSE_CODE.REVOKED) this.log(`disconnected by the server: ${reason.toString() || 'agent disabled'}`);
      else if (code !== 1006 || this.attempt === 0) this.log(`disconnected (${code}${reason.length ? ` ${reason.toString()}` : ''})`);
      this.scheduleReconnect();
    });
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    const ws = this.ws;
    this.idleTimer = setTimeout(() => {
      this.log('no ping from the server: reconnecting');
      ws?.terminate();
    }, this.options.idleTimeoutMs ?? 60_000);
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const min = this.options.minBackoffMs ?? 500;
    const max = this.options.maxBackoffMs ?? 30_000;
    const delay = Math.min(max, min * 2 ** this.attempt) * (0.8 + Math.random() * 0.4);
    this.attempt++;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private send(frame: Buffer, done?: () => void): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(frame, { binary: true }, () => done?.());
  }

  private onFrame(data: Buffer): void {
    const frame = decodeFrame(data);
    if (!frame) return;
    const session = this.sessions.get(frame.channel);
    switch (frame.type) {
      case FRAME.OPEN: {
        const target = decodeOpenTarget(frame.payload);
        if (!target || session) {
          this.send(encodeFrame(FRAME.ERROR, frame.channel, target ? 'channel already open' : 'malformed open request'));
          return;
        }
        const address = `${target.host}:${target.port}`;
        if (this.options.allow && !this.options.allow.includes(address)) {
          this.log(`session ${frame.channel}: refused ${address} (not in --allow)`);
          this.send(encodeFrame(FRAME.ERROR, frame.channel, `this agent does not connect to ${address} (not in its --allow list)`));
          return;
        }
        this.open(frame.channel, target.host, target.port);
        return;
      }
      case FRAME.DATA:
        if (session && !session.closed) session.socket.write(frame.payload);
        return;
      case FRAME.CLOSE:
        if (session) {
          session.closed = true;
          session.socket.destroy();
        }
        return;
      default:
    }
  }

  private open(channel: number, host: string, port: number): void {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    socket.setTimeout(10_000);
    const session: Session = { socket, opened: false, pending: 0, closed: false };
    this.sessions.set(channel, session);
    this.log(`session ${channel}: opening ${host}:${port}`);
    socket.once('timeout', () => {
      if (!session.opened) socket.destroy(new Error(`timed out connecting to ${host}:${port}`));
    });
    socket.once('connect', () => {
      socket.setTimeout(0);
      session.opened = true;
      this.send(encodeFrame(FRAME.OPENED, channel));
    });
    socket.on('data', (chunk: Buffer) => {
      for (const frame of dataFrames(channel, chunk)) {
        session.pending += frame.length;
        this.send(frame, () => {
          session.pending -= frame.length;
          if (session.pending < RESUME_BELOW && socket.isPaused()) socket.resume();
        });
      }
      if (session.pending > PAUSE_ABOVE) socket.pause();
    });
    socket.on('error', (err) => {
      if (session.closed) return;
      session.closed = true;
      const message = session.opened ? `connection to ${host}:${port} failed: ${err.message}` : `could not connect to ${host}:${port}: ${err.message}`;
      this.log(`session ${channel}: ${message}`);
      this.send(encodeFrame(FRAME.ERROR, channel, message));
    });
    socket.on('close', () => {
      this.sessions.delete(channel);
      if (!session.closed) {
        session.closed = true;
        this.send(encodeFrame(FRAME.CLOSE, channel, `${host}:${port} closed the connection`));
      }
      this.log(`session ${channel}: closed`);
    });
  }

  private closeSessions(): void {
    for (const session of this.sessions.values()) {
      session.closed = true;
      session.socket.destroy();
    }
    this.sessions.clear();
  }
}
