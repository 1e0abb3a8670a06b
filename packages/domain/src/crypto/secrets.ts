import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new API key secret: `sl_` + 43 base64url characters (256 random bits). */
export function newApiKeySecret(): string {
  return `sl_${randomBytes(32).toString('base64url')}`;
}

/** A random secret of `bytes` bytes, base64url encoded (tokens, signing keys). */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** SHA-256 hex digest of a secret; secrets are high-entropy, so this is what we store and look up. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of two strings. */
export function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

const VERSION = 'v1';

/**
 * Encrypts a credential with AES-256-GCM. Output: `v1.<iv>.<tag>.<ciphertext>` (base64url parts).
 * @param key 32-byte key from configuration
 */
export function encryptSecret(plaintext: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
}

/**
 * Decrypts the output of `encryptSecret`.
 * @throws Error when the text was not produced with this key (tampered, or the key changed)
 */
export function decryptSecret(sealed: string, key: Buffer): string {
  const [version, iv, tag, ct] = sealed.split('.');
  if (version !== VERSION || iv === undefined || tag === undefined || ct === undefined) throw new Error('Unknown credential format');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
}
