// SSH tunnels to datasources behind a bastion host: one SSH connection per datasource, shared by
// all of its database sessions (each one an ssh2 `forwardOut` channel).
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Knex } from 'knex';
import ssh2 from 'ssh2';
import { QueryError, type DatasourceTransport } from '../drivers/driver.types.js';
import type { Logger } from '../logger.js';
import { SshKeyRepository } from './ssh-key.repository.js';
import { sshFingerprint, type SshKeyService } from './ssh-key.service.js';

/** Where a datasource's tunnel goes. */
export interface SshTunnelTarget {
  organizationId: string;
  datasourceId: string;
  /** The bastion host (`ssh_tunnel_host`). */
  host: string;
  /** The bastion port (`ssh_tunnel_port`, default 22). */
  port: number;
  /** The login on the bastion (`ssh_tunnel_user`). */
  username: string;
}

export interface SshTunnelPoolDeps {
  db: Knex;
  keys: SshKeyService;
  logger?: Logger;
  /** A tunnel without database sessions is closed after this long (ms, default 60000). */
  idleMs?: number;
  /**
   * Upper bound for reaching the bastion and completing the SSH handshake (ms, default 8000: below
   * the drivers' 10 s connect timeout, so a silent bastion is reported as such).
   */
  readyTimeoutMs?: number;
}

const DEFAULT_IDLE_MS = 60_000;
const DEFAULT_READY_TIMEOUT_MS = 8_000;

/** One SSH connection to a bastion and the channels (database sessions) it carries. */
class Tunnel {
  readonly client = new ssh2.Client();
  readonly channels = new Set<Duplex>();
  /** Channels whose session is in use (not idle in a session pool): while any is, the socket keeps the process alive. */
  private readonly held = new Set<Duplex>();
  readonly ready: Promise<void>;
  closed = false;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Why the host key was refused (reported instead of ssh2's generic "verification failed"). */
  private hostKeyProblem: string | undefined;

  constructor(
    readonly target: SshTunnelTarget,
    readonly settingsKey: string,
    private readonly deps: SshTunnelPoolDeps,
    private readonly onClosed: (tunnel: Tunnel) => void,
  ) {
    this.ready = this.connect();
    // A failed start is reported to every open(); never an unhandled rejection meanwhile.
    this.ready.catch(() => {});
  }

  get where(): string {
    return `${this.target.host}:${this.target.port}`;
  }

  private async connect(): Promise<void> {
    const { target, deps } = this;
    const pair = await deps.keys.keyPair(target.organizationId);
    const repo = new SshKeyRepository(deps.db);
    const pinned = await repo.findHostKey(target.datasourceId, target.host, target.port);
    // Closed (datasource changed, shutdown) while the key was read: never open a connection nobody closes.
    if (this.closed) throw new QueryError('connection_error', `The SSH tunnel to ${this.where} was closed while it was opening`);
    let presented: string | undefined;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      this.client.once('ready', () => {
        settled = true;
        resolve();
      });
      this.client.on('error', (err: Error & { level?: string }) => {
        if (settled) {
          this.shutdown(`The SSH tunnel to ${this.where} failed: ${err.message}`);
          return;
        }
        settled = true;
        reject(this.connectError(err));
      });
      this.client.on('close', () => {
        if (!settled) {
          settled = true;
          reject(new QueryError('connection_error', this.hostKeyProblem ?? `SSH tunnel to ${this.where}: the connection closed during the SSH handshake`));
        }
        this.shutdown(`The SSH tunnel to ${this.where} closed`);
      });
      this.client.connect({
        host: target.host,
        port: target.port,
        username: target.username,
        privateKey: pair.privateKey,
        readyTimeout: deps.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
        // Detects a bastion that vanished without closing the connection (45 s without an answer).
        keepaliveInterval: 15_000,
        keepaliveCountMax: 3,
        // Only the organization's key: never this process's SSH agent or keyboard prompts.
        agent: undefined,
        tryKeyboard: false,
        hostVerifier: (key: Buffer) => {
          presented = sshFingerprint(key);
          if (!pinned || pinned.fingerprint === presented) return true;
          this.hostKeyProblem =
            `The SSH host key of ${this.where} changed: the datasource expects ${pinned.fingerprint} but the server presented ${presented}. ` +
            "If the bastion's key was replaced on purpose, save the datasource's ssh_tunnel_host again to trust the new key.";
          return false;
        },
      });
    });
    // Trust on first use: the first key seen on a successful connect is the one expected from now on.
    if (!pinned && presented) await repo.pinHostKey(target.organizationId, target.datasourceId, target.host, target.port, presented);
    this.scheduleIdleClose();
  }

  private connectError(err: Error & { level?: string; code?: string }): QueryError {
    if (this.hostKeyProblem) return new QueryError('connection_error', this.hostKeyProblem, { cause: err });
    const prefix = `SSH tunnel to ${this.where}`;
    if (err.level === 'client-authentication') {
      return new QueryError(
        'connection_error',
        `${prefix}: authentication as "${this.target.username}" failed; add the organization's public key (GET /datasources/ssh_public_key) to that user's authorized_keys on the bastion`,
        { cause: err, code: 'ssh_authentication_failed' },
      );
    }
    if (err.level === 'client-timeout') {
      return new QueryError('connection_error', `${prefix}: no SSH handshake within ${this.deps.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS} ms`, {
        cause: err,
      });
    }
    return new QueryError('connection_error', `${prefix}: ${err.message}`, err.code ? { cause: err, code: err.code } : { cause: err });
  }

  /** The socket to the bastion: referenced while sessions use it, so an idle tunnel never keeps a process alive. */
  private socket(): Socket | undefined {
    return (this.client as unknown as { _sock?: Socket })._sock;
  }

  /** True once the connection to the bastion is gone (or going). */
  private connectionLost(): boolean {
    const sock = this.socket();
    return this.closed || !sock || sock.destroyed || sock.readableEnded || !sock.writable;
  }

  private updateRef(): void {
    if (this.held.size > 0) this.socket()?.ref?.();
    else this.socket()?.unref?.();
  }

  private scheduleIdleClose(): void {
    if (this.closed || this.channels.size > 0) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.shutdown(`The SSH tunnel to ${this.where} was closed after being idle`), this.deps.idleMs ?? DEFAULT_IDLE_MS);
    this.idleTimer.unref();
    this.socket()?.unref?.();
  }

  /** Opens one channel to `host:port` as seen from the bastion. @throws QueryError kind connection_error */
  forward(host: string, port: number): Promise<Duplex> {
    if (this.closed) return Promise.reject(new QueryError('connection_error', `The SSH tunnel to ${this.where} closed`));
    clearTimeout(this.idleTimer);
    this.socket()?.ref?.();
    return new Promise<Duplex>((resolve, reject) => {
      const fail = (reason: string, cause?: unknown) => {
        this.scheduleIdleClose();
        reject(new QueryError('connection_error', `Could not reach ${host}:${port} through the SSH tunnel to ${this.where}: ${reason}`, { cause }));
      };
      try {
        this.client.forwardOut('127.0.0.1', 0, host, port, (err, channel) => {
          if (err) return fail(err.message, err);
          if (this.closed) {
            channel.destroy();
            return fail('the tunnel closed');
          }
          this.channels.add(channel);
          this.held.add(channel);
          // The drivers unref an idle pooled session's stream and ref it when it is used again.
          Object.assign(channel, {
            ref: () => {
              this.held.add(channel);
              this.updateRef();
            },
            unref: () => {
              this.held.delete(channel);
              this.updateRef();
            },
          });
          // Registered before the driver's listeners: when the bastion connection is what ended the
          // channel, the driver learns why (instead of a bare "connection terminated").
          channel.once('close', () => {
            this.channels.delete(channel);
            this.held.delete(channel);
            this.updateRef();
            if (this.connectionLost()) channel.emit('error', new Error(`The SSH tunnel to ${this.where} closed`));
            this.scheduleIdleClose();
          });
          resolve(channel);
        });
      } catch (err) {
        fail(err instanceof Error ? err.message : String(err), err);
      }
    });
  }

  /** Closes the tunnel; sessions still using it fail with `reason`. Idempotent. */
  shutdown(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    for (const channel of this.channels) channel.destroy(new Error(reason));
    this.channels.clear();
    this.client.end();
    // `end` waits for the server; a dead bastion is dropped right away.
    setTimeout(() => this.socket()?.destroy(), 1_000).unref();
    this.deps.logger?.debug({ datasource_id: this.target.datasourceId, reason }, 'ssh tunnel closed');
    this.onClosed(this);
  }
}

