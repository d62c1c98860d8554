// POST /v1/chat/completions: read the JSON body, run the metered call, answer JSON or server-sent
// events. Refusals and failures are thrown to the /v1 app's onError (src/api/app.ts).
import { Hono } from 'hono';
import type { AppContext } from '../context.ts';
import { INVALID_JSON } from '../errors/descriptions.ts';
import { newRequestId } from '../gateway/request-id.ts';
import { SSE_HEADERS } from '../gateway/openai-wire.ts';
import { creditsExactText } from '../money-text.ts';
import { clientGoneSignal } from '../web/client-gone.ts';
import type { AppEnv } from '../web/env.ts';
import { errorJson } from './error-json.ts';
import { requireApiKey } from './key-auth.ts';
import { chatCompletionFrames, sseBody } from './sse.ts';

export function chatCompletionsRoutes(ctx: AppContext) {
  const app = new Hono<AppEnv>();
  const frames = chatCompletionFrames(ctx.config);

  app.post('/chat/completions', requireApiKey(ctx), async (c) => {
    const requestId = newRequestId();
    c.header('x-request-id', requestId);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return errorJson(c, INVALID_JSON);
    }
    const result = await ctx.gateway.call({ userId: c.get('user')!.id, apiKeyId: c.get('apiKey')!.id }, body, { requestId, clientSignal: clientGoneSignal(c) });
    if (result.cappedOutputTokens !== null) c.header('x-max-tokens-capped', String(result.cappedOutputTokens));
    if (result.kind === 'stream') {
      // Proxies must pass SSE through unbuffered and uncompressed.
      return c.body(sseBody(result, frames), 200, { ...SSE_HEADERS, 'x-accel-buffering': 'no' });
    }
    c.header('x-credits-charged', creditsExactText(result.chargedMc));
    c.header('x-credits-balance', creditsExactText(result.balanceMc));
    return c.json(result.completion);
  });

  return app;
}
