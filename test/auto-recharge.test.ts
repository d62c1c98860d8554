// Auto-recharge through the real Stripe SDK and the fake: started by a hold or settle below the
// threshold, paid off-session with the saved card, credited once whichever of the create response,
// the webhook or reconcile sees it first; declines, network errors, 5xx/429 and other refusals, the
// monthly limit, refunds, demo mode.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { billingDeps, type BillingDeps } from '../src/billing/deps.ts';
import { applyIntentToRecharge, claimRecharges, processDueRecharges, RECHARGE_CLAIM_MS } from '../src/billing/auto-recharge.ts';
import { rechargeChargeKey } from '../src/ledger/idempotency-keys.ts';
import { reconcilePurchases } from '../src/billing/reconcile.ts';
import { placeHold, settleHold } from '../src/ledger/holds.ts';
import { walletSummary } from '../src/ledger/wallet.ts';
import { createApiKey } from '../src/keys/keys.ts';
import { rateOf } from './helpers/db.ts';
import { assertAuditClean, chargeIdOf, deliver, signedInBuyer, startPurchase, stripeWorld, withSavedCard, STARTER_MC, type Buyer, type StripeWorld } from './helpers/billing.ts';
import { testApp, type TestApp } from './helpers/app.ts';
import { startFakeOpenAIUpstream } from './fakes/openai-upstream.ts';

const BASIC_MC = 20_400_000;

interface Context {
  t: StripeWorld;
  buyer: Buyer;
  deps: BillingDeps;
  logs: string[];
}

const recharge = suite<Context>('auto-recharge');

let requests = 0;
/** A call held and settled through the ledger: `heldMc` reserved, `chargedTokens` output tokens on gpt-4o (80 mc each). */
async function spend(t: StripeWorld | TestApp, userId: number, heldMc: number, outputTokens: number) {
  const hold = await placeHold(t.db, t.clock, { userId, apiKeyId: null, requestId: `req_ar_${++requests}`, rate: await rateOf(t.db, 'gpt-4o'), roundingMode: 'exact', amountMc: heldMc, ttlMs: 600_000 });
  return settleHold(t.db, t.clock, hold.id, { tokens: { inputTokens: 0, cachedInputTokens: 0, outputTokens }, status: 'ok', estimated: false, latencyMs: 1 });
}

const rechargesOf = (t: StripeWorld | TestApp, userId: number) => t.db.selectFrom('auto_recharges').selectAll().where('user_id', '=', userId).orderBy('id').execute();
const autoRechargeEntries = (t: StripeWorld | TestApp, userId: number) => t.db.selectFrom('ledger_entries').selectAll().where('user_id', '=', userId).where('type', '=', 'auto_recharge').execute();

recharge.before.each(async (context) => {
  context.t = await stripeWorld();
  context.buyer = await signedInBuyer(context.t);
  context.logs = [];
  context.deps = billingDeps(context.t.config, context.t.db, context.t.clock, (line) => context.logs.push(line))!;
});
recharge.after.each(async ({ t }) => {
  try {
    // After every scenario the books balance, whatever the test itself checked.
    await assertAuditClean(t);
  } finally {
    await t.stop();
  }
});

recharge('a settle below the threshold starts one recharge, credited once from the create response; the webhook changes nothing', async ({ t, buyer, deps }) => {
  await withSavedCard(t, buyer);
  const userId = buyer.user.id;
  await spend(t, userId, 6_000_000, 75_000); // 75,000 × 80 mc = 6,000 credits: 4,000 left < 5,000
  const [row] = await rechargesOf(t, userId);
  assert.is(row?.status, 'pending', 'the settle wrote a pending recharge');
  assert.equal(await processDueRecharges(deps), ['credited']);
  const intents = t.fake.paymentIntents().filter((pi) => pi.metadata?.kind === 'auto_recharge');
  assert.is(intents.length, 1);
  assert.is(intents[0]!.amount, 2_000);
  const logged = t.fake.requests.find((r) => r.path === '/v1/payment_intents' && r.method === 'POST')!;
  assert.is(logged.idempotencyKey, rechargeChargeKey(row!.id), 'the row is the idempotency key');
  assert.is(logged.body.off_session, 'true');
  assert.is((await walletSummary(t.db, userId)).balanceMc, STARTER_MC - 6_000_000 + BASIC_MC);
  const webhook = await deliver(t, t.fake.event('payment_intent.succeeded', t.fake.paymentIntent(intents[0]!.id)));
  assert.is(webhook.status, 200);
  assert.is((await autoRechargeEntries(t, userId)).length, 1, 'credited once');
  const page = await buyer.browser.get('/credits');
  assert.match(page.doc.querySelector('#purchases')?.textContent ?? page.text, /Basic \(auto-recharge\)/);
  assert.match(page.doc.querySelector('.auto-recharge-state')?.textContent ?? '', /on: buys Basic .* \(1 of 3 this month\)/);
  assert.equal((await rechargesOf(t, userId)).map((r) => r.status), ['succeeded']);
  await assertAuditClean(t);
});

