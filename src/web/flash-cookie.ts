// What a plain form's answer must carry across its 303 (a new API key, shown once): sealed into a
// short-lived cookie (AES-256-GCM under a key derived from the database's secret), bound to the user
// and to one path, and read once. Stateless, so it works whichever process serves the GET.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Config } from '../config.ts';

const FLASH_TTL_MS = 5 * 60_000;
/** A cookie holds about 4 KB; a flash is a few hundred bytes (a key and its name). */
const FLASH_MAX_CHARS = 3_000;

interface Sealed<T> {
  userId: number;
  expiresAtMs: number;
  value: T;
}

function flashKey(secret: Buffer, name: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `tokentab flash cookie ${name}`, 32));
}

export function sealFlash<T>(secret: Buffer, name: string, sealed: Sealed<T>): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', flashKey(secret, name), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(sealed), 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64url')).join('.');
}

/** null unless this database sealed it under this name, for this user, and it has not expired. */
export function openFlash<T>(secret: Buffer, name: string, text: string, userId: number, nowMs: number): T | null {
  const parts = text.length <= FLASH_MAX_CHARS ? text.split('.') : [];
  if (parts.length !== 3) return null;
  try {
    const [iv, tag, body] = parts.map((part) => Buffer.from(part, 'base64url'));
    const decipher = createDecipheriv('aes-256-gcm', flashKey(secret, name), iv!);
    decipher.setAuthTag(tag!);
    const sealed = JSON.parse(Buffer.concat([decipher.update(body!), decipher.final()]).toString('utf8')) as Sealed<T>;
    return sealed.userId === userId && sealed.expiresAtMs > nowMs ? sealed.value : null;
  } catch {
    return null;
  }
}

const cookieOptions = (config: Config, path: string) => ({ path, httpOnly: true, sameSite: 'Strict' as const, secure: config.publicUrl.startsWith('https://') });

/** Sets the flash for the next GET of `path` by this user. */
export function writeFlash<T>(c: Context, config: Config, secret: Buffer, name: string, path: string, userId: number, nowMs: number, value: T): void {
  const sealed = sealFlash(secret, name, { userId, expiresAtMs: nowMs + FLASH_TTL_MS, value });
  setCookie(c, `flash_${name}`, sealed, { ...cookieOptions(config, path), maxAge: FLASH_TTL_MS / 1000 });
}

/** The flash, once: the cookie is cleared whatever it held. */
export function takeFlash<T>(c: Context, config: Config, secret: Buffer, name: string, path: string, userId: number, nowMs: number): T | null {
  const text = getCookie(c, `flash_${name}`);
  if (text === undefined) return null;
  deleteCookie(c, `flash_${name}`, cookieOptions(config, path));
  return openFlash<T>(secret, name, text, userId, nowMs);
}
