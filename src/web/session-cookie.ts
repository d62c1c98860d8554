// The session cookie: HttpOnly, SameSite=Lax, Path=/; Secure with the __Host- prefix when PUBLIC_URL is https.
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Config } from '../config.ts';

export function sessionCookieName(config: Config): string {
  return config.publicUrl.startsWith('https://') ? '__Host-session' : 'session';
}

export function readSessionCookie(c: Context, config: Config): string | undefined {
  return getCookie(c, sessionCookieName(config));
}

export function writeSessionCookie(c: Context, config: Config, token: string, expiresAtMs: number): void {
  const secure = config.publicUrl.startsWith('https://');
  setCookie(c, sessionCookieName(config), token, { httpOnly: true, sameSite: 'Lax', path: '/', secure, expires: new Date(expiresAtMs) });
}

export function clearSessionCookie(c: Context, config: Config): void {
  const secure = config.publicUrl.startsWith('https://');
  deleteCookie(c, sessionCookieName(config), { path: '/', secure, httpOnly: true, sameSite: 'Lax' });
}
