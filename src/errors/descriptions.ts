// Every error an answer reports, described once: its status, OpenAI type and code, message, param,
// extra fields and headers. The API renders a description as OpenAI's JSON (src/api/error-json.ts),
// the pages as a page or a line of text; domain code only throws its named errors.
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Config } from '../config.ts';
import { creditsExactGroupedText, creditsJsonNumber, groupedCountText } from '../money-text.ts';
import { CardNotRemovedError, PackageNotFoundError, PaymentProviderError, PaymentsOffError, PurchaseNotFoundError, WebhookSignatureError } from '../billing/errors.ts';
import { BudgetExceededError } from '../caps/caps.ts';
import { TooManyInFlightError } from '../caps/in-flight.ts';
import { CallAbortedError, CallNotRecordedError, InvalidRequestError, ModelNotAllowedError, OutOfCreditsError, ShuttingDownError, UpstreamFailure, type OutOfCreditsDetails } from '../gateway/errors.ts';
import { AccountDisabledError, ApiKeyRefusedError } from '../keys/keys.ts';
import { PromoCodeRefusedError, type PromoRefusal } from '../promo/codes.ts';
import { ApiKeyExpiredError, IpNotAllowedError, KeyRateLimitedError, lastDayOf } from '../keys/controls.ts';

/** nginx's "client closed request": only logs see it. Not in Hono's list of statuses. */
const CLIENT_CLOSED_REQUEST = 499 as ContentfulStatusCode;

export interface ErrorDescription {
  status: ContentfulStatusCode;
  /** OpenAI's error type: invalid_request_error, insufficient_credits, rate_limit_error, server_error, … */
  type: string;
  code: string | null;
  message: string;
  /** The request field at fault, if one is. */
  param: string | null;
  /** Fields written after the four (requiredCredits, scope, topUpUrl, …), in this order. */
  extra: Readonly<Record<string, unknown>>;
  /** Headers the answer carries, such as Retry-After. */
  headers: Record<string, string>;
}

/** Shared by descriptions with no extra fields or headers; never written to. */
const NONE: Record<string, never> = Object.freeze({}) as Record<string, never>;

function described(status: ContentfulStatusCode, type: string, code: string | null, message: string, param: string | null = null, extra: Record<string, unknown> = NONE, headers: Record<string, string> = NONE): ErrorDescription {
  return { status, type, code, message, param, extra, headers };
}

/** "requested up to 1,000 output tokens; the available balance covers 312", and what to do about it. */
export function outOfCreditsMessage(details: OutOfCreditsDetails): string {
  const held = details.heldMc > 0 ? `; ${creditsExactGroupedText(details.heldMc)} credits are held by calls in flight` : '';
  if (details.requestedOutputTokens === 0) {
    // A call that writes no output (embeddings): only its input is held.
    return `Not enough credits: the input (${groupedCountText(details.holdInputTokens)} tokens with the hold's margin) needs ${creditsExactGroupedText(details.requiredMc)} credits, and ${creditsExactGroupedText(details.availableMc)} are available${held}. Send less input or top up.`;
  }
  const each = details.choices > 1 ? ` for each of ${details.choices} choices` : '';
  const covers = details.promptNotCovered
    ? `the available balance (${creditsExactGroupedText(details.availableMc)} credits) does not cover even the prompt (${groupedCountText(details.holdInputTokens)} input tokens with the hold's margin)`
    : `the available balance covers ${groupedCountText(details.maxAffordableOutputTokens)}${details.choices > 1 ? ' each' : ''}`;
  return `Not enough credits: requested up to ${groupedCountText(details.requestedOutputTokens)} output tokens${each}; ${covers}. This call needs ${creditsExactGroupedText(details.requiredMc)} credits, ${creditsExactGroupedText(details.availableMc)} are available${held}. Lower ${details.limitField ?? 'the output limit'} or top up.`;
}

