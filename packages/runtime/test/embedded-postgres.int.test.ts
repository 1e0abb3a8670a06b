// The embedded PostgreSQL of `npm start` from private directories. As root it runs as the system
// user `postgres`, which cannot enter a mode-0700 folder (a clone under /root): its binaries are
// then copied where that user can reach them, and a data folder it cannot reach stops the start at
// once with a message saying what to change. Started here on free ports; the shared server is untouched.
import { afterAll, describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { translatePgError, ValidationError } from '@sightline/domain';
import { packagedPostgresDir, startEmbeddedPostgres } from '../src/index.js';
import { closedPort } from '../../domain/test/drivers/support.js';

const asRoot = process.getuid?.() === 0;
const cleanups: Array<() => void> = [];
afterAll(() => {
  for (const c of cleanups.reverse()) c();
});

/** A fresh folder of the given mode under the temp dir. */
function folder(mode: number): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sightline-embedded-'));
  chmodSync(dir, mode);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL from private (mode 0700) directories', () => {
  it('runs from binaries inside a private folder (copied where the postgres user can reach them), keeps its data across restarts', async () => {
    // binaries reached only through a 0700 folder, as under a clone in /root
    const privateCheckout = folder(0o700);
    const nativeDir = path.join(privateCheckout, 'native');
    symlinkSync(await packagedPostgresDir(), nativeDir);
    const cacheDir = path.join(folder(0o755), 'cache');
    const dataDir = path.join(folder(0o755), 'data', 'pg');
    const options = { dir: dataDir, port: await closedPort(), password: 'pw-äö', database: 'sightline', nativeDir, cacheDir };
    const server = await startEmbeddedPostgres(options);
    try {
      expect((await query<{ v: string }>(server.url, 'SELECT version() AS v'))[0]!.v).toMatch(/^PostgreSQL 1\d/);
      await query(server.url, 'CREATE TABLE kept (id int PRIMARY KEY); INSERT INTO kept VALUES (1)');
      // PostgreSQL 18 reports ON DELETE RESTRICT with SQLSTATE 23001: mapped like 23503 (issue 16.4)
      await query(server.url, 'CREATE TABLE child (kept_id int REFERENCES kept (id) ON DELETE RESTRICT); INSERT INTO child VALUES (1)');
      const err = await query(server.url, 'DELETE FROM kept').catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe('23001');
      const mapped = translatePgError(err);
      expect(mapped).toBeInstanceOf(ValidationError);
      expect((mapped as ValidationError).detail).toBe('It is still used by child; remove or change those first');
    } finally {
      await server.stop();
    }
    if (asRoot) {
      // the cluster belongs to the user that runs it, and the binaries were copied for it
      expect(statSync(dataDir).uid).not.toBe(0);
      expect(readdirSync(cacheDir).some((d) => d.startsWith('postgresql-'))).toBe(true);
    }
    const again = await startEmbeddedPostgres(options);
    try {
      expect(await query(again.url, 'SELECT id FROM kept')).toEqual([{ id: 1 }]);
    } finally {
      await again.stop();
    }
  }, 180_000);

  it('refuses at once, saying what to change, a data folder the postgres user cannot reach (as root)', async () => {
    const privateParent = folder(0o700);
    const dataDir = path.join(privateParent, '.sightline', 'pg');
    const attempt = startEmbeddedPostgres({ dir: dataDir, port: await closedPort(), password: 'pw' });
    if (!asRoot) {
      // run as yourself, a private folder is no obstacle
      const server = await attempt;
      await server.stop();
      return;
    }
    const err = await attempt.then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toContain(`cannot enter ${privateParent}`);
    expect(err!.message).toContain('SIGHTLINE_DATA_DIR');
    expect(err!.message).toContain('DATABASE_URL');
    // nothing was initialised there
    expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(false);
  });
});
