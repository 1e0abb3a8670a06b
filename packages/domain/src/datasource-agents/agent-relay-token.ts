import { createHmac } from 'node:crypto';
import { safeEqual } from '../crypto/secrets.js';

/** What a relay token lets a worker do: open one session to `host:port` through one agent. */
export interface RelayGrant {
  agentId: string;
  organizationId: string;
  host: string;
  port: number;
}

/**
 * Short-lived tokens with which a worker asks a relay (an API server process) to open a database
 * session through an agent. HMAC-SHA-256 with a key derived from the deployment's encryption key,
 * which every process already has; a token names the agent and its organization, so a relay never
 * pairs a worker with another organization's agent.
 */
export class AgentRelayTokens {
  private readonly key: Buffer;

  constructor(
    encryptionKey: Buffer,
    private readonly ttlSeconds = 60,
  ) {
    this.key = createHmac('sha256', encryptionKey).update('sightline datasource agent relay tokens v1').digest();
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }

  /** A token for `grant`, valid for the configured lifetime (default 60 s). */
  issue(grant: RelayGrant, nowMs = Date.now()): string {
    const body = Buffer.from(JSON.stringify({ ...grant, exp: Math.floor(nowMs / 1000) + this.ttlSeconds }), 'utf8').toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  /** The grant of a valid, unexpired token; undefined otherwise. */
  verify(token: string, nowMs = Date.now()): RelayGrant | undefined {
    const [body, signature, extra] = token.split('.');
    if (!body || !signature || extra !== undefined || !safeEqual(signature, this.sign(body))) return undefined;
    try {
      const v = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<RelayGrant> & { exp?: number };
      if (typeof v.exp !== 'number' || v.exp * 1000 < nowMs) return undefined;
      if (typeof v.agentId !== 'string' || typeof v.organizationId !== 'string' || typeof v.host !== 'string' || typeof v.port !== 'number') return undefined;
      return { agentId: v.agentId, organizationId: v.organizationId, host: v.host, port: v.port };
    } catch {
      return undefined;
    }
  }
}
