// POST /v1/embeddings: read the JSON body, run the metered call, answer JSON (embeddings are never
// streamed). Refusals and failures are thrown to the /v1 app's onError (src/api/app.ts).
import { Hono } from 'hono';
import type { AppContext } from '../context.ts';
import { INVALID_JSON } from '../errors/descriptions.ts';
import type { AppEnv } from '../web/env.ts';
import { errorJson } from './error-json.ts';
import { requireApiKey } from './key-auth.ts';
import { setChargeHeaders, startMeteredCall } from './metered-route.ts';

export function embeddingsRoutes(ctx: AppContext) {
  const app = new Hono<AppEnv>();

  app.post('/embeddings', requireApiKey(ctx), async (c) => {
    const start = await startMeteredCall(c);
    if (!start) return errorJson(c, INVALID_JSON);
    const result = await ctx.gateway.embed(start.caller, start.body, start.options);
    setChargeHeaders(c, result);
    return c.json(result.completion);
  });

  return app;
}
