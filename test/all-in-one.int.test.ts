// The README's start command, end to end: `sightline start` as a child process, with the embedded
// PostgreSQL (default) and with an external DATABASE_URL.
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { expectValidJsonApi } from './support/jsonapi-schema.js';

interface Started {
  child: ChildProcess;
  output: () => string;
  apiUrl: string;
  dataUrl: string;
  adminKey?: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function start(env: Record<string, string>): Promise<Started> {
  // Exactly the README's `npm start` (its script), run by this node without npm in between.
  const [program, ...args] = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }).scripts.start.split(/\s+/);
  expect(program).toBe('node');
  const child = spawn(process.execPath, args, {
    env: { ...process.env, DATABASE_URL: '', LOG_LEVEL: 'warn', API_PORT: '0', DATA_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 90_000;
  while (!/Data server: (\S+)/.test(out)) {
    if (child.exitCode !== null) throw new Error(`start exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) throw new Error(`start did not finish booting:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 200));
  return {
    child,
    output: () => out,
    apiUrl: /API server: (\S+)/.exec(out)![1]!,
    dataUrl: /Data server: (\S+)/.exec(out)![1]!,
    adminKey: /Admin API key: (\S+)/.exec(out)?.[1],
  };
}

async function stop(s: Started): Promise<number | null> {
  if (s.child.exitCode !== null) return s.child.exitCode;
  const exited = new Promise<number | null>((resolve) => s.child.once('exit', (code) => resolve(code)));
  s.child.kill('SIGINT');
  return exited;
}

const api = (s: Started, key: string, p: string, init: RequestInit = {}) =>
  fetch(`${s.apiUrl}${p}`, { ...init, headers: { Authorization: `Api ${key}`, 'Content-Type': 'application/json', ...(init.headers ?? {}) } });

async function runQuery(s: Started, key: string, datasourceId: string, sql: string): Promise<unknown[][]> {
  const created = await api(s, key, `/datasources/${datasourceId}/executions`, { method: 'POST', body: JSON.stringify({ sql_query: sql }) });
  expect(created.status).toBe(201);
  const id = ((await created.json()) as { data: { id: string } }).data.id;
  for (let i = 0; i < 300; i++) {
    const e = (await (await api(s, key, `/executions/${id}`)).json()) as { data: { attributes: { execution_status: string; error_message: string | null } } };
    if (e.data.attributes.execution_status === 'success') break;
    if (!['starting', 'running', 'waiting', 'scheduled'].includes(e.data.attributes.execution_status)) throw new Error(JSON.stringify(e));
    await new Promise((r) => setTimeout(r, 100));
  }
  const data = (await (await api(s, key, `/executions/${id}/data`)).json()) as { data_key: string; data_access_token: string };
  const result = await fetch(`${s.dataUrl}/results/${data.data_key}`, { headers: { Authorization: `Data ${data.data_access_token}` } });
  expect(result.status).toBe(200);
  return ((await result.json()) as { rows: unknown[][] }).rows;
}

const running: Started[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const s of running) await stop(s).catch(() => {});
  for (const c of cleanups) await c();
});

describe('npm start (all-in-one)', () => {
  it('boots an embedded PostgreSQL with sample data, keeps its data across restarts and stops cleanly', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sightline-aio-'));
    chmodSync(dir, 0o755);
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = { SIGHTLINE_DATA_DIR: dir, EMBEDDED_PG_PORT: String(await freePort()) };

    const first = await start(env);
    running.push(first);
    expect(first.adminKey).toMatch(/^sl_/);
    const key = first.adminKey!;
    const list = await api(first, key, '/datasources');
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toContain('application/vnd.api+json');
    const doc = (await list.json()) as { data: Array<{ id: string; attributes: { name: string } }> };
    expectValidJsonApi(doc);
    const sample = doc.data.find((d) => d.attributes.name === 'Sample Data');
    expect(sample).toBeDefined();
    const rows = await runQuery(first, key, sample!.id, 'SELECT count(*) > 1000 AS plenty FROM orders');
    expect(rows).toEqual([[true]]);
    // The sample datasource cannot see Sightline's own tables.
    const own = await api(first, key, `/datasources/${sample!.id}/executions`, {
      method: 'POST',
      body: JSON.stringify({ sql_query: 'SELECT * FROM api_keys' }),
    });
    const ownId = ((await own.json()) as { data: { id: string } }).data.id;
    let status = '';
    for (let i = 0; i < 100; i++) {
      status = ((await (await api(first, key, `/executions/${ownId}`)).json()) as { data: { attributes: { execution_status: string } } }).data.attributes
        .execution_status;
      if (status !== 'starting' && status !== 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe('query_error');

    expect(await stop(first)).toBe(0);
    expect(() => execFileSync('pgrep', ['-f', `-D ${dir}/pg`], { stdio: 'pipe' })).toThrow(); // no postgres left behind

    const second = await start(env);
    running.push(second);
    expect(second.adminKey).toBeUndefined(); // printed once only
    expect((await api(second, key, '/datasources')).status).toBe(200);
    expect(await stop(second)).toBe(0);
  }, 180_000);

  it('with SIGHTLINE_DATA_DIR under a private (0700) folder: boots, or as root stops at once saying what to change', async () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), 'sightline-private-'));
    chmodSync(parent, 0o700);
    cleanups.push(() => rmSync(parent, { recursive: true, force: true }));
    const env = { SIGHTLINE_DATA_DIR: path.join(parent, '.sightline'), EMBEDDED_PG_PORT: String(await freePort()), SAMPLE_DATA: 'false' };
    if (process.getuid?.() !== 0) {
      const s = await start(env);
      running.push(s);
      expect(await stop(s)).toBe(0);
      return;
    }
    // As root the embedded PostgreSQL runs as the `postgres` user, which cannot enter the folder.
    const failure = await start(env).then(
      () => 'booted',
      (err: Error) => err.message,
    );
    expect(failure).toMatch(/exited with 1/);
    expect(failure).toContain(`cannot enter ${parent}`);
    expect(failure).toContain('SIGHTLINE_DATA_DIR');
    expect(failure).not.toMatch(/EACCES|Permission denied/);
  }, 60_000);

  it('uses DATABASE_URL when given, with SIGHTLINE_ADMIN_API_KEY as the admin secret', async () => {
    const database: TestDatabase = await createTestDatabase();
    cleanups.push(() => database.drop());
    const secret = `ci-admin-key-${Date.now()}-abcdefghijklmnop`;
    const s = await start({
      DATABASE_URL: database.url,
      SIGHTLINE_ADMIN_API_KEY: secret,
      SAMPLE_DATA: 'false',
      SIGHTLINE_DATA_TOKEN_SECRET: 'x'.repeat(40),
      SIGHTLINE_ENCRYPTION_KEY: 'ab'.repeat(32),
    });
    running.push(s);
    expect(s.adminKey).toBeUndefined();
    const res = await api(s, secret, '/api_keys');
    expect(res.status).toBe(200);
    expect((await fetch(`${s.dataUrl}/health`)).status).toBe(200);
    expect(await stop(s)).toBe(0);
  }, 60_000);
});
