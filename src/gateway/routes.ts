// POST /v1/chat/completions and GET /v1/usage/{requestId}: parse, call the gateway, write JSON or SSE.
import type { ServerResponse } from 'node:http';
import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Clock } from '../clock.ts';
import type { DB } from '../db/connect.ts';
import { creditsExactText } from '../money-text.ts';
import { requireApiKey } from '../web/auth-middleware.ts';
import type { AppEnv } from '../web/env.ts';
import { newRequestId, type Gateway } from './gateway.ts';
import { SSE_HEADERS, errorBody } from './openai-wire.ts';
import { errorReply } from './replies.ts';
import { findUsageRecord } from './usage-record.ts';

/**
 * A signal that fires when the client goes away, before the first byte or mid-stream. Under
 * @hono/node-server the response's 'close' event before it finished is the reliable sign
 * (c.req.raw.signal alone is not); elsewhere (app.request in tests) the request's signal is used.
 */
export function clientGoneSignal(c: Context<AppEnv>): AbortSignal {
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  if (!outgoing || typeof outgoing.once !== 'function') return c.req.raw.signal;
  const controller = new AbortController();
  const gone = () => {
    if (!outgoing.writableFinished) controller.abort();
  };
  if (outgoing.destroyed) gone();
  else outgoing.once('close', gone);
  return controller.signal;
}

export function gatewayRoutes(gateway: Gateway, db: DB, clock: Clock, topUpUrl: string) {
  const app = new Hono<AppEnv>();
  const auth = requireApiKey(db, clock);

  app.post('/v1/chat/completions', auth, async (c) => {
    const requestId = newRequestId();
    c.header('x-request-id', requestId);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json(errorBody('The request body is not valid JSON.', 'invalid_request_error', 'invalid_json', null), 400);
    }
    try {
      const result = await gateway.call({ userId: c.get('user')!.id, apiKeyId: c.get('apiKey')!.id }, body, { requestId, clientSignal: clientGoneSignal(c) });
      if (result.cappedOutputTokens !== null) c.header('x-max-tokens-capped', String(result.cappedOutputTokens));
      if (result.kind === 'stream') {
        // Proxies must pass SSE through unbuffered and uncompressed.
        return c.body(result.body, 200, { ...SSE_HEADERS, 'x-accel-buffering': 'no' });
      }
      c.header('x-credits-charged', creditsExactText(result.chargedMc));
      c.header('x-credits-balance', creditsExactText(result.balanceMc));
      return c.json(result.completion);
    } catch (error) {
      const reply = errorReply(error, topUpUrl);
      if (!reply) throw error;
      return c.json(reply.body, reply.status as ContentfulStatusCode, reply.headers);
    }
  });

  app.get('/v1/usage/:requestId', auth, async (c) => {
    const record = await findUsageRecord(db, c.get('user')!.id, c.req.param('requestId'));
    if (!record) {
      return c.json(errorBody(`No call with request id '${c.req.param('requestId')}' on this account.`, 'invalid_request_error', 'not_found', 'requestId'), 404);
    }
    return c.json(record);
  });

  return app;
}
