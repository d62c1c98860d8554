// Pages that need a signed-in user: the session itself is read by the pages' middleware (src/pages/sessions.ts).
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './env.ts';
import { redirectTo } from './render.tsx';

/** Pages: a signed-out request is sent to the sign-in page. */
export const requireUser: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!c.get('user')) return redirectTo(c, '/login');
  await next();
};
