// POST /v1/chat/completions: read the JSON body, run the metered call, answer JSON or server-sent
// events. Refusals and failures are thrown to the /v1 app's onError (src/api/app.ts).
import { Hono } from 'hono';
import type { AppContext } from '../context.ts';
import { INVALID_JSON } from '../errors/descriptions.ts';
import { SSE_HEADERS } from '../gateway/openai-wire.ts';
import type { AppEnv } from '../web/env.ts';
import { errorJson } from './error-json.ts';
import { requireApiKey } from './key-auth.ts';
import { setChargeHeaders, startMeteredCall } from './metered-route.ts';
import { chatCompletionFrames, sseBody } from './sse.ts';

export function chatCompletionsRoutes(ctx: AppContext) {
  const app = new Hono<AppEnv>();
  const frames = chatCompletionFrames(ctx.config);

  app.post('/chat/completions', requireApiKey(ctx), async (c) => {
    const start = await startMeteredCall(c);
    if (!start) return errorJson(c, INVALID_JSON);
    const result = await ctx.gateway.call(start.caller, start.body, start.options);
    if (result.cappedOutputTokens !== null) c.header('x-max-tokens-capped', String(result.cappedOutputTokens));
    if (result.kind === 'stream') {
      // Proxies must pass SSE through unbuffered and uncompressed.
      return c.body(sseBody(result, frames), 200, { ...SSE_HEADERS, 'x-accel-buffering': 'no' });
    }
    setChargeHeaders(c, result);
    return c.json(result.completion);
  });

  return app;
}
