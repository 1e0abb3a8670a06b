import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

/** One message as the test SMTP server received it. */
export interface ReceivedMail {
  from: string;
  recipients: string[];
  headers: Record<string, string>;
  /** The decoded text body (quoted-printable / base64 undone). */
  body: string;
  raw: string;
}

/** A real SMTP server on a free local port (the `smtp-server` package), recording what it accepts. */
export interface TestSmtpServer {
  url: string;
  received: ReceivedMail[];
  /** Number of DATA attempts, accepted or rejected. */
  attempts: number;
  /** Reject the next `n` messages with a temporary failure (451). */
  rejectNext(n: number): void;
  /**
   * Holds the next message after its DATA arrived, before answering: `reached` resolves then. On
   * `release()` it is accepted, unless its connection closed meanwhile (the sender died before the
   * server said OK): then it is discarded, as a real server does.
   */
  holdNext(): { reached: Promise<void>; closed: Promise<void>; release(): void };
  /** Waits until `count` messages arrived (or throws after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

function decodeBody(headers: Record<string, string>, body: string): string {
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

function parse(raw: string, session: SMTPServerSession): ReceivedMail {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
    recipients: session.envelope.rcptTo.map((r) => r.address),
    headers,
    body: decodeBody(headers, raw.slice(split + 4)).replace(/\r\n/g, '\n'),
    raw,
  };
}

/** Starts the server on 127.0.0.1 (no TLS, no auth). */
export async function startTestSmtpServer(): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  let toReject = 0;
  let attempts = 0;
  const waiters: Array<() => void> = [];
  let hold: { reached: () => void; closed: () => void; released: Promise<void>; sessionId?: string } | undefined;
  const closedSessions = new Set<string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onClose(session: SMTPServerSession) {
      closedSessions.add(session.id);
      if (hold?.sessionId === session.id) hold.closed();
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null) => void) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        attempts++;
        if (toReject > 0) {
          toReject--;
          callback(Object.assign(new Error('Try again later'), { responseCode: 451 }));
          return;
        }
        const accept = () => {
          if (closedSessions.has(session.id)) return;
          received.push(parse(Buffer.concat(chunks).toString('utf8'), session));
          callback(null);
          for (const w of waiters.splice(0)) w();
        };
        const held = hold;
        if (held && held.sessionId === undefined) {
          held.sessionId = session.id;
          held.reached();
          void held.released.then(accept);
          return;
        }
        accept();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  const handle: TestSmtpServer = {
    url: `smtp://127.0.0.1:${port}`,
    received,
    get attempts() {
      return attempts;
    },
    rejectNext(n) {
      toReject = n;
    },
    holdNext() {
      let reached!: () => void;
      let closed!: () => void;
      let release!: () => void;
      const h = {
        reached: new Promise<void>((r) => (reached = r)),
        closed: new Promise<void>((r) => (closed = r)),
        released: new Promise<void>((r) => (release = r)),
      };
      hold = { reached, closed, released: h.released };
      return {
        reached: h.reached,
        closed: h.closed,
        release: () => {
          hold = undefined;
          release();
        },
      };
    },
    async waitFor(count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} mail(s), got ${received.length} after ${timeoutMs} ms (${attempts} attempts)`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
      return received;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return handle;
}
