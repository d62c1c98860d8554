// Who is calling: the session cookie for pages, a Bearer API key for /v1 and the CSV exports.
import type { Context, MiddlewareHandler } from 'hono';
import type { Config } from '../config.ts';
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import { validateSessionToken } from '../auth/sessions.ts';
import { authenticateApiKey } from '../keys/keys.ts';
import { errorBody } from '../gateway/openai-wire.ts';
import type { AppEnv } from './env.ts';
import { redirectTo } from './render.tsx';
import { clearSessionCookie, readSessionCookie, writeSessionCookie } from './session-cookie.ts';

export function loadSession(config: Config, db: DB, clock: Clock): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('user', null);
    c.set('session', null);
    c.set('apiKey', null);
    const token = readSessionCookie(c, config);
    if (token) {
      const validated = await validateSessionToken(db, clock, token);
      if (validated) {
        c.set('user', validated.user);
        c.set('session', validated.session);
        if (validated.renewed) writeSessionCookie(c, config, token, validated.session.expires_at_ms);
      } else {
        clearSessionCookie(c, config);
      }
    }
    await next();
  };
}

/** Pages: a signed-out request is sent to the sign-in page. */
export const requireUser: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!c.get('user')) return redirectTo(c, '/login');
  await next();
};

export function bearerToken(c: Context): string | null {
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

export function openAiError(c: Context, status: 400 | 401 | 402 | 403 | 404 | 429 | 500 | 502 | 504, message: string, code: string | null, type = 'invalid_request_error', param: string | null = null, extra: Record<string, unknown> = {}) {
  return c.json(errorBody(message, type, code, param, extra), status);
}

/** /v1: a valid, unrevoked key or 401 in OpenAI's error shape. */
export function requireApiKey(db: DB, clock: Clock): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearerToken(c);
    const found = token ? await authenticateApiKey(db, clock, token) : null;
    if (!found) {
      return openAiError(c, 401, token ? 'Incorrect or revoked API key. Create a key on the API keys page.' : 'Missing API key: send "Authorization: Bearer <key>".', 'invalid_api_key');
    }
    c.set('user', found.user);
    c.set('apiKey', found.apiKey);
    await next();
  };
}

/** CSV exports: a signed-in browser or a script with a Bearer key. */
export function requireUserOrApiKey(db: DB, clock: Clock): MiddlewareHandler<AppEnv> {
  const keyCheck = requireApiKey(db, clock);
  return async (c, next) => {
    if (c.get('user')) return next();
    if (bearerToken(c)) return keyCheck(c, next);
    return redirectTo(c, '/login');
  };
}
