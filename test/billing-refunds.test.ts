// Refunds and disputes through signed webhooks: clawed back by target (credits × refunded ÷ paid),
// only the difference, never below balance − held (the rest is shortfall), a won dispute given back.
import * as assert from 'uvu/assert';
import { placeHold, settleHold, voidHold } from '../src/ledger/holds.ts';
import { walletSummary } from '../src/ledger/wallet.ts';
import { rateOf } from './helpers/db.ts';
import {
  assertAuditClean,
  balanceMc,
  chargeIdOf,
  deliver,
  entriesOf,
  purchaseOf,
  sessionEvent,
  signedInBuyer,
  startPurchase,
  STARTER_MC,
  stripeSuite,
  type Buyer,
  type StripeWorld,
} from './helpers/billing.ts';

const refunds = stripeSuite('billing refunds and disputes');

/** A Starter purchase, paid and credited through the webhook. */
async function creditedStarter(t: StripeWorld, buyer: Buyer) {
  const { sessionId, purchase } = await startPurchase(t, buyer);
  t.fake.paySession(sessionId);
  assert.is((await deliver(t, sessionEvent(t, 'checkout.session.completed', sessionId))).status, 200);
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC);
  return { sessionId, purchase, chargeId: chargeIdOf(t, sessionId) };
}

/** Spends `amountMc` as the gateway would (a hold settled with real token counts): 80 mc per gpt-4o output token. */
async function spend(t: StripeWorld, userId: number, amountMc: number) {
  const rate = await rateOf(t.db, 'gpt-4o');
  const hold = await placeHold(t.db, t.clock, { userId, apiKeyId: null, requestId: `req_${amountMc}_${t.clock.now()}`, rate, roundingMode: 'exact', amountMc, ttlMs: 600_000 });
  await settleHold(t.db, t.clock, hold.id, { tokens: { inputTokens: 0, cachedInputTokens: 0, outputTokens: amountMc / 80 }, status: 'ok', estimated: false, latencyMs: 5 });
}

async function listedStatus(buyer: Buyer): Promise<string | null | undefined> {
  const page = await buyer.browser.get('/credits');
  return page.doc.querySelector('#purchases tbody tr .purchase-status')?.textContent;
}

refunds('two partial refunds, each delivered twice (and out of order), are clawed back exactly by target', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId, chargeId } = await creditedStarter(t, buyer);
  const first = t.fake.event('charge.refunded', t.fake.refund(chargeId, 250).charge);
  assert.equal((await Promise.all([deliver(t, first), deliver(t, first)])).map((r) => r.status), [200, 200]);
  assert.is(await balanceMc(t, buyer.user.id), 7_500_000, '25% of 10,000 credits back');
  await assertAuditClean(t);
  const second = t.fake.event('charge.refunded', t.fake.refund(chargeId, 400).charge);
  await deliver(t, second);
  await deliver(t, second);
  await deliver(t, first); // late and older: the cumulative amount only grows
  assert.is(await balanceMc(t, buyer.user.id), 3_500_000, '65% back in all');
  const entries = await entriesOf(t, buyer.user.id);
  assert.equal(entries.map((e) => [e.type, e.amount_mc, e.reference, e.idempotency_key]), [
    ['purchase', STARTER_MC, sessionId, `checkout:${sessionId}`],
    ['refund', -2_500_000, sessionId, `refund:${chargeId}:250`],
    ['refund', -4_000_000, sessionId, `refund:${chargeId}:650`],
  ]);
  const purchase = await purchaseOf(t, sessionId);
  assert.equal([purchase.amount_refunded_cents, purchase.clawed_back_mc, purchase.shortfall_mc], [650, 6_500_000, 0]);
  assert.is(await listedStatus(buyer), 'partially refunded');
  await assertAuditClean(t);
  await deliver(t, t.fake.event('charge.refunded', t.fake.refund(chargeId).charge));
  assert.is(await balanceMc(t, buyer.user.id), 0);
  assert.is(await listedStatus(buyer), 'refunded');
  // The receipt link still works for a refunded purchase.
  assert.is((await buyer.browser.get(`/credits/receipts/${sessionId}`)).status, 303);
  await assertAuditClean(t);
});

refunds('a refund after the credits were spent takes the balance to 0 and records the shortfall', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId, chargeId } = await creditedStarter(t, buyer);
  await spend(t, buyer.user.id, 9_000_000);
  assert.is(await balanceMc(t, buyer.user.id), 1_000_000);
  await deliver(t, t.fake.event('charge.refunded', t.fake.refund(chargeId).charge));
  assert.is(await balanceMc(t, buyer.user.id), 0);
  const refund = (await entriesOf(t, buyer.user.id)).at(-1)!;
  assert.equal([refund.type, refund.amount_mc, refund.shortfall_mc, refund.balance_after_mc], ['refund', -1_000_000, 9_000_000, 0]);
  const purchase = await purchaseOf(t, sessionId);
  assert.equal([purchase.clawed_back_mc, purchase.shortfall_mc], [1_000_000, 9_000_000]);
  await assertAuditClean(t);
});

