import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { decodeKey } from '@sightline/domain';

/** Secrets the all-in-one mode generates once and keeps in `<data dir>/secrets.json` (mode 0600). */
export interface RuntimeSecrets {
  dataTokenSecret: string;
  encryptionKey: Buffer;
  postgresPassword: string;
}

/**
 * Reads the data dir's secrets, creating the file with fresh random values on first use.
 * @throws Error when the file exists but is unreadable or malformed (never silently replaced:
 *   a new encryption key would make stored credentials unreadable)
 */
export function loadOrCreateRuntimeSecrets(dataDir: string): RuntimeSecrets {
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  const file = path.join(dataDir, 'secrets.json');
  if (!existsSync(file)) {
    const fresh = {
      data_token_secret: randomBytes(32).toString('base64url'),
      encryption_key: randomBytes(32).toString('hex'),
      postgres_password: randomBytes(18).toString('base64url'),
    };
    writeFileSync(file, JSON.stringify(fresh, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  }
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const key = typeof raw.encryption_key === 'string' ? decodeKey(raw.encryption_key) : undefined;
  if (typeof raw.data_token_secret !== 'string' || !key || typeof raw.postgres_password !== 'string') {
    throw new Error(`${file} is malformed; restore it from a backup (stored credentials depend on it)`);
  }
  return { dataTokenSecret: raw.data_token_secret, encryptionKey: key, postgresPassword: raw.postgres_password };
}
