// When the client of a request goes away: the signal a metered call stops on (src/gateway/gateway.ts, CallOptions).
import type { ServerResponse } from 'node:http';
import type { Context } from 'hono';
import type { AppEnv } from './env.ts';

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
