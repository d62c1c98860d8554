// The pages' session middleware: who is signed in, from the session cookie (renewed when half its life
// has passed, cleared when it is no longer valid). /v1 and the webhooks never read it.
import type { MiddlewareHandler } from 'hono';
import type { AppContext } from '../context.ts';
import { validateSessionToken } from '../auth/sessions.ts';
import type { AppEnv } from '../web/env.ts';
import { clearSessionCookie, readSessionCookie, writeSessionCookie } from '../web/session-cookie.ts';

export function loadSession(ctx: Pick<AppContext, 'config' | 'db' | 'clock'>): MiddlewareHandler<AppEnv> {
  const { config, db, clock } = ctx;
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