recharge('10 concurrent holds that all cross the threshold start exactly one recharge', async ({ t, buyer, deps }) => {
  await withSavedCard(t, buyer);
  const rate = await rateOf(t.db, 'gpt-4o');
  await Promise.all(
    Array.from({ length: 10 }, (_, i) => placeHold(t.db, t.clock, { userId: buyer.user.id, apiKeyId: null, requestId: `req_many_${i}`, rate, roundingMode: 'exact', amountMc: 600_000, ttlMs: 600_000 })),
  );
  assert.is((await rechargesOf(t, buyer.user.id)).length, 1);
  assert.equal(await processDueRecharges(deps), ['credited']);
  assert.is((await rechargesOf(t, buyer.user.id)).length, 1);
  await assertAuditClean(t);
});

recharge('10 concurrent API calls whose holds all cross the threshold start exactly one recharge, credited once', async () => {
  // The upstream keeps every call open until all ten have reached it, so the ten holds are in flight
  // together whatever the timing of the database (on PostgreSQL a call could otherwise be answered
  // and settled before the last one holds).
  const upstream = await startFakeOpenAIUpstream();
  upstream.setBehaviour({ kind: 'held', usage: { prompt_tokens: 8, completion_tokens: 10 } });
  const t = await stripeWorld({ OPENAI_API_KEY: 'sk-test-upstream', OPENAI_BASE_URL: `${upstream.url}/v1` });
  try {
    const buyer = await signedInBuyer(t);
    const deps = billingDeps(t.config, t.db, t.clock, () => {})!;
    await withSavedCard(t, buyer);
    const { key } = await createApiKey(t.db, t.clock, buyer.user.id, 'app');
    // max_tokens 7,500 on gpt-4o holds ≈ 600 credits a call, so the ten holds take the available
    // balance from 10,000 below the 5,000 threshold while all are in flight.
    const answering = Promise.all(
      Array.from({ length: 10 }, () =>
        t.fetch('/v1/chat/completions', {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 7_500 }),
        }),
      ),
    );
    for (const deadline = Date.now() + 10_000; upstream.held < 10; ) {
      if (Date.now() > deadline) throw new Error(`only ${upstream.held} of the 10 calls reached the upstream`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    upstream.release();
    const answers = await answering;
    assert.equal(answers.map((answer) => answer.status), Array(10).fill(200));
    assert.is((await t.db.selectFrom('usage').select('id').where('user_id', '=', buyer.user.id).execute()).length, 10);
    assert.is((await rechargesOf(t, buyer.user.id)).length, 1, 'one pending recharge for ten crossing holds');
    assert.equal(await processDueRecharges(deps), ['credited']);
    assert.is((await autoRechargeEntries(t, buyer.user.id)).length, 1);
    assert.is((await rechargesOf(t, buyer.user.id)).length, 1);
    await assertAuditClean(t);
  } finally {
    await t.stop();
    await upstream.close();
  }
});

