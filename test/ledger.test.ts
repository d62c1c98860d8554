// The ledger's rules: grants and adjustments, idempotent credits, holds placed, settled, voided and expired.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { audit } from '../src/audit.ts';
import { adjustCredits, grantCredits, recordCredit } from '../src/ledger/credits.ts';
import { HoldAlreadyEndedError, IdempotencyConflictError, InsufficientCreditsError } from '../src/ledger/errors.ts';
import { expireHolds, placeHold, settleHold, voidHold, type CallOutcome } from '../src/ledger/holds.ts';
import { walletSummary } from '../src/ledger/wallet.ts';
import { setRate } from '../src/pricing/rates.ts';
import { rejects } from './helpers/assert.ts';
import { freshDb, makeUser, rateOf, type TestDb } from './helpers/db.ts';

const ledger = suite<{ t: TestDb }>('ledger');
ledger.before.each(async (context) => {
  context.t = await freshDb();
});
ledger.after.each(async (context) => {
  assert.equal(await audit(context.t.db), [], 'audit is clean after every scenario');
  await context.t.close();
});

const ok = (inputTokens: number, outputTokens: number, cachedInputTokens = 0): CallOutcome => ({
  tokens: { inputTokens, outputTokens, cachedInputTokens },
  status: 'ok',
  estimated: false,
  latencyMs: 12,
});

let requestCounter = 0;
async function hold(t: TestDb, userId: number, amountMc: number, model = 'gpt-4o-mini', ttlMs = 600_000) {
  return placeHold(t.db, t.clock, {
    userId,
    apiKeyId: null,
    requestId: `req_${++requestCounter}`,
    rate: await rateOf(t.db, model),
    roundingMode: 'exact',
    amountMc,
    ttlMs,
  });
}

ledger('a grant adds to the balance and writes one entry with its balance after', async ({ t }) => {
  const user = await makeUser(t.db, t.clock);
  const first = await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 1_000_000, reason: 'welcome' });
  const second = await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 12_500, reason: 'bonus' });
  assert.is(first.entry.balance_after_mc, 1_000_000);
  assert.is(second.balanceMc, 1_012_500);
  assert.is((await walletSummary(t.db, user.id)).balanceMc, 1_012_500);
  assert.is(second.entry.type, 'grant');
  assert.is(second.entry.reference, 'bonus');
});

ledger('a repeated idempotency key changes nothing and says so', async ({ t }) => {
  const user = await makeUser(t.db, t.clock);
  const first = await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 5_000, reason: 'r', idempotencyKey: 'k1' });
  const again = await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 5_000, reason: 'r', idempotencyKey: 'k1' });
  assert.is(first.duplicate, false);
  assert.is(again.duplicate, true);
  assert.is(again.entry.id, first.entry.id);
  assert.is(again.balanceMc, 5_000);
  const parallel = await Promise.all(
    Array.from({ length: 10 }, () => recordCredit(t.db, t.clock, { userId: user.id, type: 'grant', amountMc: 7_000, reference: 'spring promotion', idempotencyKey: 'promo:spring' })),
  );
  assert.is(parallel.filter((r) => !r.duplicate).length, 1, 'ten concurrent credits under one key credit once');
  assert.is((await walletSummary(t.db, user.id)).balanceMc, 12_000);
  const other = await makeUser(t.db, t.clock);
  await rejects(() => grantCredits(t.db, t.clock, { userId: other.id, amountMc: 1, reason: 'r', idempotencyKey: 'k1' }), IdempotencyConflictError);
});

ledger('grants must be positive whole millicredits', async ({ t }) => {
  const user = await makeUser(t.db, t.clock);
  await rejects(() => grantCredits(t.db, t.clock, { userId: user.id, amountMc: 0, reason: 'r' }), /positive/);
  await rejects(() => grantCredits(t.db, t.clock, { userId: user.id, amountMc: -5, reason: 'r' }), /positive/);
  await rejects(() => grantCredits(t.db, t.clock, { userId: user.id, amountMc: 1.5, reason: 'r' }), /positive/);
  assert.is((await walletSummary(t.db, user.id)).balanceMc, 0);
});

