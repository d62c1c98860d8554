// The cost of a request in millicredits (docs/architecture.md, Money): pure integer arithmetic, no floats.
import type { RoundingMode } from '../config.ts';

/** Millicredits per 1,000 tokens, which is the same number as microcredits per token. */
export interface AppliedRates {
  input_mc_per_1k: number;
  cached_input_mc_per_1k: number;
  output_mc_per_1k: number;
}

export interface TokenCounts {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
}

const MICRO_PER_MILLI = 1_000n;
const MICRO_PER_CREDIT = 1_000_000n;

/** a ÷ b rounded up, for whole numbers ≥ 0. */
export function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

function count(name: string, value: number): bigint {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a whole number ≥ 0, got ${value}`);
  return BigInt(value);
}

/**
 * micro = (input − cached)·rate_in + cached·rate_cached + output·rate_out, in microcredits, before
 * rounding (the usage detail shows it). BigInt, so token counts × rates never lose precision.
 */
export function costMicrocredits(tokens: TokenCounts, rates: AppliedRates): bigint {
  const input = count('inputTokens', tokens.inputTokens);
  const cached = count('cachedInputTokens', tokens.cachedInputTokens);
  const output = count('outputTokens', tokens.outputTokens);
  if (cached > input) throw new RangeError('cachedInputTokens cannot exceed inputTokens');
  return (
    (input - cached) * count('input rate', rates.input_mc_per_1k) +
    cached * count('cached input rate', rates.cached_input_mc_per_1k) +
    output * count('output rate', rates.output_mc_per_1k)
  );
}

/**
 * exact: ⌈micro / 1000⌉ mc; ceil: ⌈micro / 1,000,000⌉ whole credits, in mc. The result must fit a safe integer.
 */
export function costMc(tokens: TokenCounts, rates: AppliedRates, mode: RoundingMode): number {
  const micro = costMicrocredits(tokens, rates);
  const mc = mode === 'exact' ? ceilDiv(micro, MICRO_PER_MILLI) : ceilDiv(micro, MICRO_PER_CREDIT) * 1_000n;
  if (mc > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('cost exceeds the largest representable amount');
  return Number(mc);
}

/**
 * The most output tokens that `budgetMc` pays for after `inputTokens` of uncached input:
 * the inverse of costMc (a binary search over it, so rounding is always the same), used to
 * lower an output limit to what a balance or a cap affords.
 */
export function affordableOutputTokens(budgetMc: number, inputTokens: number, rates: AppliedRates, mode: RoundingMode): number {
  const costOf = (outputTokens: number) => costMc({ inputTokens, cachedInputTokens: 0, outputTokens }, rates, mode);
  if (budgetMc < 0 || costOf(0) > budgetMc) return 0;
  if (rates.output_mc_per_1k === 0) return Number.MAX_SAFE_INTEGER;
  let low = 0; // affordable
  let high = Math.floor((budgetMc * 1000) / rates.output_mc_per_1k) + 1; // not affordable
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (costOf(middle) <= budgetMc) low = middle;
    else high = middle;
  }
  return low;
}
