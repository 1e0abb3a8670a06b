// The wire protocol between a datasource agent and the relay (an API server process). It has no
// imports so that the agent (apps/agent) can use it without loading the rest of the domain.
//
// One WebSocket per agent carries many database sessions ("channels"). Every message is binary:
//   byte 0      frame type (FRAME)
//   bytes 1..4  channel number (uint32, big endian; chosen by the relay)
//   bytes 5..   payload
// OPEN    relay → agent   payload: JSON {"host": string, "port": number}: connect a TCP socket there
// OPENED  agent → relay   the TCP connection is up
// DATA    both ways       bytes of the database session
// CLOSE   both ways       the session ended (the other side closes its end); payload: optional UTF-8 reason
// ERROR   agent → relay   opening or the session failed; payload: UTF-8 message

/** Frame types of the agent protocol. */
export const FRAME = { OPEN: 1, OPENED: 2, DATA: 3, CLOSE: 4, ERROR: 5 } as const;
export type FrameType = (typeof FRAME)[keyof typeof FRAME];

/** A decoded frame. */
export interface Frame {
  type: FrameType;
  channel: number;
  payload: Buffer;
}

/** Path of the agents' WebSocket endpoint on the API server. */
export const AGENT_CONNECT_PATH = '/agent/connect';
/** Path where workers open a database session through a connected agent. */
export const AGENT_RELAY_PATH = '/agent/relay';
/** Header carrying the agent's version on connect. */
export const AGENT_VERSION_HEADER = 'x-sightline-agent-version';
/** Scheme of the `Authorization` header of agents: `Agent <secret key>`. */
export const AGENT_AUTH_SCHEME = 'Agent';

/** WebSocket close codes the relay uses (4000–4999 are application codes). */
export const CLOSE_CODE = {
  /** The agent was disabled, deleted, or replaced by a newer connection with the same key. */
  REVOKED: 4001,
  /** The agent's connection went away while a session was open. */
  AGENT_GONE: 4002,
  /** The agent could not open the session (the reason says why). */
  OPEN_FAILED: 4003,
  /** The worker's relay token is invalid or the agent is not connected to this relay. */
  REFUSED: 4004,
} as const;

/** Largest payload of one DATA frame the sides send (bigger chunks are split). */
export const MAX_FRAME_PAYLOAD = 64 * 1024;

/** Encodes a frame. */
export function encodeFrame(type: FrameType, channel: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const head = Buffer.allocUnsafe(5);
  head.writeUInt8(type, 0);
  head.writeUInt32BE(channel >>> 0, 1);
  return Buffer.concat([head, body]);
}

/** DATA frames for `chunk`, split at `MAX_FRAME_PAYLOAD`. */
export function dataFrames(channel: number, chunk: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < chunk.length; i += MAX_FRAME_PAYLOAD) out.push(encodeFrame(FRAME.DATA, channel, chunk.subarray(i, i + MAX_FRAME_PAYLOAD)));
  return out;
}

/** Decodes a frame; undefined for anything malformed (the receiver drops it). */
export function decodeFrame(data: Buffer): Frame | undefined {
  if (data.length < 5) return undefined;
  const type = data.readUInt8(0);
  if (type < FRAME.OPEN || type > FRAME.ERROR) return undefined;
  return { type: type as FrameType, channel: data.readUInt32BE(1), payload: data.subarray(5) };
}

/** Reads the target of an OPEN frame; undefined when malformed. */
export function decodeOpenTarget(payload: Buffer): { host: string; port: number } | undefined {
  try {
    const v = JSON.parse(payload.toString('utf8')) as { host?: unknown; port?: unknown };
    if (typeof v.host !== 'string' || !v.host || v.host.length > 255) return undefined;
    if (typeof v.port !== 'number' || !Number.isInteger(v.port) || v.port < 1 || v.port > 65535) return undefined;
    return { host: v.host, port: v.port };
  } catch {
    return undefined;
  }
}
