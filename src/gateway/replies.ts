// The one place where a metered call's errors become HTTP statuses, headers and OpenAI-shaped bodies.
import { creditsExactText, creditsJsonNumber, groupedCountText } from '../money-text.ts';
import { CallAbortedError, InvalidRequestError, OutOfCreditsError, ShuttingDownError, UpstreamFailure, type OutOfCreditsDetails } from './errors.ts';
import { errorBody, type OpenAIErrorBody } from './openai-wire.ts';
import { BudgetExceededError } from '../caps/caps.ts';
import { TooManyInFlightError } from '../caps/in-flight.ts';

export interface ErrorReply {
  status: 400 | 402 | 404 | 422 | 429 | 499 | 500 | 502 | 503 | 504;
  body: OpenAIErrorBody;
  headers: Record<string, string>;
}

/** "requested up to 1,000 output tokens; the available balance covers 312", and what to do about it. */
export function outOfCreditsMessage(details: OutOfCreditsDetails): string {
  const each = details.choices > 1 ? ` for each of ${details.choices} choices` : '';
  const covers = details.promptNotCovered
    ? `the available balance (${creditsExactText(details.availableMc)} credits) does not cover even the prompt (${groupedCountText(details.holdInputTokens)} input tokens with the hold's margin)`
    : `the available balance covers ${groupedCountText(details.maxAffordableOutputTokens)}${details.choices > 1 ? ' each' : ''}`;
  const held = details.heldMc > 0 ? `; ${creditsExactText(details.heldMc)} credits are held by calls in flight` : '';
  return `Not enough credits: requested up to ${groupedCountText(details.requestedOutputTokens)} output tokens${each}; ${covers}. This call needs ${creditsExactText(details.requiredMc)} credits, ${creditsExactText(details.availableMc)} are available${held}. Lower max_tokens or top up.`;
}

export function outOfCreditsBody(details: OutOfCreditsDetails, topUpUrl: string): OpenAIErrorBody {
  return errorBody(outOfCreditsMessage(details), 'insufficient_credits', 'insufficient_credits', null, {
    requiredCredits: creditsJsonNumber(details.requiredMc),
    currentCredits: creditsJsonNumber(details.availableMc),
    requiredMillicredits: details.requiredMc,
    currentMillicredits: details.availableMc,
    heldCredits: creditsJsonNumber(details.heldMc),
    maxAffordableOutputTokens: details.maxAffordableOutputTokens,
    topUpUrl,
  });
}

const CAP_WORDS = { user: 'your monthly cap', model: 'your monthly cap for this model', key: "this API key's monthly limit" } as const;

/** 402 budget_exceeded: which cap, what it allows, what was spent (settled + held this UTC month), what the call needs. */
export function budgetExceededBody(error: BudgetExceededError): OpenAIErrorBody {
  const { cap, requiredMc } = error;
  const leftMc = Math.max(0, cap.capMc - cap.spentMc);
  return errorBody(
    `This call would pass ${CAP_WORDS[cap.scope]}: ${creditsExactText(cap.spentMc)} of ${creditsExactText(cap.capMc)} credits are spent or held this month, ${creditsExactText(leftMc)} are left and the call needs ${creditsExactText(requiredMc)}. Lower max_tokens, or raise the cap in billing settings.`,
    'insufficient_credits',
    'budget_exceeded',
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
export function tooManyInFlightBody(error: TooManyInFlightError): OpenAIErrorBody {
  const message =
    error.scope === 'key'
      ? `This API key already has ${error.limit} calls in flight, its limit. Retry when one has finished, or raise the limit on the API keys page.`
      : `This account already has ${error.limit} calls in flight, the limit per user (over all its API keys and the playground). Retry when one has finished.`;
  return errorBody(message, 'rate_limit_error', 'too_many_calls_in_flight', null, { scope: error.scope, limit: error.limit });
}

/** What the caller is told when the upstream failed; never the upstream's words about the operator's key. */
export function upstreamFailureBody(failure: UpstreamFailure): OpenAIErrorBody {
  switch (failure.kind) {
    case 'auth':
      return errorBody('The model provider refused this server’s credentials. Nothing was charged; the operator needs to check the upstream key.', 'upstream_error', 'upstream_auth_error');
    case 'rate_limited':
      return errorBody(`The model provider is rate limiting this server. Nothing was charged; retry after ${failure.retryAfterSeconds ?? 1} s.`, 'rate_limit_error', 'upstream_rate_limited');
    case 'rejected': {
      const upstream = failure.upstreamError!;
      return errorBody(upstream.message, upstream.type ?? 'invalid_request_error', upstream.code, upstream.param);
    }
    case 'timeout':
      return errorBody('The model provider did not answer in time. Nothing was charged for this call unless part of an answer had arrived.', 'upstream_error', 'upstream_timeout');
    case 'unreachable':
      return errorBody('The model provider could not be reached. Nothing was charged.', 'upstream_error', 'upstream_unavailable');
    case 'broken':
      return errorBody('The connection to the model provider broke during the answer. Only the part received was charged.', 'upstream_error', 'upstream_connection_lost');
    case 'server':
      return errorBody(`The model provider failed (status ${failure.upstreamStatus}). Nothing was charged.`, 'upstream_error', 'upstream_error');
  }
}

function upstreamStatus(failure: UpstreamFailure): ErrorReply['status'] {
  switch (failure.kind) {
    case 'rate_limited':
      return 429;
    case 'rejected':
      return failure.upstreamStatus === 404 ? 404 : failure.upstreamStatus === 422 ? 422 : 400;
    case 'timeout':
      return 504;
    default:
      return 502;
  }
}

/** A domain error as a reply; null for errors that are bugs (the app's onError answers 500). */
export function errorReply(error: unknown, topUpUrl: string): ErrorReply | null {
  if (error instanceof InvalidRequestError) {
    return { status: 400, body: errorBody(error.message, 'invalid_request_error', error.code, error.param), headers: {} };
  }
  if (error instanceof OutOfCreditsError) return { status: 402, body: outOfCreditsBody(error.details, topUpUrl), headers: {} };
  if (error instanceof BudgetExceededError) return { status: 402, body: budgetExceededBody(error), headers: {} };
  if (error instanceof TooManyInFlightError) return { status: 429, body: tooManyInFlightBody(error), headers: { 'retry-after': '1' } };
  if (error instanceof UpstreamFailure) {
    const headers: Record<string, string> = error.kind === 'rate_limited' ? { 'retry-after': String(error.retryAfterSeconds ?? 1) } : {};
    return { status: upstreamStatus(error), body: upstreamFailureBody(error), headers };
  }
  if (error instanceof ShuttingDownError) {
    return { status: 503, body: errorBody('The server is restarting and takes no new calls; retry in a few seconds.', 'server_error', 'server_shutting_down'), headers: { 'retry-after': '5' } };
  }
  if (error instanceof CallAbortedError) {
    return error.reason === 'shutdown'
      ? { status: 503, body: errorBody('The server restarted during this call; it was cut off and charged for its input.', 'server_error', 'server_shutting_down'), headers: { 'retry-after': '5' } }
      : // Nobody is listening any more; the status only shows in logs.
        { status: 499, body: errorBody('The client closed the request.', 'invalid_request_error', 'client_closed_request'), headers: {} };
  }
  return null;
}