refunds('a clawback never takes what calls in flight hold: down to balance − held, the rest is shortfall', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId, chargeId } = await creditedStarter(t, buyer);
  await spend(t, buyer.user.id, 6_000_000);
  const rate = await rateOf(t.db, 'gpt-4o-mini');
  const hold = await placeHold(t.db, t.clock, { userId: buyer.user.id, apiKeyId: null, requestId: 'req_in_flight', rate, roundingMode: 'exact', amountMc: 1_500_000, ttlMs: 600_000 });
  await deliver(t, t.fake.event('charge.refunded', t.fake.refund(chargeId, 500).charge));
  const wallet = await walletSummary(t.db, buyer.user.id);
  assert.equal([wallet.balanceMc, wallet.heldMc, wallet.availableMc], [1_500_000, 1_500_000, 0]);
  const purchase = await purchaseOf(t, sessionId);
  assert.equal([purchase.clawed_back_mc, purchase.shortfall_mc], [2_500_000, 2_500_000]);
  await assertAuditClean(t);
  await voidHold(t.db, t.clock, hold.id);
  await assertAuditClean(t);
});

refunds('a dispute claws back when opened, stays lost, and a later win gives the credits back as an adjustment', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId, chargeId } = await creditedStarter(t, buyer);
  const opened = t.fake.event('charge.dispute.created', t.fake.dispute(chargeId, { status: 'needs_response' }));
  await deliver(t, opened);
  await deliver(t, opened);
  assert.is(await balanceMc(t, buyer.user.id), 0);
  assert.is(await listedStatus(buyer), 'disputed');
  await assertAuditClean(t);

  const lost = t.fake.event('charge.dispute.closed', t.fake.dispute(chargeId, { status: 'lost' }));
  assert.is((await deliver(t, lost)).status, 200);
  assert.is(await balanceMc(t, buyer.user.id), 0, 'lost: the clawback stands');
  assert.is(await listedStatus(buyer), 'disputed');
  await assertAuditClean(t);

  const won = t.fake.event('charge.dispute.closed', t.fake.dispute(chargeId, { status: 'won' }));
  await deliver(t, won);
  await deliver(t, won);
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC, 'won: given back');
  // A late event about the dispute's earlier state changes nothing.
  await deliver(t, t.fake.event('charge.dispute.created', { ...t.fake.dispute(chargeId), status: 'needs_response' }));
  await deliver(t, t.fake.event('charge.dispute.closed', { ...t.fake.dispute(chargeId), status: 'lost' }));
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC);
  const entries = await entriesOf(t, buyer.user.id);
  const disputeId = (await purchaseOf(t, sessionId)).dispute_id;
  assert.equal(entries.map((e) => [e.type, e.amount_mc, e.reference, e.idempotency_key]), [
    ['purchase', STARTER_MC, sessionId, `checkout:${sessionId}`],
    ['refund', -STARTER_MC, sessionId, `dispute:${disputeId}:withdrawn:1000`],
    ['adjustment', STARTER_MC, sessionId, `dispute:${disputeId}:reinstated`],
  ]);
  assert.is(await listedStatus(buyer), 'paid');
  await assertAuditClean(t);
});

refunds('a won dispute on spent credits cancels the shortfall first and gives back only what was taken', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId, chargeId } = await creditedStarter(t, buyer);
  await spend(t, buyer.user.id, 6_000_000);
  await deliver(t, t.fake.event('charge.dispute.created', t.fake.dispute(chargeId)));
  assert.is(await balanceMc(t, buyer.user.id), 0);
  let purchase = await purchaseOf(t, sessionId);
  assert.equal([purchase.clawed_back_mc, purchase.shortfall_mc], [4_000_000, 6_000_000]);
  await assertAuditClean(t);
  await deliver(t, t.fake.event('charge.dispute.closed', t.fake.dispute(chargeId, { status: 'won' })));
  assert.is(await balanceMc(t, buyer.user.id), 4_000_000);
  purchase = await purchaseOf(t, sessionId);
  assert.equal([purchase.clawed_back_mc, purchase.shortfall_mc], [0, 0]);
  await assertAuditClean(t);
});

refunds('a dispute opened before the purchase is credited is kept and applied with the credit', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId } = await startPurchase(t, buyer);
  t.fake.paySession(sessionId);
  const chargeId = chargeIdOf(t, sessionId);
  // The dispute names only the charge: the app asks Stripe which purchase it belongs to.
  assert.is((await deliver(t, t.fake.event('charge.dispute.created', t.fake.dispute(chargeId)))).status, 200);
  assert.ok(t.fake.requests.some((r) => r.method === 'GET' && r.path === `/v1/charges/${chargeId}`));
  assert.is(await balanceMc(t, buyer.user.id), 0);
  await deliver(t, sessionEvent(t, 'checkout.session.completed', sessionId));
  assert.is(await balanceMc(t, buyer.user.id), 0);
  assert.equal((await entriesOf(t, buyer.user.id)).map((e) => e.amount_mc), [STARTER_MC, -STARTER_MC]);
  await assertAuditClean(t);
});

refunds('refunds of charges that are not purchases here are acknowledged and change nothing', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  await creditedStarter(t, buyer);
  const stranger = await startPurchase(t, await signedInBuyer(t));
  // A session made elsewhere on the same account: no purchase here knows it.
  await t.db.deleteFrom('purchases').where('checkout_session_id', '=', stranger.sessionId).execute();
  t.fake.paySession(stranger.sessionId);
  const answer = await deliver(t, t.fake.event('charge.refunded', t.fake.refund(chargeIdOf(t, stranger.sessionId)).charge));
  assert.is(answer.status, 200);
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC);
  await assertAuditClean(t);
});

refunds.run();
