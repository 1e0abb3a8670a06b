// The deployment files keep their promises: no secret in docker-compose.yml, health checks on the
// HTTP services, an init process and a HEALTHCHECK in the image, nothing private copied into it, and
// Node versions that agree (engines, .nvmrc, the image, the Node running this test).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';

const read = (file: string) => readFileSync(file, 'utf8');

/** `[major, minor]` of a version like `v20.20.2`, `22` or `>=20.19`. */
function majorMinor(version: string): [number, number] {
  const m = /(\d+)(?:\.(\d+))?/.exec(version);
  if (!m) throw new Error(`not a version: ${version}`);
  return [Number(m[1]), Number(m[2] ?? 0)];
}
const atLeast = (v: [number, number], min: [number, number]) => v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml')) as {
    services: Record<string, { environment?: unknown; healthcheck?: { test?: string[]; disable?: boolean } }>;
    'x-sightline-env': Record<string, string>;
  };
  const text = read('docker-compose.yml');

  it('has no fixed secret: each one is a required variable', () => {
    const env = compose['x-sightline-env'];
    for (const name of ['SIGHTLINE_DATA_TOKEN_SECRET', 'SIGHTLINE_ENCRYPTION_KEY']) expect(env[name]).toMatch(new RegExp(`^\\$\\{${name}:\\?`));
    expect(env.DATABASE_URL).toContain('${POSTGRES_PASSWORD:?');
    expect((compose.services.postgres!.environment as Record<string, string>).POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(text).not.toMatch(/change-me|0{32}/);
  });

  it('checks the health of the database, the API server and the data server', () => {
    expect(compose.services.postgres!.healthcheck?.test?.join(' ')).toContain('pg_isready');
    expect(compose.services['api-server']!.healthcheck?.test).toEqual(['CMD', 'node', 'scripts/healthcheck.mjs', '8080']);
    expect(compose.services['data-server']!.healthcheck?.test).toEqual(['CMD', 'node', 'scripts/healthcheck.mjs', '8081']);
    expect(compose.services.worker!.healthcheck?.disable).toBe(true);
  });
});

describe('Dockerfile and .dockerignore', () => {
  const dockerfile = read('Dockerfile');
  it('runs node directly under an init, with a HEALTHCHECK', () => {
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m);
    expect(dockerfile).toMatch(/^CMD \["node", /m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*scripts\/healthcheck\.mjs/m);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('copies every workspace manifest before installing', () => {
    const workspaces = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces;
    expect(workspaces).toEqual(['packages/*', 'apps/*']);
    for (const dir of [
      'apps/api-server',
      'apps/data-server',
      'apps/worker',
      'apps/sightline',
      'apps/agent',
      'packages/domain',
      'packages/jsonapi',
      'packages/openapi',
      'packages/render',
      'packages/client',
    ]) {
      expect(dockerfile).toContain(`COPY ${dir}/package.json ${dir}/`);
    }
  });

  it('keeps the local install, git and secrets out of the image', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['.git', '**/node_modules', '.sightline', '.env']) expect(ignored).toContain(entry);
  });
});

describe('Node versions', () => {
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
  const minimum = majorMinor(engines);

  it('engines is a lower bound that the running Node, .nvmrc and the image all meet', () => {
    expect(engines).toMatch(/^>=\d+\.\d+$/);
    expect(atLeast(majorMinor(process.version), minimum)).toBe(true);
    expect(atLeast(majorMinor(read('.nvmrc').trim()), minimum)).toBe(true);
    const image = /^FROM node:(\d+)/m.exec(read('Dockerfile'))![1]!;
    expect(image).toBe(read('.nvmrc').trim());
  });

  it('the image and .nvmrc meet what pg-boss declares', () => {
    const pgBoss = (JSON.parse(read('node_modules/pg-boss/package.json')) as { engines: { node: string } }).engines.node;
    // `.nvmrc` names a major line (`22`): nvm and the image take its newest release
    expect(atLeast([Number(read('.nvmrc').trim()), Number.MAX_SAFE_INTEGER], majorMinor(pgBoss))).toBe(true);
  });
});

describe('scripts/healthcheck.mjs', () => {
  /** Exit code of the health check against a server answering `status` on /health. */
  async function exitCode(status: number | 'closed'): Promise<number> {
    const server = http.createServer((req, res) => {
      res.statusCode = req.url === '/health' ? (status as number) : 404;
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    if (status === 'closed') await new Promise((resolve) => server.close(resolve));
    try {
      return await new Promise<number>((resolve) => {
        execFile(process.execPath, ['scripts/healthcheck.mjs', String(port)], (err) => resolve(err ? ((err as { code?: number }).code ?? 1) : 0));
      });
    } finally {
      if (status !== 'closed') await new Promise((resolve) => server.close(resolve));
    }
  }

  it('passes on 200, fails on 503 and on a closed port', async () => {
    expect(await exitCode(200)).toBe(0);
    expect(await exitCode(503)).toBe(1);
    expect(await exitCode('closed')).toBe(1);
  });
});
