import { decryptSecret, encryptSecret } from '../crypto/secrets.js';
import type { Sealer } from './field-table.js';

/**
 * A `Sealer` for sealed fields with the deployment's 32-byte key. A value that does not open (sealed
 * with another key after a rotation, or damaged) reads as null rather than failing a whole listing.
 */
export function sealerFor(key: Buffer): Sealer {
  return {
    seal: (plaintext) => encryptSecret(plaintext, key),
    open: (sealed) => {
      try {
        return decryptSecret(sealed, key);
      } catch {
        return null;
      }
    },
  };
}
