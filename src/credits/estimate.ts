// The cost estimator: a pasted prompt counted with the real tokenizer, priced at the live rate.
import type { RoundingMode } from '../config.ts';
import type { Rate } from '../db/schema.ts';
import { countChatInputTokens } from '../gateway/tokens.ts';
import { costMc } from '../pricing/cost.ts';

export interface Estimate {
  inputTokens: number;
  outputTokens: number;
  costMc: number;
  /** How many such requests the available balance covers; null when the estimate is free. */
  affordableRequests: number | null;
}

export const MAX_ESTIMATE_TEXT_LENGTH = 200_000;
export const MAX_ESTIMATE_OUTPUT_TOKENS = 1_000_000;

/** The text is counted as one user message, framing included, as the gateway would count it. */
export function estimateRequest(text: string, outputTokens: number, rate: Rate, mode: RoundingMode, availableMc: number): Estimate {
  const inputTokens = countChatInputTokens({ messages: [{ role: 'user', content: text }] });
  const cost = costMc({ inputTokens, cachedInputTokens: 0, outputTokens }, rate, mode);
  return {
    inputTokens,
    outputTokens,
    costMc: cost,
    affordableRequests: cost === 0 ? null : Math.floor(Math.max(0, availableMc) / cost),
  };
}