function outOfCredits(details: OutOfCreditsDetails, publicUrl: string): ErrorDescription {
  return described(402, 'insufficient_credits', 'insufficient_credits', outOfCreditsMessage(details), null, {
    requiredCredits: creditsJsonNumber(details.requiredMc),
    currentCredits: creditsJsonNumber(details.availableMc),
    requiredMillicredits: details.requiredMc,
    currentMillicredits: details.availableMc,
    heldCredits: creditsJsonNumber(details.heldMc),
    maxAffordableOutputTokens: details.maxAffordableOutputTokens,
    topUpUrl: `${publicUrl}/credits#packages`,
  });
}

const CAP_WORDS = { user: 'your monthly cap', model: 'your monthly cap for this model', key: "this API key's monthly limit" } as const;

/** Where the refused cap is changed: a key's limit on the keys page, the others in billing settings. */
function raiseWhere(scope: keyof typeof CAP_WORDS, publicUrl: string): string {
  return scope === 'key' ? `raise the key's limit on the API keys page (${publicUrl}/keys)` : `raise the cap in billing settings (${publicUrl}/settings/billing)`;
}

/** 402 budget_exceeded: which cap, what it allows, what was spent (settled + held this UTC month), what the call needs. */
function budgetExceeded(error: BudgetExceededError, publicUrl: string): ErrorDescription {
  const { cap, requiredMc } = error;
  const leftMc = Math.max(0, cap.capMc - cap.spentMc);
  // A call that writes no output (embeddings) has no output limit to lower.
  const lower = error.limitField === null ? 'Send less input' : `Lower ${error.limitField}`;
  return described(
    402,
    'insufficient_credits',
    'budget_exceeded',
    `This call would pass ${CAP_WORDS[cap.scope]}: ${creditsExactGroupedText(cap.spentMc)} of ${creditsExactGroupedText(cap.capMc)} credits are spent or held this month, ${creditsExactGroupedText(leftMc)} are left and the call needs ${creditsExactGroupedText(requiredMc)}. ${lower}, or ${raiseWhere(cap.scope, publicUrl)}.`,
    null,
    {
      scope: cap.scope,
      ...(cap.scope === 'model' ? { model: cap.ref } : {}),
      ...(cap.scope === 'key' ? { key: cap.ref } : {}),
      capCredits: creditsJsonNumber(cap.capMc),
      spentCredits: creditsJsonNumber(cap.spentMc),
      requiredCredits: creditsJsonNumber(requiredMc),
      capMillicredits: cap.capMc,
      spentMillicredits: cap.spentMc,
      requiredMillicredits: requiredMc,
    },
  );
}

/** 429 too_many_calls_in_flight: which limit (the key's or the user's, with `scope`) and how many calls it allows. */
function tooManyInFlight(error: TooManyInFlightError): ErrorDescription {
  const message =
    error.scope === 'key'
      ? `This API key already has ${error.limit} calls in flight, its limit. Retry when one has finished, or raise the limit on the API keys page.`
      : `This account already has ${error.limit} calls in flight, the limit per user (over all its API keys and the playground). Retry when one has finished.`;
  return described(429, 'rate_limit_error', 'too_many_calls_in_flight', message, null, { scope: error.scope, limit: error.limit }, { 'retry-after': '1' });
}

/** What the caller is told when the upstream failed; never the upstream's words about the operator's key. */
function upstreamFailure(failure: UpstreamFailure): ErrorDescription {
  switch (failure.kind) {
    case 'auth':
      return described(502, 'upstream_error', 'upstream_auth_error', 'The model provider refused this server’s credentials. Nothing was charged; the operator needs to check the upstream key.');
    case 'rate_limited': {
      const seconds = failure.retryAfterSeconds ?? 1;
      return described(429, 'rate_limit_error', 'upstream_rate_limited', `The model provider is rate limiting this server. Nothing was charged; retry after ${seconds} s.`, null, NONE, { 'retry-after': String(seconds) });
    }
    case 'rejected': {
      const upstream = failure.upstreamError!;
      const status = failure.upstreamStatus === 404 ? 404 : failure.upstreamStatus === 422 ? 422 : 400;
      return described(status, upstream.type ?? 'invalid_request_error', upstream.code, upstream.message, upstream.param);
    }
    case 'timeout':
      return described(504, 'upstream_error', 'upstream_timeout', 'The model provider did not answer in time. Nothing was charged for this call unless part of an answer had arrived.');
    case 'unreachable':
      return described(502, 'upstream_error', 'upstream_unavailable', 'The model provider could not be reached. Nothing was charged.');
    case 'broken':
      return described(502, 'upstream_error', 'upstream_connection_lost', 'The connection to the model provider broke during the answer. Only the part received was charged.');
    case 'server':
      return described(502, 'upstream_error', 'upstream_error', `The model provider failed (status ${failure.upstreamStatus}). Nothing was charged.`);
    case 'failed':
      return described(502, 'upstream_error', 'upstream_failed', 'The model provider reported that the answer failed. Nothing was charged unless part of an answer had arrived.');
  }
}

