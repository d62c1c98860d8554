// A call up to its hold: parse → check the model → count the input → decide the output limit → hold
// (docs/architecture.md, How a call flows). Nothing is reserved for a request refused on the way.
import type { Hold, Rate, RateKind } from '../db/schema.ts';
import type { Trx } from '../db/transaction.ts';
import { InsufficientCreditsError } from '../ledger/errors.ts';
import { asCallLimits, type CallLimits } from '../spending-policy/call-limits.ts';
import { decideOutputLimit, holdAmountMc, type Budget, type LimitRefusal } from '../pricing/output-limit.ts';
import { holdInputTokens } from '../pricing/margin.ts';
import { currentRate } from '../pricing/rates.ts';
import { BudgetExceededError, capUses, type CapUse } from '../caps/caps.ts';
import { assertKeyHasRoom, assertUserHasRoom } from '../caps/in-flight.ts';
import { CallAbortedError, InvalidRequestError, ModelNotAllowedError, OutOfCreditsError, ShuttingDownError } from './errors.ts';
import type { Caller, MeteredCall } from './metered-call.ts';
import type { Metering } from './metering.ts';
import type { MeteredRequest, Surface } from './surface.ts';

/**
 * The budgets an output limit must fit, read inside the hold's own transaction so concurrent calls
 * cannot overshoot any of them: the available balance, and what is left of every cap that applies,
 * each carrying its cap for the refusal. Also refuses a key, or a user, that already has its limit
 * of calls in flight.
 */
async function budgets(metering: Metering, caller: Caller, model: string, limits: CallLimits, trx: Trx): Promise<Budget<CapUse>[]> {
  if (caller.apiKeyId !== null) assertKeyHasRoom(limits.keyInFlight);
  assertUserHasRoom(limits.userInFlight, metering.maxInFlightPerUser);
  const caps = await capUses(trx, { userId: caller.userId, apiKeyId: caller.apiKeyId, model }, metering.clock.now(), limits.caps);
  return [{ remainingMc: limits.availableMc, cap: null }, ...caps.map((cap) => ({ remainingMc: Math.max(0, cap.capMc - cap.spentMc), cap }))];
}

/** The body checked against the rate card: the model must be on it, and a limit asked for within its maximum. */
async function rateFor(metering: Metering, request: MeteredRequest, kind: RateKind): Promise<Rate> {
  const rate = await currentRate(metering.db, request.model);
  if (!rate) {
    throw new InvalidRequestError(`The model '${request.model}' is not on the rate card. GET /v1/models lists the models you can use.`, 'model', 'model_not_found');
  }
  if (rate.retired_at_ms !== null) {
    throw new InvalidRequestError(`The model '${request.model}' was retired by the operator of this server and takes no more calls. GET /v1/models lists the models you can use.`, 'model', 'model_retired');
  }
  if (rate.kind !== kind) {
    const where = rate.kind === 'embeddings' ? 'an embedding model: call POST /v1/embeddings with it' : 'a chat model: call POST /v1/chat/completions or /v1/responses with it';
    throw new InvalidRequestError(`The model '${request.model}' is ${where}.`, 'model', 'model_not_found');
  }
  if (request.requestedOutputTokens !== null && request.requestedOutputTokens > rate.max_output_tokens) {
    throw new InvalidRequestError(
      `'${request.limitField}' is ${request.requestedOutputTokens}, above ${rate.model}'s maximum of ${rate.max_output_tokens} output tokens.`,
      request.limitField,
    );
  }
  return rate;
}

/**
 * Parses, counts and holds; on return the call is reserved (`call.held`). Throws InvalidRequestError,
 * ModelNotAllowedError, OutOfCreditsError, BudgetExceededError, TooManyInFlightError, ShuttingDownError or CallAbortedError.
 */
