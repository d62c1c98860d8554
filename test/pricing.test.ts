// The cost of a request (docs/architecture.md, Money): the seed's four cases, cached input, zero, huge counts, odd rates.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { affordableOutputTokens, costMc } from '../src/pricing/cost.ts';
import { creditsExactText, parseCreditsToMc, usdPer1MTokensJsonNumber, usdPer1MTokensText } from '../src/money-text.ts';
import { decideOutputLimit, holdAmountMc } from '../src/pricing/output-limit.ts';
import { defaultEmbeddingRates, defaultRates } from '../src/seed.ts';

const mini = defaultRates[0];
const full = defaultRates[1];
const tokens = (inputTokens: number, outputTokens: number, cachedInputTokens = 0) => ({ inputTokens, outputTokens, cachedInputTokens });

test('the seed cases in exact mode', () => {
  assert.is(costMc(tokens(1_000, 1_000), mini, 'exact'), 12_000);
  assert.is(costMc(tokens(10_000, 2_000), full, 'exact'), 360_000);
  assert.is(costMc(tokens(750, 200), mini, 'exact'), 3_720);
  assert.is(costMc(tokens(1_234, 567), full, 'exact'), 70_040);
});

test('the seed cases in ceil mode round each request up to whole credits', () => {
  assert.is(costMc(tokens(1_000, 1_000), mini, 'ceil'), 12_000);
  assert.is(costMc(tokens(10_000, 2_000), full, 'ceil'), 360_000);
  assert.is(costMc(tokens(750, 200), mini, 'ceil'), 4_000);
  assert.is(costMc(tokens(1_234, 567), full, 'ceil'), 71_000);
});

test('zero tokens cost nothing in both modes', () => {
  assert.is(costMc(tokens(0, 0), mini, 'exact'), 0);
  assert.is(costMc(tokens(0, 0), full, 'ceil'), 0);
});

test('cached input tokens are charged at the cached rate', () => {
  // 1,000 input of which 600 cached on gpt-4o-mini: 400·2400 + 600·1200 = 1,680,000 µc = 1,680 mc.
  assert.is(costMc(tokens(1_000, 0, 600), mini, 'exact'), 1_680);
  // All cached, plus output: 1,000·1200 + 100·9600 = 2,160,000 µc.
  assert.is(costMc(tokens(1_000, 100, 1_000), mini, 'exact'), 2_160);
  assert.throws(() => costMc(tokens(10, 0, 11), mini, 'exact'), /cannot exceed/);
});

test('a single token rounds up to a whole millicredit, or a whole credit in ceil mode', () => {
  assert.is(costMc(tokens(1, 0), mini, 'exact'), 3); // 2,400 µc → 2.4 mc → 3 mc
  assert.is(costMc(tokens(1, 0), mini, 'ceil'), 1_000);
});

test('very large counts stay exact (no float rounding)', () => {
  // 2 billion tokens each way on gpt-4o: 2e9·20,000 + 2e9·80,000 µc = 2e14 µc = 2e11 mc.
  assert.is(costMc(tokens(2_000_000_000, 2_000_000_000), full, 'exact'), 200_000_000_000);
  // A count whose product passes 2^53 in µc but whose result in mc is still safe.
  const big = 9_007_199_254; // ~2^53 / 1e6
  assert.is(costMc(tokens(big, 0), { input_mc_per_1k: 1_000_001, cached_input_mc_per_1k: 0, output_mc_per_1k: 0 }, 'exact'), Number((BigInt(big) * 1_000_001n + 999n) / 1_000n));
  assert.throws(() => costMc(tokens(Number.MAX_SAFE_INTEGER, 0), full, 'exact'), /largest/);
});

test('rates that are not whole credits', () => {
  const odd = { input_mc_per_1k: 1, cached_input_mc_per_1k: 1, output_mc_per_1k: 333 };
  assert.is(costMc(tokens(999, 0), odd, 'exact'), 1); // 999 µc → 1 mc
  assert.is(costMc(tokens(1_000, 3), odd, 'exact'), 2); // 1,000 + 999 µc → 1.999 mc → 2 mc
  assert.is(costMc(tokens(1_000, 3), odd, 'ceil'), 1_000);
});

test('negative or fractional token counts are refused', () => {
  assert.throws(() => costMc(tokens(-1, 0), mini, 'exact'), /whole number/);
  assert.throws(() => costMc(tokens(1.5, 0), mini, 'exact'), /whole number/);
});

