// Password hashing: scrypt at OWASP's parameters (N=2^17, r=8, p=1) in PHC string format,
// at most two hashes at a time (each takes 128 MiB), compared in constant time.
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

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
const MAX_PARALLEL = 2;

let running = 0;
let peakRunning = 0;
const waiting: (() => void)[] = [];

/** The most hashes that ever ran at once in this process (the limit is MAX_PARALLEL): for tests. */
export function peakConcurrentHashes(): number {
  return peakRunning;
}

async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_PARALLEL) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  peakRunning = Math.max(peakRunning, running);
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  const N = 2 ** cost.ln;
  const options: ScryptOptions = { N, r: cost.r, p: cost.p, maxmem: 256 * N * cost.r + 16 * 1024 * 1024 };
  return limited(
    () =>
      new Promise((resolve, reject) =>
        scryptCallback(password.normalize('NFKC'), salt, KEY_BYTES, options, (error, key) => (error ? reject(error) : resolve(key))),
      ),
  );
}

const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

export async function hashPassword(password: string, cost: ScryptCost = productionCost): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, cost);
  return `$scrypt$ln=${cost.ln},r=${cost.r},p=${cost.p}$${b64(salt)}$${b64(key)}`;
}

const PHC = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** Checks a password against a PHC string; a malformed hash never matches. */
export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const match = PHC.exec(phc);
  if (!match) return false;
  const cost = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  const expected = Buffer.from(match[5]!, 'base64');
  const actual = await derive(password, Buffer.from(match[4]!, 'base64'), cost);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
