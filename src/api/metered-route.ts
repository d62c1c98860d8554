// A metered call's route, whatever its kind: the request id, the JSON body, the gateway's call, then
// the answer as JSON with its charge in headers, or as server-sent events (sse.ts). Refusals and
// failures are thrown to the /v1 app's onError (src/api/app.ts).
import type { Handler } from 'hono';
import type { AppContext } from '../context.ts';
import { INVALID_JSON } from '../errors/descriptions.ts';
import type { CallOptions, Caller, CompletedCall, StreamingCall } from '../gateway/gateway.ts';
import { newRequestId } from '../gateway/request-id.ts';
import { SSE_HEADERS } from '../gateway/openai-wire.ts';
import { creditsExactText } from '../money-text.ts';
import { clientGoneSignal } from '../web/client-gone.ts';
import type { AppEnv } from '../web/env.ts';
import { errorJson } from './error-json.ts';
import { sseBody, type SseFrames } from './sse.ts';

/** One call of a request kind through the gateway (Gateway.call, Gateway.responses). */
export type MeteredRun<Answer, Chunk> = (caller: Caller, body: unknown, options: CallOptions) => Promise<CompletedCall<Answer> | StreamingCall<Chunk>>;

/** The handler, behind requireApiKey; `frames` gives each stream its encoder. */
export function meteredCallHandler<Answer, Chunk>(ctx: AppContext, run: MeteredRun<Answer, Chunk>, frames: () => SseFrames<Chunk>): Handler<AppEnv> {
  return async (c) => {
    const requestId = newRequestId();
    c.header('x-request-id', requestId);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return errorJson(c, INVALID_JSON);
    }
    const result = await run({ userId: c.get('user')!.id, apiKeyId: c.get('apiKey')!.id }, body, { requestId, clientSignal: clientGoneSignal(c) });
    if (result.cappedOutputTokens !== null) c.header('x-max-tokens-capped', String(result.cappedOutputTokens));
    if (result.kind === 'stream') {
      // Proxies must pass SSE through unbuffered and uncompressed.
      return c.body(sseBody(result, frames()), 200, { ...SSE_HEADERS, 'x-accel-buffering': 'no' });
    }
    c.header('x-credits-charged', creditsExactText(result.chargedMc));
    c.header('x-credits-balance', creditsExactText(result.balanceMc));
    return c.json(result.completion as object);
  };
}
