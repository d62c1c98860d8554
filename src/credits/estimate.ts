// The cost estimator: a pasted prompt counted with the real tokenizer, priced at the live rate.
import type { RoundingMode } from '../config.ts';
import type { Rate } from '../db/schema.ts';
import { countChatInputTokens, holdInputTokens } from '../gateway/tokens.ts';
import { costMc } from '../pricing/cost.ts';
import { holdAmountMc, MIN_AFFORDABLE_OUTPUT_TOKENS } from '../pricing/output-limit.ts';
import { groupedCountText } from '../money-text.ts';

export interface Estimate {
  inputTokens: number;
  outputTokens: number;
  costMc: number;
  /** How many such requests the gateway would run one after another on the available balance; null when the estimate is free. */
  affordableRequests: number | null;
}

export const MAX_ESTIMATE_OUTPUT_TOKENS = 1_000_000;

/** The estimator form as typed (the plain form is refilled with it). */
export interface EstimateForm {
  text: string;
  model: string;
  outputTokens: string;
}

/** Checks the form against the current rate card; errors are keyed by the form's field names. */
export function parseEstimateForm(values: EstimateForm, rates: Rate[]): { ok: true; rate: Rate; outputTokens: number } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const rate = rates.find((r) => r.model === values.model);
  if (!rate) errors.model = 'Choose a model from the rate card.';
  const outputTokens = values.outputTokens === '' ? 0 : /^\d{1,7}$/.test(values.outputTokens) ? Number(values.outputTokens) : NaN;
  if (!(outputTokens >= 0 && outputTokens <= MAX_ESTIMATE_OUTPUT_TOKENS)) errors.output_tokens = `Expected output tokens must be a whole number from 0 to ${groupedCountText(MAX_ESTIMATE_OUTPUT_TOKENS)}.`;
  if (!rate || Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, rate, outputTokens };
}

/** The text is counted as one user message, framing included, as the gateway would count it. */
export async function estimateRequest(text: string, outputTokens: number, rate: Rate, mode: RoundingMode, availableMc: number): Promise<Estimate> {
  const inputTokens = await countChatInputTokens({ messages: [{ role: 'user', content: text }] });
  const cost = costMc({ inputTokens, cachedInputTokens: 0, outputTokens }, rate, mode);
  return {
    inputTokens,
    outputTokens,
    costMc: cost,
    affordableRequests: cost === 0 ? null : affordableRequests(availableMc, cost, requestHoldMc(rate, mode, inputTokens, outputTokens)),
  };
}

/**
 * What the gateway holds before such a request runs: its input with the hold's margin, and its
 * output limit — the expected output sent as max_tokens, or, with none expected, the 256 tokens the
 * smallest chat call must afford (an embedding writes none).
 */
function requestHoldMc(rate: Rate, mode: RoundingMode, inputTokens: number, outputTokens: number): number {
  const heldOutputTokens = rate.kind === 'embeddings' ? 0 : outputTokens > 0 ? outputTokens : MIN_AFFORDABLE_OUTPUT_TOKENS;
  return holdAmountMc(rate, mode, holdInputTokens(inputTokens), heldOutputTokens);
}

/**
 * Requests run one after another: each is admitted while the balance still covers its hold, then
 * charged its cost. So the last one needs its whole hold, not its cost: dividing the balance by the
 * cost would promise a call the gateway refuses.
 */
function affordableRequests(availableMc: number, costMc: number, holdMc: number): number {
  if (availableMc < holdMc) return 0;
  return Math.floor((availableMc - holdMc) / costMc) + 1;
}
