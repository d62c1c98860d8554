// What every metered /v1 route does around its call: names it (x-request-id, before anything can
// fail), reads the JSON body and the caller, and puts a whole answer's charge on its headers.
import type { Context } from 'hono';
import type { CallOptions, Caller } from '../gateway/gateway.ts';
import { newRequestId } from '../gateway/request-id.ts';
import { creditsExactText } from '../money-text.ts';
import { clientGoneSignal } from '../web/client-gone.ts';
import type { AppEnv } from '../web/env.ts';

export interface MeteredCallStart {
  caller: Caller;
  body: unknown;
  options: CallOptions;
}

/** The call's caller, body and options; null when the body is not JSON (the route answers INVALID_JSON). Behind requireApiKey. */
export async function startMeteredCall(c: Context<AppEnv>): Promise<MeteredCallStart | null> {
  const requestId = newRequestId();
  c.header('x-request-id', requestId);
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    return null;
  }
  return { caller: { userId: c.get('user')!.id, apiKeyId: c.get('apiKey')!.id }, body, options: { requestId, clientSignal: clientGoneSignal(c) } };
}

/** x-credits-charged and x-credits-balance (after the charge), credits with 3 decimals. */
export function setChargeHeaders(c: Context<AppEnv>, charge: { chargedMc: number; balanceMc: number }): void {
  c.header('x-credits-charged', creditsExactText(charge.chargedMc));
  c.header('x-credits-balance', creditsExactText(charge.balanceMc));
}
