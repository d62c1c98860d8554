// The hold's input margin (docs/architecture.md, Holds): the gateway's holds and the Credits tab's out-of-credits rule
// both reserve a prompt with it, so they cannot drift apart.

/** At least this many tokens, or this share of the count. */
export const MARGIN_MINIMUM_TOKENS = 16;
export const MARGIN_PERCENT = 2;

/**
 * The input tokens a hold reserves: the count plus max(16, ⌈2%⌉), because the upstream's own
 * rendering of tools and framing can differ slightly from the count made here.
 */
export function holdInputTokens(counted: number): number {
  if (!Number.isSafeInteger(counted) || counted < 0) throw new RangeError(`a token count must be a whole number ≥ 0, got ${counted}`);
  const percentTokens = Math.ceil((counted * MARGIN_PERCENT) / 100);
  return counted + Math.max(MARGIN_MINIMUM_TOKENS, percentTokens);
}
