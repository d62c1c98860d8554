// Random secrets and their stored form: only a SHA-256 of a token ever reaches the database.
import { createHash } from 'node:crypto';
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding';

/** 20 random bytes in base32: 160 bits, safe in URLs and cookies. */
export function randomToken(bytes = 20): string {
  const random = new Uint8Array(bytes);
  crypto.getRandomValues(random);
  return encodeBase32LowerCaseNoPadding(random);
}

/** Lower-case hex SHA-256 of the token's UTF-8: node's native hash (every API call hashes its key). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