/**
 * The SSH tunnels of a process, one per datasource: opened on the first database session, shared
 * by later ones, reopened when broken, closed when idle or when the datasource's tunnel settings
 * change. The bastion's host key is pinned on the first successful connect; a different key later
 * refuses the connection with a message naming both fingerprints.
 */
export class SshTunnelPool {
  private readonly tunnels = new Map<string, Tunnel>();

  constructor(private readonly deps: SshTunnelPoolDeps) {}

  /** The transport of a datasource in `ssh_tunnel` mode (creating it opens nothing). */
  transportFor(target: SshTunnelTarget): DatasourceTransport {
    return { key: `ssh:${target.username}@${target.host}:${target.port}`, open: (host, port) => this.open(target, host, port) };
  }

  /** Opens one stream to `host:port` through the datasource's tunnel. @throws QueryError kind connection_error */
  async open(target: SshTunnelTarget, host: string, port: number): Promise<Duplex> {
    const settingsKey = `${target.organizationId}|${target.username}@${target.host}:${target.port}`;
    let tunnel = this.tunnels.get(target.datasourceId);
    if (tunnel && (tunnel.closed || tunnel.settingsKey !== settingsKey)) {
      tunnel.shutdown(`The SSH tunnel settings of the datasource changed`);
      tunnel = undefined;
    }
    if (!tunnel) {
      tunnel = new Tunnel(target, settingsKey, this.deps, (closed) => {
        if (this.tunnels.get(closed.target.datasourceId) === closed) this.tunnels.delete(closed.target.datasourceId);
      });
      this.tunnels.set(target.datasourceId, tunnel);
    }
    try {
      await tunnel.ready;
    } catch (err) {
      // The next session tries a fresh connection.
      tunnel.shutdown('The SSH tunnel could not be opened');
      throw err;
    }
    return tunnel.forward(host, port);
  }

  /** Closes the datasource's tunnel (its settings changed or it was deleted); its sessions fail. */
  closeDatasource(datasourceId: string, reason = 'The datasource changed'): void {
    this.tunnels.get(datasourceId)?.shutdown(reason);
  }

  /** Number of open tunnels (diagnostics and tests). */
  get size(): number {
    return this.tunnels.size;
  }

  /** Closes every tunnel (process shutdown). */
  async close(): Promise<void> {
    for (const tunnel of [...this.tunnels.values()]) tunnel.shutdown('The process is shutting down');
  }
}
