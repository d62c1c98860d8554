// How many output tokens a call may ask for: the one function behind the gateway's output limit,
// its 402, and the Credits tab's out-of-credits state (README, "The API: metered chat completions").
import type { RoundingMode } from '../config.ts';
import type { Rate } from '../db/schema.ts';
import { affordableOutputTokens, costMc, type AppliedRates } from './cost.ts';
import { holdInputTokens } from './margin.ts';

/** Below this many affordable output tokens a call without max_tokens is refused. */
export const MIN_AFFORDABLE_OUTPUT_TOKENS = 256;

/** The prompt the out-of-credits rule imagines: 1 token, plus the hold's margin (17). */
export const SMALLEST_PROMPT_HOLD_TOKENS = holdInputTokens(1);

/** `Cap`: whatever the caller names a cap by (the gateway: caps/caps.ts's CapUse); pricing only carries it. */
export interface Budget<Cap = unknown> {
  /** What this budget still allows, in millicredits: the available balance, or a cap's remainder. */
  remainingMc: number;
  /** The cap this budget is what is left of; null for the available balance. */
  cap: Cap | null;
}

export interface LimitRequest<Cap = unknown> {
  rates: AppliedRates;
  mode: RoundingMode;
  /** Input tokens the hold reserves (counted + margin). */
  holdInputTokens: number;
  /** max_tokens / max_completion_tokens from the request, if given. */
  requestedOutputTokens: number | null;
  /** The model's max_output_tokens on the rate card. */
  modelMaxOutputTokens: number;
  /** n > 1 multiplies the output hold. */
  choices: number;
  budgets: Budget<Cap>[];
}

export type LimitDecision<Cap = unknown> =
  | { ok: true; outputTokens: number; holdMc: number; capped: boolean }
  | { ok: false; budget: Budget<Cap>; requiredMc: number; affordableOutputTokens: number; requestedOutputTokens: number };

/** A refusal: the budget that refused (its cap, or null for the balance) and what the call needed. */
export type LimitRefusal<Cap = unknown> = Extract<LimitDecision<Cap>, { ok: false }>;

/** The hold for a call: input at the uncached rate plus `outputTokens` for each of `choices`. */
export function holdAmountMc(rates: AppliedRates, mode: RoundingMode, holdInputTokens: number, outputTokens: number, choices = 1): number {
  return costMc({ inputTokens: holdInputTokens, cachedInputTokens: 0, outputTokens: outputTokens * choices }, rates, mode);
}

/**
 * The output tokens `budget` affords, each of `choices` alike, or just `wanted` when it affords
 * that many: a budget that covers the call needs no search (the common case; the search costs
 * ≈ 40 BigInt costings on a large balance), and the decision only compares the count with `wanted`.
 */
function affordable<Cap>(request: LimitRequest<Cap>, budget: Budget<Cap>, wanted: number): number {
  if (holdAmountMc(request.rates, request.mode, request.holdInputTokens, wanted, request.choices) <= budget.remainingMc) return wanted;
  return Math.floor(affordableOutputTokens(budget.remainingMc, request.holdInputTokens, request.rates, request.mode) / request.choices);
}

/** Whether `budget` falls short of a call asking for exactly `wanted` output tokens, which affords `fits`. */
function shortOfRequested<Cap>(request: LimitRequest<Cap>, budget: Budget<Cap>, wanted: number, fits: number): boolean {
  if (fits < wanted) return true;
  // A call that writes no output (embeddings) affords its 0 even when the budget can't pay its
  // input: that is asked directly.
  return wanted === 0 && holdAmountMc(request.rates, request.mode, request.holdInputTokens, 0) > budget.remainingMc;
}

/**
 * With max_tokens given, that is the limit, and any budget that can't cover it refuses (0 for a
 * call that writes no output: only its input is held). Without it, the limit is the smallest of the
 * model's maximum and what every budget affords, and fewer than 256 affordable tokens is a refusal.
 */
export function decideOutputLimit<Cap>(request: LimitRequest<Cap>): LimitDecision<Cap> {
  const wanted = request.requestedOutputTokens ?? request.modelMaxOutputTokens;
  let outputTokens = wanted;
  for (const budget of request.budgets) {
    const fits = affordable(request, budget, wanted);
    if (request.requestedOutputTokens !== null ? shortOfRequested(request, budget, wanted, fits) : fits < Math.min(wanted, MIN_AFFORDABLE_OUTPUT_TOKENS)) {
      const requestedOutputTokens = request.requestedOutputTokens ?? Math.min(wanted, MIN_AFFORDABLE_OUTPUT_TOKENS);
      return {
        ok: false,
        budget,
        requiredMc: holdAmountMc(request.rates, request.mode, request.holdInputTokens, requestedOutputTokens, request.choices),
        affordableOutputTokens: fits,
        requestedOutputTokens,
      };
    }
    outputTokens = Math.min(outputTokens, fits);
  }
  return {
    ok: true,
    outputTokens,
    holdMc: holdAmountMc(request.rates, request.mode, request.holdInputTokens, outputTokens, request.choices),
    capped: request.requestedOutputTokens === null && outputTokens < request.modelMaxOutputTokens,
  };
}

/**
 * The Credits tab's out-of-credits state: the available balance can't pay for the smallest call
 * the gateway would accept (a 1-token prompt and 256 output tokens) on the cheapest chat model.
 * Embedding models answer no prompt (and write no output), so they never count here, whatever rates
 * the caller passes.
 */
export function isOutOfCredits(availableMc: number, rates: Rate[], mode: RoundingMode): boolean {
  return !rates.some(
    (rate) =>
      rate.kind === 'chat' &&
      decideOutputLimit({
        rates: rate,
        mode,
        holdInputTokens: SMALLEST_PROMPT_HOLD_TOKENS,
        requestedOutputTokens: null,
        modelMaxOutputTokens: rate.max_output_tokens,
        choices: 1,
        budgets: [{ remainingMc: availableMc, cap: null }],
      }).ok,
  );
}
