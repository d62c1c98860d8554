// POST /v1/chat/completions: a metered chat completion, answered as JSON or server-sent events (metered-route.ts).
import { Hono } from 'hono';
import type { AppContext } from '../context.ts';
import type { AppEnv } from '../web/env.ts';
import { requireApiKey } from './key-auth.ts';
import { meteredCallHandler } from './metered-route.ts';
import { chatCompletionFrames } from './sse.ts';

export function chatCompletionsRoutes(ctx: AppContext) {
  const app = new Hono<AppEnv>();
  const frames = chatCompletionFrames(ctx.config);
  app.post('/chat/completions', requireApiKey(ctx), meteredCallHandler((caller, body, options) => ctx.gateway.call(caller, body, options), () => frames));
  return app;
}
