// POST /webhooks/stripe: the raw body's signature (400 and nothing changed when bad), events recorded
// only with their effect (500 and a clean retry on failure), duplicates and unknown types 200.
import * as assert from 'uvu/assert';
import Stripe from 'stripe';
import {
  assertAuditClean,
  balanceMc,
  deliver,
  purchaseOf,
  sessionEvent,
  signedInBuyer,
  startPurchase,
  STARTER_MC,
  stripeSuite,
  stripeWorld,
  WEBHOOK_SECRET,
  type StripeWorld,
} from './helpers/billing.ts';

const webhook = stripeSuite('billing webhook');

async function processedEvents(t: StripeWorld) {
  return t.db.selectFrom('stripe_events').selectAll().execute();
}

webhook('a bad signature is a 400 and changes nothing: wrong secret, tampered body, re-serialised body, missing or stale header', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId } = await startPurchase(t, buyer);
  t.fake.paySession(sessionId);
  const event = sessionEvent(t, 'checkout.session.completed', sessionId);
  const signed = t.fake.signedWebhook(event, WEBHOOK_SECRET);
  const post = (body: string, headers: Record<string, string>) => t.fetch('/webhooks/stripe', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const attempts = [
    post(signed.payload, { 'stripe-signature': t.fake.signedWebhook(event, 'whsec_someone_else').headers['stripe-signature'] }),
    post(signed.payload.replace('"amount_total": 1000', '"amount_total": 100000'), signed.headers),
    post(JSON.stringify(event), signed.headers), // the same event, compacted: not the bytes Stripe signed
    post(signed.payload, {}),
    post(signed.payload, { 'stripe-signature': t.fake.signedWebhook(event, WEBHOOK_SECRET, { timestamp: Math.floor(Date.now() / 1000) - 3600 }).headers['stripe-signature'] }),
  ];
  for (const answer of await Promise.all(attempts)) assert.is(answer.status, 400);
  assert.is(await balanceMc(t, buyer.user.id), 0);
  assert.is((await purchaseOf(t, sessionId)).status, 'pending');
  assert.equal(await processedEvents(t), []);
  assert.is(t.logLines.filter((l) => l.startsWith('webhook refused')).length, 5);
  // The genuine delivery still works.
  assert.is((await deliver(t, event)).status, 200);
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC);
  await assertAuditClean(t);
});

webhook('no STRIPE_WEBHOOK_SECRET: every event is refused with 400', async () => {
  const t = await stripeWorld({ STRIPE_WEBHOOK_SECRET: '' });
  try {
    const buyer = await signedInBuyer(t);
    const { sessionId } = await startPurchase(t, buyer);
    t.fake.paySession(sessionId);
    assert.is((await deliver(t, sessionEvent(t, 'checkout.session.completed', sessionId))).status, 400);
    assert.is(await balanceMc(t, buyer.user.id), 0);
    assert.match(t.logLines.join('\n'), /STRIPE_WEBHOOK_SECRET is not set/);
  } finally {
    await t.stop();
  }
});

webhook('a failure answers 500 and records nothing, so Stripe\'s retry applies the event', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId } = await startPurchase(t, buyer);
  t.fake.paySession(sessionId);
  const event = sessionEvent(t, 'checkout.session.completed', sessionId);
  t.fake.failNetwork(3); // retrieving the session fails, with the SDK's retries
  const failed = await deliver(t, event);
  assert.is(failed.status, 500);
  assert.equal(await processedEvents(t), []);
  assert.is(await balanceMc(t, buyer.user.id), 0);
  assert.match(t.logLines.join('\n'), new RegExp(`webhook checkout.session.completed ${event.id} failed: StripeConnectionError`));
  const retried = await deliver(t, event);
  assert.is(retried.status, 200);
  assert.equal(await retried.json(), { received: true, outcome: 'applied' });
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC);
  assert.equal((await processedEvents(t)).map((e) => [e.id, e.type]), [[event.id, 'checkout.session.completed']]);
  await assertAuditClean(t);
});

webhook('a duplicate answers 200 and changes nothing; unknown types answer 200 and are not recorded', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId } = await startPurchase(t, buyer);
  t.fake.paySession(sessionId);
  const event = sessionEvent(t, 'checkout.session.completed', sessionId);
  assert.equal(await (await deliver(t, event)).json(), { received: true, outcome: 'applied' });
  // Even if the session's state moved on meanwhile, a duplicate is not applied again.
  const requestsBefore = t.fake.requests.length;
  assert.equal(await (await deliver(t, event)).json(), { received: true, outcome: 'duplicate' });
  assert.is(t.fake.requests.length, requestsBefore, 'a duplicate does not even ask Stripe');
  const unknown = t.fake.event('customer.updated' as Stripe.Event.Type, t.fake.customer(t.fake.session(sessionId).customer as string));
  const answer = await deliver(t, unknown);
  assert.is(answer.status, 200);
  assert.equal(await answer.json(), { received: true, outcome: 'ignored' });
  assert.is((await processedEvents(t)).length, 1);
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC);
  await assertAuditClean(t);
});

webhook('async payment failed and session expired mark the purchase, and never undo a payment', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const failing = await startPurchase(t, buyer);
  t.fake.completeSessionUnpaid(failing.sessionId);
  await deliver(t, sessionEvent(t, 'checkout.session.completed', failing.sessionId));
  t.fake.asyncPaymentFails(failing.sessionId);
  await deliver(t, sessionEvent(t, 'checkout.session.async_payment_failed', failing.sessionId));
  assert.is((await purchaseOf(t, failing.sessionId)).status, 'failed');
  const back = await buyer.browser.get(`/credits/checkout/success?session_id=${failing.sessionId}`);
  assert.is(back.doc.querySelector('#purchase-status')?.getAttribute('data-state'), 'failed');

  const abandoned = await startPurchase(t, buyer);
  t.fake.expireSession(abandoned.sessionId);
  await deliver(t, sessionEvent(t, 'checkout.session.expired', abandoned.sessionId));
  assert.is((await purchaseOf(t, abandoned.sessionId)).status, 'expired');

  const paid = await startPurchase(t, buyer);
  t.fake.paySession(paid.sessionId);
  await deliver(t, sessionEvent(t, 'checkout.session.completed', paid.sessionId));
  // A stale "expired" about a session that was paid changes nothing.
  await deliver(t, t.fake.event('checkout.session.expired', { ...t.fake.session(paid.sessionId), status: 'expired' }));
  await deliver(t, t.fake.event('checkout.session.async_payment_failed', t.fake.session(paid.sessionId)));
  assert.is((await purchaseOf(t, paid.sessionId)).status, 'paid');
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC);
  await assertAuditClean(t);
});

webhook('a session whose purchase id was never stored (the process died after creating it) is found by its metadata', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId, purchase } = await startPurchase(t, buyer);
  await t.db.updateTable('purchases').set({ checkout_session_id: null }).where('id', '=', purchase.id).execute();
  t.fake.paySession(sessionId);
  assert.is((await deliver(t, sessionEvent(t, 'checkout.session.completed', sessionId))).status, 200);
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC);
  assert.is((await purchaseOf(t, sessionId)).public_id, purchase.public_id);
  await assertAuditClean(t);
});

webhook.run();
