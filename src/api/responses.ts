// POST /v1/responses: a metered Responses call, answered as JSON or as the Responses API's
// server-sent events (metered-route.ts, sse.ts).
import { Hono } from 'hono';
import type { AppContext } from '../context.ts';
import type { AppEnv } from '../web/env.ts';
import { requireApiKey } from './key-auth.ts';
import { meteredCallHandler } from './metered-route.ts';
import { responsesFrames } from './sse.ts';

export function responsesRoutes(ctx: AppContext) {
  const app = new Hono<AppEnv>();
  app.post('/responses', requireApiKey(ctx), meteredCallHandler((caller, body, options) => ctx.gateway.responses(caller, body, options), () => responsesFrames(ctx.config)));
  return app;
}
