import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { decryptSecret, encryptSecret, hashSecret, newApiKeySecret } from '../src/crypto/secrets.js';

describe('secrets', () => {
  it('makes long random API key secrets', () => {
    const a = newApiKeySecret();
    expect(a).toMatch(/^sl_[A-Za-z0-9_-]{43}$/);
    expect(newApiKeySecret()).not.toBe(a);
    expect(hashSecret(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('encrypts credentials so that only the same key decrypts them', () => {
    const key = randomBytes(32);
    const sealed = encryptSecret('pässwörd', key);
    expect(sealed).not.toContain('pässwörd');
    expect(decryptSecret(sealed, key)).toBe('pässwörd');
    expect(() => decryptSecret(sealed, randomBytes(32))).toThrow();
    // flip one bit of the ciphertext (editing a base64 character could leave the bytes unchanged)
    const [version, iv, tag, ct] = sealed.split('.');
    const bytes = Buffer.from(ct!, 'base64url');
    bytes[0] = bytes[0]! ^ 1;
    const tampered = [version, iv, tag, bytes.toString('base64url')].join('.');
    expect(() => decryptSecret(tampered, key)).toThrow();
  });
});