export async function reserve<Request extends MeteredRequest>(
  metering: Metering,
  surface: Surface<Request, unknown, unknown>,
  caller: Caller,
  body: unknown,
  call: MeteredCall<Request>,
): Promise<void> {
  const request = surface.parse(body);
  // Before the rate card is read: a model the key may not call is refused whether or not it is on it.
  if (caller.allowedModels && !caller.allowedModels.includes(request.model)) throw new ModelNotAllowedError(request.model, caller.allowedModels);
  const rate = await rateFor(metering, request, surface.rateKind);
  const upstreams = metering.upstreams.forModel(request.model);
  if (upstreams.length === 0) {
    // On the rate card but routed nowhere by UPSTREAMS_FILE (the start warned of it): refused before anything is held.
    throw new InvalidRequestError(`The model '${request.model}' is not served by any upstream of this server. GET /v1/models lists the models you can use.`, 'model', 'model_not_found');
  }
  const { signal } = call.controller;
  // Counted in turns with other requests (seconds for a 4 MB prompt at worst; image URLs fetched
  // within their time limit): a client that leaves meanwhile stops the count.
  const countedInputTokens = await surface.countInput(request, signal, metering.images).catch((error: unknown) => {
    if (signal.aborted) return null;
    throw error;
  });
  // Stopped before anything was reserved: nothing to charge.
  if (countedInputTokens === null || signal.aborted) {
    throw call.stopReason === 'shutdown' ? new ShuttingDownError() : new CallAbortedError('client');
  }
  // A non-streamed answer is billed upstream in full whether or not anyone reads it, and aborting
  // the request does not stop the upstream from generating (and billing) it: so once the call is
  // reserved it runs to its end, bounded by the upstream deadline, and is charged what the
  // upstream reports. A stream is stopped instead, and charged for what was delivered.
  call.outlivesClient = !request.stream;

  const { roundingMode } = metering;
  const holdInput = holdInputTokens(countedInputTokens);
  const decide = (budgetsToFit: Budget<CapUse>[]) =>
    decideOutputLimit({
      rates: rate,
      mode: roundingMode,
      holdInputTokens: holdInput,
      requestedOutputTokens: request.requestedOutputTokens,
      modelMaxOutputTokens: rate.max_output_tokens,
      choices: request.choices,
      budgets: budgetsToFit,
    });
  // What the caller is told: a cap's refusal, or the available balance's.
  const refuse = (refusal: LimitRefusal<CapUse>, heldMc: number): Error => {
    const { cap, remainingMc } = refusal.budget;
    if (cap) return new BudgetExceededError(cap, refusal.requiredMc, request.limitField);
    return new OutOfCreditsError({
      requiredMc: refusal.requiredMc,
      availableMc: remainingMc,
      heldMc,
      maxAffordableOutputTokens: refusal.affordableOutputTokens,
      requestedOutputTokens: refusal.requestedOutputTokens,
      choices: request.choices,
      holdInputTokens: holdInput,
      limitField: request.limitField,
      promptNotCovered: holdAmountMc(rate, roundingMode, holdInput, 0) > remainingMc,
    });
  };
  let outputLimit = 0;
  let capped = false;
  let hold: Hold;
  try {
    hold = await metering.holds.place({
      userId: caller.userId,
      apiKeyId: caller.apiKeyId,
      requestId: call.requestId,
      rate,
      roundingMode,
      ttlMs: metering.holdTtlMs,
      // Read from memory: if this process dies, another gives the hold back once the lease lapses.
      leaseId: metering.lease?.id ?? null,
      // Decided inside the hold's transaction, on the wallet as it is there: no other call can
      // take the credits between the decision and the hold.
      amountFor: async (state, trx) => {
        const limits = asCallLimits(state);
        const decision = decide(await budgets(metering, caller, rate.model, limits, trx));
        if (!decision.ok) throw refuse(decision, limits.heldMc);
        outputLimit = decision.outputTokens;
        capped = decision.capped;
        return decision.holdMc;
      },
    });
  } catch (error) {
    if (!(error instanceof InsufficientCreditsError)) throw error;
    // Not expected: the amount was decided in the hold's own transaction, on the wallet the
    // update saw. Should it happen, it is refused as the decision refuses on that balance.
    const decision = decide([{ remainingMc: error.availableMc, cap: null }]);
    if (decision.ok) throw error;
    throw refuse(decision, error.heldMc);
  }
  call.reserved({ request, endpoint: surface.endpoint, hold, countedInputTokens, outputLimit, capped, upstreams }, metering.upstreamTimeoutMs);
}
