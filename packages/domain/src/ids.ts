import { randomBytes, randomUUID } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A resource id in the Cluvio shape `8qxn-y9ex-65vd`: three groups of four lowercase alphanumerics
 * (about 62 bits of randomness).
 */
export function newId(): string {
  const bytes = randomBytes(12);
  let out = '';
  for (let i = 0; i < 12; i++) {
    if (i === 4 || i === 8) out += '-';
    // 256 % 36 = 4: the bias is below 2 % per character, irrelevant for an identifier.
    out += ALPHABET[bytes[i]! % 36];
  }
  return out;
}

/** True when the text has the shape of a resource id (cheap pre-check before a lookup). */
export function isResourceId(text: string): boolean {
  return /^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/.test(text);
}

/** A random UUID (executions use UUIDs, as the contract says). */
export function newUuid(): string {
  return randomUUID();
}

/** True for a canonical UUID string. */
export function isUuid(text: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text);
}
