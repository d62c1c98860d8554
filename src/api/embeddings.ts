// POST /v1/embeddings: a metered embeddings call, answered as JSON (metered-route.ts); embeddings are never streamed.
import { Hono } from 'hono';
import type { AppContext } from '../context.ts';
import type { AppEnv } from '../web/env.ts';
import { requireApiKey } from './key-auth.ts';
import { meteredCallHandler } from './metered-route.ts';

export function embeddingsRoutes(ctx: AppContext) {
  const app = new Hono<AppEnv>();
  app.post('/embeddings', requireApiKey(ctx), meteredCallHandler((caller, body, options) => ctx.gateway.embed(caller, body, options), null));
  return app;
}
