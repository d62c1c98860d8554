// Password hashing: scrypt at OWASP's parameters (N=2^17, r=8, p=1) in PHC string format, compared in
// constant time. Every derivation goes through src/auth/hash-slots.ts (two at a time, a bounded queue);
// `requester` is the client address it counts against, null for a trusted local caller (the CLI).
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { inHashSlot } from './hash-slots.ts';

export interface ScryptCost {
  /** log2 of N. */
  ln: number;
  r: number;
  p: number;
}

/** OWASP's current recommendation. Tests may pass a lower cost; production config cannot. */
export const productionCost: ScryptCost = Object.freeze({ ln: 17, r: 8, p: 1 });

const KEY_BYTES = 32;
const SALT_BYTES = 16;

function derive(password: string, salt: Buffer, cost: ScryptCost, requester: string | null): Promise<Buffer> {
  const N = 2 ** cost.ln;
  const options: ScryptOptions = { N, r: cost.r, p: cost.p, maxmem: 256 * N * cost.r + 16 * 1024 * 1024 };
  return inHashSlot(
    requester,
    () =>
      new Promise((resolve, reject) =>
        scryptCallback(password.normalize('NFKC'), salt, KEY_BYTES, options, (error, key) => (error ? reject(error) : resolve(key))),
      ),
  );
}

const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

export async function hashPassword(password: string, cost: ScryptCost = productionCost, requester: string | null = null): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, cost, requester);
  return phcString(cost, salt, key);
}

function phcString(cost: ScryptCost, salt: Buffer, key: Buffer): string {
  return `$scrypt$ln=${cost.ln},r=${cost.r},p=${cost.p}$${b64(salt)}$${b64(key)}`;
}

/** A PHC string of this cost that no password matches (random bytes in place of a key). */
export function unmatchablePhc(cost: ScryptCost): string {
  return phcString(cost, randomBytes(SALT_BYTES), randomBytes(KEY_BYTES));
}

const PHC = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** Checks a password against a PHC string; a malformed hash never matches. */
export async function verifyPassword(password: string, phc: string, requester: string | null = null): Promise<boolean> {
  const match = PHC.exec(phc);
  if (!match) return false;
  const cost = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  const expected = Buffer.from(match[5]!, 'base64');
  const actual = await derive(password, Buffer.from(match[4]!, 'base64'), cost, requester);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