/** 403 model_not_allowed: the model asked for, and the ones the key may call. */
function modelNotAllowed(error: ModelNotAllowedError): ErrorDescription {
  return described(
    403,
    'permission_error',
    'model_not_allowed',
    `This API key may not call the model '${error.model}'. It may call: ${error.allowedModels.join(', ')}. Change its models on the API keys page. Nothing was charged.`,
    'model',
    { allowedModels: error.allowedModels },
  );
}

/** 429 rate_limited: the key's requests per minute, and when the next one is let through. */
function keyRateLimited(error: KeyRateLimitedError): ErrorDescription {
  const seconds = Math.max(1, error.retryAfterSeconds);
  return described(
    429,
    'rate_limit_error',
    'rate_limited',
    `This API key may make ${groupedCountText(error.requestsPerMinute)} requests a minute; retry in ${seconds} s, or raise its limit on the API keys page. Nothing was charged.`,
    null,
    { scope: 'key', limit: error.requestsPerMinute },
    { 'retry-after': String(seconds) },
  );
}

const RESTARTING = { 'retry-after': '5' };

function callAborted(error: CallAbortedError): ErrorDescription {
  if (error.reason === 'client') {
    // Nobody is listening any more; the status only shows in logs.
    return described(CLIENT_CLOSED_REQUEST, 'invalid_request_error', 'client_closed_request', 'The client closed the request.');
  }
  const charged = error.midStream ? 'what was received' : 'its input';
  return described(503, 'server_error', 'server_shutting_down', `The server restarted during this call; it was cut off and charged for ${charged}.`, null, NONE, RESTARTING);
}

/** A domain error (or a refused cross-site form) as an answer; null for errors that are bugs, which answer INTERNAL_ERROR. */
/** A refused promo code: 400 when it is not one of ours, 422 when it is but grants nothing now. Nothing was credited. */
const PROMO_REFUSALS: Record<PromoRefusal, [400 | 422, string]> = {
  malformed: [400, 'That is not a promo code: a code is 16 letters and digits, such as ABCD-EFGH-JKMN-PQRS.'],
  unknown: [400, 'There is no such promo code. Check it for typos.'],
  expired: [422, 'This promo code has expired.'],
  used_up: [422, 'This promo code has been used up.'],
  already_redeemed: [422, 'You have already redeemed this promo code.'],
};