test('affordable output tokens is the exact inverse of the cost', () => {
  for (const mode of ['exact', 'ceil'] as const) {
    for (const budget of [0, 3, 9_999, 12_000, 500_000, 123_456_789]) {
      const n = affordableOutputTokens(budget, 100, mini, mode);
      if (n > 0) assert.ok(costMc(tokens(100, n), mini, mode) <= budget, `${mode} ${budget}: ${n} fits`);
      if (costMc(tokens(100, 0), mini, mode) <= budget) {
        assert.ok(costMc(tokens(100, n + 1), mini, mode) > budget, `${mode} ${budget}: ${n + 1} does not fit`);
      }
    }
  }
  assert.is(affordableOutputTokens(100, 1_000_000, mini, 'exact'), 0);
});

test('output limits around the edge of a budget: the limit is what the budget affords, never more', () => {
  for (const mode of ['exact', 'ceil'] as const) {
    for (const choices of [1, 3]) {
      const edgeMc = holdAmountMc(mini, mode, 216, 1_000, choices);
      for (let remainingMc = edgeMc - 3_000; remainingMc <= edgeMc + 3_000; remainingMc += 250) {
        const budgets = [{ remainingMc, cap: null }];
        const affords = Math.floor(affordableOutputTokens(remainingMc, 216, mini, mode) / choices);
        // Without max_tokens: capped to what the budget affords (at most 1,000 here).
        const open = decideOutputLimit({ rates: mini, mode, holdInputTokens: 216, requestedOutputTokens: null, modelMaxOutputTokens: 1_000, choices, budgets });
        assert.ok(open.ok);
        if (open.ok) {
          assert.is(open.outputTokens, Math.min(1_000, affords), `${mode}, n=${choices}, ${remainingMc} mc`);
          assert.ok(open.holdMc <= remainingMc);
          assert.is(open.capped, affords < 1_000);
        }
        // With max_tokens = 1,000: held in full when the budget covers it, refused with the count it affords otherwise.
        const asked = decideOutputLimit({ rates: mini, mode, holdInputTokens: 216, requestedOutputTokens: 1_000, modelMaxOutputTokens: 16_384, choices, budgets });
        assert.is(asked.ok, remainingMc >= edgeMc, `${mode}, n=${choices}, ${remainingMc} mc`);
        if (!asked.ok) assert.is(asked.affordableOutputTokens, affords);
      }
    }
  }
});

test('a call that writes no output (embeddings, 0 output tokens asked): held for its input alone, refused when a budget cannot pay that', () => {
  const search = defaultEmbeddingRates[0];
  for (const mode of ['exact', 'ceil'] as const) {
    // 2,516 input tokens at 200 mc per 1k: 503.2 → 504 mc exact, 1,000 mc ceil.
    const inputMc = holdAmountMc(search, mode, 2_516, 0);
    assert.is(inputMc, mode === 'exact' ? 504 : 1_000);
    for (const remainingMc of [0, inputMc - 1, inputMc, inputMc + 1]) {
      const decision = decideOutputLimit({ rates: search, mode, holdInputTokens: 2_516, requestedOutputTokens: 0, modelMaxOutputTokens: 1, choices: 1, budgets: [{ remainingMc, cap: null }] });
      if (remainingMc >= inputMc) assert.equal(decision, { ok: true, outputTokens: 0, holdMc: inputMc, capped: false });
      else assert.equal(decision, { ok: false, budget: { remainingMc, cap: null }, requiredMc: inputMc, affordableOutputTokens: 0, requestedOutputTokens: 0 });
    }
  }
});

test('$ per 1M tokens from a rate in mc per 1k: 1 mc per 1k = $0.001 per 1M', () => {
  assert.is(usdPer1MTokensJsonNumber(1), 0.001);
  assert.is(usdPer1MTokensJsonNumber(2_400), 2.4);
  assert.is(usdPer1MTokensJsonNumber(200), 0.2);
  assert.is(usdPer1MTokensJsonNumber(80_000), 80);
  // The rate card's text: the same digits, 2 decimals unless a third is needed.
  assert.equal([1, 2_400, 200, 80_000, 1_234_567, 1_005].map(usdPer1MTokensText), ['$0.001', '$2.40', '$0.20', '$80.00', '$1,234.567', '$1.005']);
});

test('credits are shown with exactly 3 decimals and parsed back without floats', () => {
  assert.is(creditsExactText(12_000), '12.000');
  assert.is(creditsExactText(3_720), '3.720');
  assert.is(creditsExactText(-70_040), '-70.040');
  assert.is(creditsExactText(5), '0.005');
  assert.is(parseCreditsToMc('1012.5'), 1_012_500);
  assert.is(parseCreditsToMc('-0.001'), -1);
  assert.is(parseCreditsToMc('0.0001'), null);
  assert.is(parseCreditsToMc('1e3'), null);
  assert.is(parseCreditsToMc('abc'), null);
});

test.run();