ledger('a negative adjustment never takes the balance below zero or below its holds; the rest is shortfall', async ({ t }) => {
  const user = await makeUser(t.db, t.clock);
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 10_000, reason: 'r' });
  await hold(t, user.id, 3_000);
  const result = await adjustCredits(t.db, t.clock, { userId: user.id, amountMc: -9_000, reason: 'correction' });
  assert.is(result.entry.amount_mc, -7_000);
  assert.is(result.entry.shortfall_mc, 2_000);
  assert.is(result.balanceMc, 3_000);
  const up = await adjustCredits(t.db, t.clock, { userId: user.id, amountMc: 500, reason: 'goodwill' });
  assert.is(up.entry.type, 'adjustment');
  assert.is(up.balanceMc, 3_500);
});

ledger('a hold reserves from what is available and is refused when it cannot be covered', async ({ t }) => {
  const user = await makeUser(t.db, t.clock);
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 10_000, reason: 'r' });
  await hold(t, user.id, 6_000);
  let wallet = await walletSummary(t.db, user.id);
  assert.equal(wallet, { balanceMc: 10_000, heldMc: 6_000, availableMc: 4_000, heldCalls: 1 });
  try {
    await hold(t, user.id, 4_001);
    assert.unreachable('hold beyond available');
  } catch (error) {
    assert.instance(error, InsufficientCreditsError);
    assert.is((error as InsufficientCreditsError).availableMc, 4_000);
    assert.is((error as InsufficientCreditsError).requiredMc, 4_001);
  }
  await hold(t, user.id, 4_000);
  wallet = await walletSummary(t.db, user.id);
  assert.is(wallet.availableMc, 0);
  assert.is(wallet.heldCalls, 2);
});

ledger('settle charges the actual cost at the hold\'s rates and writes one usage entry', async ({ t }) => {
  const user = await makeUser(t.db, t.clock);
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 100_000, reason: 'r' });
  const h = await hold(t, user.id, 20_000);
  t.clock.advance(1_500);
  const result = await settleHold(t.db, t.clock, h.id, ok(750, 200));
  assert.is(result.chargedMc, 3_720);
  assert.is(result.shortfallMc, 0);
  assert.is(result.balanceMc, 96_280);
  assert.is(result.usage.created_at_ms, t.clock.now());
  const entries = await t.db.selectFrom('ledger_entries').selectAll().where('type', '=', 'usage').execute();
  assert.is(entries.length, 1);
  assert.is(entries[0]!.amount_mc, -3_720);
  assert.is(entries[0]!.created_at_ms, result.usage.created_at_ms, 'usage row and entry share one timestamp');
  assert.equal(await walletSummary(t.db, user.id), { balanceMc: 96_280, heldMc: 0, availableMc: 96_280, heldCalls: 0 });
  await rejects(() => settleHold(t.db, t.clock, h.id, ok(1, 1)), HoldAlreadyEndedError);
  assert.is(await voidHold(t.db, t.clock, h.id), false, 'a settled hold cannot be voided');
});

ledger('a settle of 0 tokens still writes a usage entry of 0', async ({ t }) => {
  const user = await makeUser(t.db, t.clock);
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 1_000, reason: 'r' });
  const h = await hold(t, user.id, 500);
  const result = await settleHold(t.db, t.clock, h.id, ok(0, 0));
  assert.is(result.chargedMc, 0);
  const entries = await t.db.selectFrom('ledger_entries').selectAll().where('type', '=', 'usage').execute();
  assert.is(entries.length, 1);
  assert.is(entries[0]!.amount_mc, 0);
});

ledger('a settle above its hold takes only what is still available and records the shortfall', async ({ t }) => {
  const user = await makeUser(t.db, t.clock);
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 10_000, reason: 'r' });
  const small = await hold(t, user.id, 2_000);
  const other = await hold(t, user.id, 7_000);
  // Actual cost 12,000 mc: the hold's 2,000 plus the 1,000 not held by the other call.
  const result = await settleHold(t.db, t.clock, small.id, ok(1_000, 1_000));
  assert.is(result.chargedMc, 3_000);
  assert.is(result.shortfallMc, 9_000);
  assert.equal(await walletSummary(t.db, user.id), { balanceMc: 7_000, heldMc: 7_000, availableMc: 0, heldCalls: 1 });
  const cheap = await settleHold(t.db, t.clock, other.id, ok(10, 10));
  assert.is(cheap.chargedMc, 120);
  assert.is(cheap.balanceMc, 6_880);
});