export function describeError(error: unknown, config: Pick<Config, 'publicUrl'>): ErrorDescription | null {
  if (error instanceof PromoCodeRefusedError) {
    const [status, message] = PROMO_REFUSALS[error.reason];
    return described(status, 'invalid_request_error', `promo_${error.reason}`, message, 'code');
  }
  if (error instanceof InvalidRequestError) return described(400, 'invalid_request_error', error.code, error.message, error.param);
  if (error instanceof OutOfCreditsError) return outOfCredits(error.details, config.publicUrl);
  if (error instanceof BudgetExceededError) return budgetExceeded(error, config.publicUrl);
  if (error instanceof TooManyInFlightError) return tooManyInFlight(error);
  if (error instanceof UpstreamFailure) return upstreamFailure(error);
  if (error instanceof ShuttingDownError) return described(503, 'server_error', 'server_shutting_down', 'The server is restarting and takes no new calls; retry in a few seconds.', null, NONE, RESTARTING);
  if (error instanceof CallAbortedError) return callAborted(error);
  if (error instanceof CallNotRecordedError) return described(500, 'server_error', 'internal_error', 'The call could not be recorded. Please try again.');
  if (error instanceof ModelNotAllowedError) return modelNotAllowed(error);
  if (error instanceof KeyRateLimitedError) return keyRateLimited(error);
  if (error instanceof ApiKeyExpiredError) {
    return described(401, 'invalid_request_error', 'key_expired', `This API key expired at the end of ${lastDayOf(error.expiresAtMs)} (UTC). Extend it or create a new key on the API keys page.`);
  }
  if (error instanceof IpNotAllowedError) {
    return described(403, 'permission_error', 'ip_not_allowed', `This API key may not be used from the address ${error.address}. Its allowed addresses are set on the API keys page.`);
  }
  if (error instanceof AccountDisabledError) {
    return described(403, 'permission_error', 'account_disabled', 'This account is disabled by the operator of this site, so its API keys make no calls. Nothing was charged. Ask the operator to enable it again.');
  }
  if (error instanceof ApiKeyRefusedError) {
    const message = error.keySent ? 'Incorrect or revoked API key. Create a key on the API keys page.' : 'Missing API key: send "Authorization: Bearer <key>".';
    return described(401, 'invalid_request_error', 'invalid_api_key', message);
  }
  if (error instanceof PaymentsOffError) return described(404, 'invalid_request_error', 'payments_off', 'This site does not sell credits: they are granted by its operator. Ask them if you need more.');
  if (error instanceof PackageNotFoundError) {
    const which = error.packageId ? `There is no package "${error.packageId}" on sale.` : 'Choose a package to buy.';
    return described(400, 'invalid_request_error', 'package_not_found', `${which} Nothing was charged.`, 'package');
  }
  if (error instanceof PaymentProviderError) {
    return described(502, 'server_error', 'payment_provider_unavailable', 'The payment provider could not be reached, so checkout did not start and nothing was charged. Please try again in a moment.');
  }
  if (error instanceof CardNotRemovedError) {
    return described(502, 'server_error', 'payment_provider_unavailable', 'The payment provider could not be reached, so the card was not removed and auto-recharge is unchanged. Please try again in a moment.');
  }
  if (error instanceof PurchaseNotFoundError) return described(404, 'invalid_request_error', 'purchase_not_found', 'There is no such purchase on your account.');
  if (error instanceof WebhookSignatureError) return described(400, 'invalid_request_error', 'invalid_signature', 'The Stripe signature did not verify.');
  // hono/csrf refuses a form from another origin with a 403 HTTPException.
  if (error instanceof HTTPException && error.status === 403) {
    return described(403, 'invalid_request_error', 'cross_site_form', 'This form was sent from another site, so it was refused. Open the page again and resend it.');
  }
  return null;
}

/** What answers an error that is a bug: only its name and message reach the log. */
export const INTERNAL_ERROR = described(500, 'server_error', 'internal_error', 'Something went wrong on our side. Please try again.');

export const INVALID_JSON = described(400, 'invalid_request_error', 'invalid_json', 'The request body is not valid JSON.');

export function unknownRoute(method: string, path: string): ErrorDescription {
  return described(404, 'invalid_request_error', 'not_found', `Unknown route ${method} ${path}`);
}

/** `limitText`: "4 MB" (src/web/body-limits.ts). */
export function requestTooLarge(limitText: string): ErrorDescription {
  return described(413, 'invalid_request_error', 'request_too_large', `The request body is too large: the API takes at most ${limitText}.`);
}

export function usageNotFound(requestId: string): ErrorDescription {
  return described(404, 'invalid_request_error', 'not_found', `No call with request id '${requestId}' on this account.`, 'requestId');
}

/** A query parameter of a GET (the usage API's filters) that is not valid; `message` names it and says what it takes. */
export function invalidQueryParameter(param: string, message: string): ErrorDescription {
  return described(400, 'invalid_request_error', 'invalid_parameter', message, param);
}
