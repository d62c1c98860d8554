// Who calls /v1: a valid, unrevoked Bearer API key used within its controls (expiry, addresses,
// requests per minute), or a 401, 403 or 429 in OpenAI's shape. The CSV exports take
// one too, from a script, beside a signed-in browser.
import type { Context, MiddlewareHandler } from 'hono';
import type { AppContext } from '../context.ts';
import { describeError } from '../errors/descriptions.ts';
import { ApiKeyRefusedError, authenticateApiKey, type KeyCaller } from '../keys/keys.ts';
import { clientIp } from '../web/client-ip.ts';
import type { AppEnv } from '../web/env.ts';
import { redirectTo } from '../web/render.tsx';
import { errorJson } from './error-json.ts';

type KeyAuthContext = Pick<AppContext, 'config' | 'db' | 'clock'>;

export function bearerToken(c: Context): string | null {
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

/** /v1: the key's owner and the key, or 401 (answered here, as OpenAI's JSON, for the CSV exports too). */
export function requireApiKey(ctx: KeyAuthContext): MiddlewareHandler<AppEnv> {
  const { config, db, clock } = ctx;
  return async (c, next) => {
    const token = bearerToken(c);
    let found: KeyCaller | null;
    try {
      found = token ? await authenticateApiKey(db, clock, token, clientIp(c, config.trustProxyHops)) : null;
    } catch (error) {
      // Expired, from an address it may not be used from, or over its requests per minute.
      const refusal = describeError(error, config);
      if (!refusal) throw error;
      return errorJson(c, refusal);
    }
    if (!found) return errorJson(c, describeError(new ApiKeyRefusedError(token !== null), config)!);
    c.set('user', found.user);
    c.set('apiKey', found.apiKey);
    await next();
  };
}

/** CSV exports: a signed-in browser or a script with a Bearer key. */
export function requireUserOrApiKey(ctx: KeyAuthContext): MiddlewareHandler<AppEnv> {
  const keyCheck = requireApiKey(ctx);
  return async (c, next) => {
    if (c.get('user')) return next();
    if (bearerToken(c)) return keyCheck(c, next);
    return redirectTo(c, '/login');
  };
}