ledger('a void gives the hold back and writes no ledger entry; an upstream error is kept as a usage row of 0', async ({ t }) => {
  const user = await makeUser(t.db, t.clock);
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 10_000, reason: 'r' });
  const h = await hold(t, user.id, 9_000);
  assert.is(await voidHold(t.db, t.clock, h.id, { tokens: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 0 }, status: 'upstream_error', estimated: true, latencyMs: 5 }), true);
  assert.is(await voidHold(t.db, t.clock, h.id), false, 'a hold ends exactly once');
  await rejects(() => settleHold(t.db, t.clock, h.id, ok(1, 1)), HoldAlreadyEndedError);
  assert.equal(await walletSummary(t.db, user.id), { balanceMc: 10_000, heldMc: 0, availableMc: 10_000, heldCalls: 0 });
  const usage = await t.db.selectFrom('usage').selectAll().execute();
  assert.is(usage.length, 1);
  assert.is(usage[0]!.status, 'upstream_error');
  assert.is(usage[0]!.charged_mc, 0);
  const entries = await t.db.selectFrom('ledger_entries').select('type').where('type', '=', 'usage').execute();
  assert.is(entries.length, 0);
});

ledger('the sweeper expires holds past their TTL, and a late settle still charges', async ({ t }) => {
  const user = await makeUser(t.db, t.clock);
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 50_000, reason: 'r' });
  const slow = await hold(t, user.id, 20_000, 'gpt-4o-mini', 60_000);
  const lost = await hold(t, user.id, 10_000, 'gpt-4o-mini', 60_000);
  const fresh = await hold(t, user.id, 5_000, 'gpt-4o-mini', 600_000);
  t.clock.advance(59_999);
  assert.is(await expireHolds(t.db, t.clock), 0);
  t.clock.advance(1);
  assert.is(await expireHolds(t.db, t.clock), 2);
  assert.equal(await walletSummary(t.db, user.id), { balanceMc: 50_000, heldMc: 5_000, availableMc: 45_000, heldCalls: 1 });
  const late = await settleHold(t.db, t.clock, slow.id, ok(1_000, 1_000));
  assert.is(late.chargedMc, 12_000);
  assert.is(late.hold.status, 'settled');
  assert.is(await voidHold(t.db, t.clock, lost.id), true, 'an expired hold can still be closed as voided');
  await settleHold(t.db, t.clock, fresh.id, ok(1, 1));
  assert.is((await walletSummary(t.db, user.id)).heldMc, 0);
});

ledger('the sweeper works in batches', async ({ t }) => {
  const user = await makeUser(t.db, t.clock);
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 1_000_000, reason: 'r' });
  for (let i = 0; i < 7; i++) await hold(t, user.id, 100, 'gpt-4o-mini', 1_000);
  t.clock.advance(1_000);
  assert.is(await expireHolds(t.db, t.clock, 3), 7);
  assert.is((await walletSummary(t.db, user.id)).heldMc, 0);
});

ledger('usage keeps the rates fixed at hold time, even when the card changes before settle', async ({ t }) => {
  const user = await makeUser(t.db, t.clock);
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 1_000_000, reason: 'r' });
  const h = await hold(t, user.id, 100_000);
  const newer = await setRate(t.db, t.clock, { model: 'gpt-4o-mini', inputMcPer1k: 99_000, outputMcPer1k: 99_000 });
  assert.is(newer.version, 2);
  assert.is(newer.label, 'Eco', 'a new version keeps the label');
  const result = await settleHold(t.db, t.clock, h.id, ok(1_000, 1_000));
  assert.is(result.chargedMc, 12_000);
  assert.is(result.usage.input_mc_per_1k, 2_400);
  assert.is(result.usage.output_mc_per_1k, 9_600);
  const next = await hold(t, user.id, 300_000);
  assert.is(next.input_mc_per_1k, 99_000, 'the next hold takes the new version');
  await voidHold(t.db, t.clock, next.id);
});

ledger('ceil rounding is fixed on the hold and applied at settle', async ({ t }) => {
  const user = await makeUser(t.db, t.clock);
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 1_000_000, reason: 'r' });
  const h = await placeHold(t.db, t.clock, { userId: user.id, apiKeyId: null, requestId: 'req_ceil', rate: await rateOf(t.db, 'gpt-4o'), roundingMode: 'ceil', amountMc: 200_000, ttlMs: 60_000 });
  const result = await settleHold(t.db, t.clock, h.id, ok(1_234, 567));
  assert.is(result.chargedMc, 71_000);
});

ledger.run();