recharge('a Checkout purchase\'s own payment_intent.succeeded never credits again', async ({ t, buyer }) => {
  const { sessionId } = await startPurchase(t, buyer);
  t.fake.paySession(sessionId);
  await deliver(t, t.fake.event('checkout.session.completed', t.fake.session(sessionId)));
  const intentId = t.fake.session(sessionId).payment_intent as string;
  assert.is((await deliver(t, t.fake.event('payment_intent.succeeded', t.fake.paymentIntent(intentId)))).status, 200);
  assert.is((await walletSummary(t.db, buyer.user.id)).balanceMc, STARTER_MC);
  assert.is((await t.db.selectFrom('ledger_entries').select('id').where('user_id', '=', buyer.user.id).execute()).length, 1);
  await assertAuditClean(t);
});

for (const outcome of ['decline', 'authentication_required'] as const) {
  recharge(`${outcome}: the recharge fails, auto-recharge turns off, a banner and an email tell the user`, async ({ t, buyer, deps }) => {
    await withSavedCard(t, buyer);
    t.fake.scriptCard({ outcome });
    await spend(t, buyer.user.id, 6_000_000, 75_000);
    assert.equal(await processDueRecharges(deps), ['failed']);
    const [row] = await rechargesOf(t, buyer.user.id);
    assert.is(row!.status, 'failed');
    assert.is(row!.failure_reason, outcome === 'decline' ? 'card_declined' : 'authentication_required');
    const settings = await t.db.selectFrom('billing_settings').select('auto_recharge_enabled').where('user_id', '=', buyer.user.id).executeTakeFirstOrThrow();
    assert.is(settings.auto_recharge_enabled, 0);
    const page = await buyer.browser.get('/credits');
    assert.match(page.doc.querySelector('[data-notice-kind="auto_recharge_failed"]')?.textContent ?? '', /Auto-recharge of Basic failed .* now off/);
    assert.match(page.doc.querySelector('.auto-recharge-state')?.textContent ?? '', /Auto-recharge: off/);
    const mail = await t.db.selectFrom('mail_outbox').select('subject').where('subject', 'like', '%auto-recharge failed%').execute();
    assert.is(mail.length, 1);
    assert.is((await autoRechargeEntries(t, buyer.user.id)).length, 0);
    await spend(t, buyer.user.id, 100_000, 100);
    assert.is((await rechargesOf(t, buyer.user.id)).length, 1, 'off: no new attempt');
    await assertAuditClean(t);
  });
}

recharge('a worker that dies after claiming a recharge: no other takes it until the claim runs out, then one does, one PaymentIntent', async ({ t, buyer, deps }) => {
  await withSavedCard(t, buyer);
  await spend(t, buyer.user.id, 6_000_000, 75_000);
  // The claim of a worker that then dies: the row is counted as attempted and claimed, nothing more.
  assert.equal((await claimRecharges(deps, 'due')).map((row) => row.attempts), [1]);
  assert.equal(await processDueRecharges(deps), [], 'claimed by the dead worker');
  t.clock.advance(RECHARGE_CLAIM_MS);
  assert.equal(await processDueRecharges(deps), [], 'claimed until then');
  t.clock.advance(1);
  assert.equal(await processDueRecharges(deps), ['credited']);
  assert.is(t.fake.requests.filter((r) => r.path === '/v1/payment_intents' && r.method === 'POST').length, 1);
  assert.equal((await rechargesOf(t, buyer.user.id)).map((r) => [r.status, r.attempts]), [['succeeded', 2]]);
  await assertAuditClean(t);
});

recharge('a network error is retried with the same key and credited once', async ({ t, buyer, deps, logs }) => {
  await withSavedCard(t, buyer);
  await spend(t, buyer.user.id, 6_000_000, 75_000);
  t.fake.failNetwork(5); // more drops than the SDK's own retries
  assert.equal(await processDueRecharges(deps), ['retry']);
  assert.match(logs.join('\n'), /did not answer.*same key/);
  assert.equal(await processDueRecharges(deps), [], 'not before its backoff');
  t.clock.advance(60_000);
  assert.equal(await processDueRecharges(deps), ['credited']);
  const [row] = await rechargesOf(t, buyer.user.id);
  assert.ok((t.fake.idempotencyKeys.get(rechargeChargeKey(row!.id)) ?? 0) >= 2, 'the same key was sent again');
  assert.is(t.fake.paymentIntents().filter((pi) => pi.metadata?.kind === 'auto_recharge').length, 1);
  assert.is((await autoRechargeEntries(t, buyer.user.id)).length, 1);
  await assertAuditClean(t);
});

