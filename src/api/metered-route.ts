// A metered call's route, whatever its kind: the request id (x-request-id, before anything can fail),
// the JSON body and the caller, the gateway's call, then the answer as JSON with its charge in
// headers, or as server-sent events (sse.ts). Refusals and failures are thrown to the /v1 app's
// onError (src/api/app.ts).
import type { Context, Handler } from 'hono';
import { INVALID_JSON } from '../errors/descriptions.ts';
import type { CallOptions, Caller, CompletedCall, StreamingCall } from '../gateway/gateway.ts';
import { newRequestId } from '../gateway/request-id.ts';
import { SSE_HEADERS } from '../gateway/openai-wire.ts';
import { creditsExactText } from '../money-text.ts';
import { clientGoneSignal } from '../web/client-gone.ts';
import type { AppEnv } from '../web/env.ts';
import { errorJson } from './error-json.ts';
import { sseBody, type SseFrames } from './sse.ts';

/** One call of a request kind through the gateway (Gateway.call, Gateway.responses, Gateway.embed). */
export type MeteredRun<Answer, Chunk> = (caller: Caller, body: unknown, options: CallOptions) => Promise<CompletedCall<Answer> | StreamingCall<Chunk>>;

/** x-credits-charged and x-credits-balance (after the charge), credits with 3 decimals. */
function setChargeHeaders(c: Context<AppEnv>, charge: { chargedMc: number; balanceMc: number }): void {
  c.header('x-credits-charged', creditsExactText(charge.chargedMc));
  c.header('x-credits-balance', creditsExactText(charge.balanceMc));
}

/**
 * The handler, behind requireApiKey; `frames` gives each stream its encoder (null for a kind that is
 * never streamed: embeddings).
 */
export function meteredCallHandler<Answer, Chunk>(run: MeteredRun<Answer, Chunk>, frames: (() => SseFrames<Chunk>) | null): Handler<AppEnv> {
  return async (c) => {
    const requestId = newRequestId();
    c.header('x-request-id', requestId);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return errorJson(c, INVALID_JSON);
    }
    const apiKey = c.get('apiKey')!;
    const caller = { userId: c.get('user')!.id, apiKeyId: apiKey.id, allowedModels: apiKey.allowedModels };
    const result = await run(caller, body, { requestId, clientSignal: clientGoneSignal(c) });
    if (result.cappedOutputTokens !== null) c.header('x-max-tokens-capped', String(result.cappedOutputTokens));
    if (result.kind === 'stream') {
      if (frames === null) throw new Error(`a ${c.req.path} call was streamed`);
      // Proxies must pass SSE through unbuffered and uncompressed.
      return c.body(sseBody(result, frames()), 200, { ...SSE_HEADERS, 'x-accel-buffering': 'no' });
    }
    setChargeHeaders(c, result);
    return c.json(result.completion as object);
  };
}