// A 500 is retried by the SDK itself (twice) before the worker sees it; a 429 is not.
for (const [status, type, times] of [[500, 'api_error', 5], [429, 'rate_limit_error', 1]] as const) {
  recharge(`a ${status} from the provider is retried after a backoff with the same key and credited once`, async ({ t, buyer, deps, logs }) => {
    await withSavedCard(t, buyer);
    await spend(t, buyer.user.id, 6_000_000, 75_000);
    t.fake.failRequests(times, { status, type });
    assert.equal(await processDueRecharges(deps), ['retry']);
    assert.match(logs.join('\n'), /did not answer or was busy.*same key/);
    assert.equal(await processDueRecharges(deps), [], 'not before its backoff');
    t.clock.advance(60_000);
    assert.equal(await processDueRecharges(deps), ['credited']);
    const [row] = await rechargesOf(t, buyer.user.id);
    const creates = t.fake.requests.filter((r) => r.path === '/v1/payment_intents' && r.method === 'POST');
    assert.equal(creates.map((r) => r.status), [...Array<number>(times).fill(status), 200]);
    assert.ok(creates.every((r) => r.idempotencyKey === rechargeChargeKey(row!.id)), 'always the same key');
    assert.is(row!.status, 'succeeded');
    assert.is(t.fake.paymentIntents().filter((pi) => pi.metadata?.kind === 'auto_recharge').length, 1);
    assert.is((await autoRechargeEntries(t, buyer.user.id)).length, 1);
    const settings = await t.db.selectFrom('billing_settings').select('auto_recharge_enabled').where('user_id', '=', buyer.user.id).executeTakeFirstOrThrow();
    assert.is(settings.auto_recharge_enabled, 1, 'still on');
    await assertAuditClean(t);
  });
}

recharge('a refusal that is not the card\'s (400 invalid_request_error): the recharge fails, auto-recharge turns off, the user is told', async ({ t, buyer, deps }) => {
  await withSavedCard(t, buyer);
  await spend(t, buyer.user.id, 6_000_000, 75_000);
  t.fake.failRequests(1, { status: 400, type: 'invalid_request_error', code: 'resource_missing', message: "No such PaymentMethod: 'pm_gone'" });
  assert.equal(await processDueRecharges(deps), ['failed']);
  const [row] = await rechargesOf(t, buyer.user.id);
  assert.is(row!.status, 'failed');
  assert.is(row!.failure_reason, 'resource_missing');
  const settings = await t.db.selectFrom('billing_settings').select('auto_recharge_enabled').where('user_id', '=', buyer.user.id).executeTakeFirstOrThrow();
  assert.is(settings.auto_recharge_enabled, 0);
  const page = await buyer.browser.get('/credits');
  assert.match(page.doc.querySelector('[data-notice-kind="auto_recharge_failed"]')?.textContent ?? '', /Auto-recharge of Basic failed \(the payment provider refused the payment\) and is now off/);
  const mail = await t.db.selectFrom('mail_outbox').select('body_text').where('subject', 'like', '%auto-recharge failed%').execute();
  assert.is(mail.length, 1);
  assert.match(mail[0]!.body_text, /the payment provider refused the payment \(resource_missing\)/);
  t.clock.advance(3_600_000);
  assert.equal(await processDueRecharges(deps), [], 'not asked again');
  assert.is(t.fake.requests.filter((r) => r.path === '/v1/payment_intents' && r.method === 'POST').length, 1);
  assert.is((await autoRechargeEntries(t, buyer.user.id)).length, 0);
  await assertAuditClean(t);
});

recharge('an answer lost after the payment: the retry finds the same PaymentIntent, and reconcile has nothing left', async ({ t, buyer, deps }) => {
  await withSavedCard(t, buyer);
  await spend(t, buyer.user.id, 6_000_000, 75_000);
  t.fake.failNetwork(5, { afterProcessing: true });
  assert.equal(await processDueRecharges(deps), ['retry']);
  t.clock.advance(60_000);
  assert.equal(await processDueRecharges(deps), ['credited']);
  assert.is(t.fake.paymentIntents().filter((pi) => pi.metadata?.kind === 'auto_recharge').length, 1, 'charged once');
  const again = await reconcilePurchases(deps, t.clock.now() - 3_600_000);
  assert.equal(again.fulfilled, []);
  assert.is((await autoRechargeEntries(t, buyer.user.id)).length, 1);
  await assertAuditClean(t);
});

/** The create answer is lost after Stripe charged: the row stays pending, the PaymentIntent exists at the fake. */
async function chargedButAnswerLost(t: StripeWorld, buyer: Buyer, deps: BillingDeps) {
  await withSavedCard(t, buyer);
  await spend(t, buyer.user.id, 6_000_000, 75_000);
  t.fake.failNetwork(3, { afterProcessing: true }); // every attempt of the SDK's is charged, every answer lost
  assert.equal(await processDueRecharges(deps), ['retry']);
  const [row] = await rechargesOf(t, buyer.user.id);
  const intent = t.fake.paymentIntents().find((pi) => pi.metadata?.kind === 'auto_recharge')!;
  assert.is(intent.metadata.recharge_id, String(row!.id));
  assert.is(row!.status, 'pending');
  return { row: row!, intent };
}

recharge('the webhook first: payment_intent.succeeded credits the recharge by its metadata; the retry then finds it credited', async ({ t, buyer, deps }) => {
  const { intent } = await chargedButAnswerLost(t, buyer, deps);
  assert.is((await deliver(t, t.fake.event('payment_intent.succeeded', t.fake.paymentIntent(intent.id)))).status, 200);
  assert.is((await autoRechargeEntries(t, buyer.user.id)).length, 1);
  t.clock.advance(60_000);
  assert.equal(await processDueRecharges(deps), [], 'nothing pending any more');
  assert.is(t.fake.paymentIntents().filter((pi) => pi.metadata?.kind === 'auto_recharge').length, 1, 'charged once');
  assert.is((await walletSummary(t.db, buyer.user.id)).balanceMc, STARTER_MC - 6_000_000 + BASIC_MC);
  await assertAuditClean(t);
});

recharge('reconcile: a recharge left processing is looked up at the provider and credited once', async ({ t, buyer, deps }) => {
  const { row, intent } = await chargedButAnswerLost(t, buyer, deps);
  // As if the provider had answered "processing": the intent is stored and the worker waits.
  const processing = { id: intent.id, status: 'processing' as const, amountCents: 2_000, currency: 'usd', chargeId: null, receiptUrl: null, failureCode: null, metadata: {} };
  assert.is(await applyIntentToRecharge(deps, row.id, processing), 'processing');
  const first = await reconcilePurchases(deps, t.clock.now() - 3_600_000);
  assert.equal(first.fulfilled, [intent.id]);
  const again = await reconcilePurchases(deps, t.clock.now() - 3_600_000);
  assert.equal(again.fulfilled, []);
  assert.is((await autoRechargeEntries(t, buyer.user.id)).length, 1);
  const purchase = await t.db.selectFrom('purchases').selectAll().where('kind', '=', 'auto_recharge').executeTakeFirstOrThrow();
  assert.is(purchase.payment_intent_id, intent.id);
  assert.ok(purchase.receipt_url, 'the receipt came with the retrieved intent');
  await assertAuditClean(t);
});

recharge('the monthly limit stops further recharges until the next month', async ({ t, buyer, deps }) => {
  await withSavedCard(t, buyer, 1);
  await spend(t, buyer.user.id, 6_000_000, 75_000);
  await processDueRecharges(deps);
  await spend(t, buyer.user.id, 21_000_000, 262_500); // down to 3,000 credits again
  assert.is((await rechargesOf(t, buyer.user.id)).length, 1, 'the limit of 1 was reached');
  t.clock.set(Date.UTC(2026, 11, 1, 0, 5));
  await spend(t, buyer.user.id, 1_000, 1);
  assert.is((await rechargesOf(t, buyer.user.id)).length, 2, 'a new month, a new recharge');
  assert.equal(await processDueRecharges(deps), ['credited']);
  await assertAuditClean(t);
});

recharge('a refund of a recharge claws back like a purchase', async ({ t, buyer, deps }) => {
  await withSavedCard(t, buyer);
  await spend(t, buyer.user.id, 6_000_000, 75_000);
  await processDueRecharges(deps);
  const intent = t.fake.paymentIntents().find((pi) => pi.metadata?.kind === 'auto_recharge')!;
  const chargeId = intent.latest_charge as string;
  const { charge } = t.fake.refund(chargeId, 1_000);
  assert.is((await deliver(t, t.fake.event('charge.refunded', charge))).status, 200);
  const before = STARTER_MC - 6_000_000 + BASIC_MC;
  assert.is((await walletSummary(t.db, buyer.user.id)).balanceMc, before - BASIC_MC / 2);
  const purchase = await t.db.selectFrom('purchases').selectAll().where('kind', '=', 'auto_recharge').executeTakeFirstOrThrow();
  assert.is(purchase.clawed_back_mc, BASIC_MC / 2);
  assert.ok(chargeIdOf);
  await assertAuditClean(t);
});

recharge('no low-balance email while a recharge is pending', async ({ t, buyer }) => {
  await withSavedCard(t, buyer);
  // 9,600 credits spent: 400 left, below both thresholds; the recharge starts in the same settle.
  await spend(t, buyer.user.id, 9_600_000, 120_000);
  assert.is((await rechargesOf(t, buyer.user.id)).length, 1);
  const alerts = await t.db.selectFrom('mail_outbox').select('subject').where('subject', 'like', '%running low%').execute();
  assert.is(alerts.length, 0);
});

recharge.run();

const demo = suite('auto-recharge with demo payments');
demo('demo mode: save the demo card, recharge without a card being charged', async () => {
  const t = await testApp();
  try {
    const buyer = await signedInBuyer(t);
    const checkout = await buyer.browser.post('/credits/checkout', { package: 'starter', save_card: 'on' });
    const sessionId = /cs_demo_[a-z0-9]+/.exec(checkout.headers.get('location') ?? '')![0];
    const paid = await buyer.browser.post(`/credits/demo-checkout/${sessionId}/pay`, {});
    assert.is(paid.status, 303, paid.text.slice(0, 300));
    await buyer.browser.get(paid.headers.get('location')!);
    const saved = await buyer.browser.post('/settings/billing', { low_balance_threshold: '500', auto_recharge: 'on', auto_recharge_threshold: '5000', auto_recharge_package: 'basic', auto_recharge_monthly_limit: '3', monthly_cap: '' });
    assert.is(saved.status, 303, [...saved.doc.querySelectorAll('.field-error')].map((e) => e.textContent).join('; '));
    await spend(t, buyer.user.id, 6_000_000, 75_000);
    const deps = billingDeps(t.config, t.db, t.clock, () => {})!;
    assert.equal(await processDueRecharges(deps), ['credited']);
    assert.is((await walletSummary(t.db, buyer.user.id)).balanceMc, STARTER_MC - 6_000_000 + BASIC_MC);
    // The receipt, linked from the confirmation mail, names the PaymentIntent (a recharge has no Checkout Session).
    const intentId = (await t.db.selectFrom('purchases').select('payment_intent_id').where('kind', '=', 'auto_recharge').executeTakeFirstOrThrow()).payment_intent_id!;
    const receiptPath = `/credits/receipts/${encodeURIComponent(intentId)}`;
    const mail = await t.db.selectFrom('mail_outbox').select(['subject', 'body_text']).where('body_text', 'like', '%Basic%').where('subject', 'like', '%credits added%').executeTakeFirstOrThrow();
    // It says it happened by itself, and why, not "Thank you for your purchase".
    assert.match(mail.subject, /^Auto-recharge: .* credits added automatically/);
    assert.match(mail.body_text, /^Auto-recharge bought credits automatically with your saved card, because your available balance fell below the threshold/);
    assert.ok(mail.body_text.includes(`Receipt: ${t.config.publicUrl}${receiptPath}\n`), mail.body_text);
    const receipt = await buyer.browser.get(receiptPath);
    assert.is(receipt.status, 200);
    assert.is(receipt.doc.querySelector('.receipt code')?.textContent, intentId);
    await assertAuditClean(t);
  } finally {
    await t.close();
  }
});
demo.run();
