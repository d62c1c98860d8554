// The Stripe fake driven by the real SDK over HTTP: what billing tests rely on it to do, as Stripe does it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { rejects } from './helpers/assert.ts';
import { decodeForm } from './fakes/stripe/params.ts';
import { startStripeFake, type StripeFake } from './fakes/stripe/server.ts';

const fake = suite<{ fake: StripeFake; stripe: Stripe }>('stripe fake');
fake.before.each(async (context) => {
  context.fake = await startStripeFake();
  context.stripe = new Stripe('sk_test_fake', { host: '127.0.0.1', port: context.fake.port, protocol: 'http', maxNetworkRetries: 0 });
});
fake.after.each(async ({ fake }) => {
  await fake.close();
});

// A starter package as the app buys it: one line, price_data, a saved card for auto-recharge.
function checkoutParams(customer: string, purchaseId = 'pur_1'): Stripe.Checkout.SessionCreateParams {
  return {
    mode: 'payment',
    customer,
    client_reference_id: purchaseId,
    metadata: { purchase_id: purchaseId },
    line_items: [{ price_data: { currency: 'usd', unit_amount: 500, product_data: { name: 'Starter: 5,000 credits' } }, quantity: 1 }],
    payment_intent_data: { setup_future_usage: 'off_session', metadata: { purchase_id: purchaseId } },
    allow_promotion_codes: false,
    automatic_tax: { enabled: false },
    success_url: 'http://localhost:3000/credits/return?session_id={CHECKOUT_SESSION_ID}',
    cancel_url: 'http://localhost:3000/credits',
  };
}

fake('decodes nested bracket keys into objects and arrays', () => {
  const form = decodeForm('line_items[0][price_data][currency]=usd&line_items[0][quantity]=2&metadata[purchase_id]=p%201&expand[]=a&expand[]=b&created[gte]=5');
  assert.equal(form, {
    line_items: [{ price_data: { currency: 'usd' }, quantity: '2' }],
    metadata: { purchase_id: 'p 1' },
    expand: ['a', 'b'],
    created: { gte: '5' },
  });
});

fake('customers are created with the email sent, retrieved, and missing ones are 404 resource_missing', async ({ fake, stripe }) => {
  const customer = await stripe.customers.create({ email: 'ada@example.com', metadata: { user_id: '7' } });
  assert.match(customer.id, /^cus_/);
  assert.is(customer.object, 'customer');
  assert.is(customer.email, 'ada@example.com');
  assert.is(customer.livemode, false);
  assert.is(customer.invoice_settings.default_payment_method, null);
  assert.equal((await stripe.customers.retrieve(customer.id)) as Stripe.Customer, customer);
  const request = fake.requests.find((r) => r.method === 'POST' && r.path === '/v1/customers')!;
  assert.is(request.body.email, 'ada@example.com');
  assert.is(request.stripeVersion, Stripe.API_VERSION);
  assert.match(request.idempotencyKey ?? '', /^stripe-node-retry-/, 'the SDK keys every POST itself');
  const error = (await rejects(() => stripe.customers.retrieve('cus_nope'), Stripe.errors.StripeInvalidRequestError)) as Stripe.errors.StripeInvalidRequestError;
  assert.is(error.statusCode, 404);
  assert.is(error.code, 'resource_missing');
});

fake('a bad API key is a 401 and an unknown parameter a 400 naming it', async ({ fake }) => {
  const wrong = new Stripe('pk_test_public', { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0 });
  await rejects(() => wrong.customers.create({ email: 'x@example.com' }), Stripe.errors.StripeAuthenticationError);
  const raw = await fetch(`${fake.url}/v1/customers`, { method: 'POST', headers: { authorization: 'Bearer sk_test_fake' }, body: new URLSearchParams({ emial: 'x@example.com' }) });
  assert.is(raw.status, 400);
  assert.equal(await raw.json(), { error: { type: 'invalid_request_error', message: 'Received unknown parameter: emial', code: 'parameter_unknown', param: 'emial' } });
});

fake('a Checkout Session is created as Stripe returns it, and its url is served by the fake', async ({ fake, stripe }) => {
  const customer = await stripe.customers.create({ email: 'ada@example.com' });
  const session = await stripe.checkout.sessions.create(checkoutParams(customer.id));
  assert.match(session.id, /^cs_test_/);
  assert.is(session.object, 'checkout.session');
  assert.is(session.url, `${fake.url}/pay/${session.id}`);
  assert.is(session.status, 'open');
  assert.is(session.payment_status, 'unpaid');
  assert.is(session.amount_subtotal, 500);
  assert.is(session.amount_total, 500);
  assert.is(session.currency, 'usd');
  assert.is(session.client_reference_id, 'pur_1');
  assert.equal(session.metadata, { purchase_id: 'pur_1' });
  assert.is(session.customer, customer.id);
  assert.is(session.payment_intent, null);
  assert.is(session.expires_at - session.created, 24 * 3600);
  assert.is(session.success_url, 'http://localhost:3000/credits/return?session_id={CHECKOUT_SESSION_ID}');
  const sent = fake.requests.find((r) => r.path === '/v1/checkout/sessions')!.body;
  assert.is(sent.line_items[0].price_data.product_data.name, 'Starter: 5,000 credits');
  assert.is(sent.payment_intent_data.setup_future_usage, 'off_session');
  assert.is(sent.allow_promotion_codes, 'false', 'booleans travel as strings');
  assert.is(sent.automatic_tax.enabled, 'false');
  const page = await fetch(session.url!);
  assert.is(page.status, 200);
  assert.match(await page.text(), /Starter: 5,000 credits/);
});

fake('a repeated Idempotency-Key returns the first session and creates nothing; other params under it are refused', async ({ fake, stripe }) => {
  const customer = await stripe.customers.create({ email: 'ada@example.com' });
  const first = await stripe.checkout.sessions.create(checkoutParams(customer.id), { idempotencyKey: 'purchase-1' });
  const second = await stripe.checkout.sessions.create(checkoutParams(customer.id), { idempotencyKey: 'purchase-1' });
  assert.is(second.id, first.id);
  assert.equal(second, first);
  assert.is((await stripe.checkout.sessions.list()).data.length, 1);
  assert.is(fake.idempotencyKeys.get('purchase-1'), 2);
  assert.equal(fake.requests.filter((r) => r.idempotencyKey === 'purchase-1').map((r) => r.replayed), [false, true]);
  await rejects(() => stripe.checkout.sessions.create(checkoutParams(customer.id, 'pur_2'), { idempotencyKey: 'purchase-1' }), Stripe.errors.StripeIdempotencyError);
});

fake('sessions are listed newest first with created, status, limit and starting_after', async ({ fake, stripe }) => {
  const customer = await stripe.customers.create({ email: 'ada@example.com' });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await stripe.checkout.sessions.create(checkoutParams(customer.id, `pur_${i}`))).id);
  fake.paySession(ids[1]!);
  fake.paySession(ids[3]!);
  const firstPage = await stripe.checkout.sessions.list({ limit: 2 });
  assert.equal(firstPage.data.map((s) => s.id), [ids[4], ids[3]]);
  assert.is(firstPage.has_more, true);
  const secondPage = await stripe.checkout.sessions.list({ limit: 2, starting_after: ids[3] });
  assert.equal(secondPage.data.map((s) => s.id), [ids[2], ids[1]]);
  const lastPage = await stripe.checkout.sessions.list({ limit: 2, starting_after: ids[1] });
  assert.equal(lastPage.data.map((s) => s.id), [ids[0]]);
  assert.is(lastPage.has_more, false);
  const complete = await stripe.checkout.sessions.list({ status: 'complete', created: { gte: Math.floor(Date.now() / 1000) - 72 * 3600 } });
  assert.equal(complete.data.map((s) => s.id), [ids[3], ids[1]]);
  assert.is((await stripe.checkout.sessions.list({ created: { gte: Math.floor(Date.now() / 1000) + 60 } })).data.length, 0);
  const all = await stripe.checkout.sessions.list({ limit: 2 }).autoPagingToArray({ limit: 100 });
  assert.is(all.length, 5, 'the SDK pages through with starting_after');
});

fake('an open session expires once; expiring a paid one is a 400', async ({ stripe, fake }) => {
  const customer = await stripe.customers.create({ email: 'ada@example.com' });
  const open = await stripe.checkout.sessions.create(checkoutParams(customer.id));
  const expired = await stripe.checkout.sessions.expire(open.id);
  assert.is(expired.status, 'expired');
  assert.is(expired.url, null);
  const paid = await stripe.checkout.sessions.create(checkoutParams(customer.id, 'pur_2'));
  fake.paySession(paid.id);
  const error = await rejects(() => stripe.checkout.sessions.expire(paid.id), Stripe.errors.StripeInvalidRequestError);
  assert.is((error as Stripe.errors.StripeError).statusCode, 400);
  assert.throws(() => fake.paySession(open.id), /expired/);
});

fake('a paid session shows paid, its PaymentIntent expands with the purchase metadata, and the charge has a receipt', async ({ fake, stripe }) => {
  const customer = await stripe.customers.create({ email: 'ada@example.com' });
  const created = await stripe.checkout.sessions.create(checkoutParams(customer.id));
  fake.paySession(created.id, { card: { brand: 'mastercard', last4: '4444' } });
  const session = await stripe.checkout.sessions.retrieve(created.id, { expand: ['payment_intent'] });
  assert.is(session.status, 'complete');
  assert.is(session.payment_status, 'paid');
  assert.is(session.customer_details?.email, 'ada@example.com');
  const paymentIntent = session.payment_intent as Stripe.PaymentIntent;
  assert.match(paymentIntent.id, /^pi_/);
  assert.is(paymentIntent.status, 'succeeded');
  assert.is(paymentIntent.amount_received, 500);
  assert.equal(paymentIntent.metadata, { purchase_id: 'pur_1' });
  assert.is(paymentIntent.setup_future_usage, 'off_session');
  const charge = await stripe.charges.retrieve(paymentIntent.latest_charge as string);
  assert.match(charge.id, /^ch_/);
  assert.is(charge.amount, 500);
  assert.is(charge.amount_refunded, 0);
  assert.is(charge.payment_intent, paymentIntent.id);
  assert.is(charge.customer, customer.id);
  assert.is(charge.receipt_url, `${fake.url}/receipts/${charge.id}`);
  assert.is((await fetch(charge.receipt_url!)).status, 200);
  const withCharge = await stripe.paymentIntents.retrieve(paymentIntent.id, { expand: ['latest_charge'] });
  assert.is((withCharge.latest_charge as Stripe.Charge).id, charge.id);
  const cards = await stripe.customers.listPaymentMethods(customer.id, { type: 'card' });
  assert.is(cards.data.length, 1);
  assert.equal([cards.data[0]!.id, cards.data[0]!.card?.brand, cards.data[0]!.card?.last4], [paymentIntent.payment_method, 'mastercard', '4444']);
  assert.is(typeof cards.data[0]!.card?.exp_year, 'number');
  assert.is((await stripe.customers.retrieve(customer.id) as Stripe.Customer).invoice_settings.default_payment_method, null, 'Checkout does not set a default card');
  const updated = await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: cards.data[0]!.id } });
  assert.is(updated.invoice_settings.default_payment_method, cards.data[0]!.id);
});

fake('the hosted page pays and redirects to success_url with the session id filled in', async ({ fake, stripe }) => {
  const customer = await stripe.customers.create({ email: 'ada@example.com' });
  const session = await stripe.checkout.sessions.create(checkoutParams(customer.id));
  const response = await fetch(session.url!, { method: 'POST', redirect: 'manual' });
  assert.is(response.status, 303);
  assert.is(response.headers.get('location'), `http://localhost:3000/credits/return?session_id=${session.id}`);
  assert.is((await stripe.checkout.sessions.retrieve(session.id)).payment_status, 'paid');
});

fake('async payments complete unpaid, then succeed or fail; amounts can be faked to mismatch', async ({ fake, stripe }) => {
  const customer = await stripe.customers.create({ email: 'ada@example.com' });
  const one = await stripe.checkout.sessions.create(checkoutParams(customer.id, 'pur_1'));
  const two = await stripe.checkout.sessions.create(checkoutParams(customer.id, 'pur_2'));
  assert.equal([fake.completeSessionUnpaid(one.id).status, fake.session(one.id).payment_status], ['complete', 'unpaid']);
  fake.completeSessionUnpaid(two.id);
  assert.is(fake.asyncPaymentSucceeds(one.id).payment_status, 'paid');
  assert.is(fake.asyncPaymentFails(two.id).payment_status, 'unpaid');
  const failed = await stripe.checkout.sessions.retrieve(two.id, { expand: ['payment_intent'] });
  assert.is((failed.payment_intent as Stripe.PaymentIntent).status, 'requires_payment_method');
  const three = await stripe.checkout.sessions.create(checkoutParams(customer.id, 'pur_3'));
  fake.setSessionAmount(three.id, 400);
  assert.is((await stripe.checkout.sessions.retrieve(three.id)).amount_subtotal, 400);
});

fake('off-session PaymentIntents succeed, decline or need authentication as scripted', async ({ fake, stripe }) => {
  const customer = await stripe.customers.create({ email: 'ada@example.com' });
  const card = fake.addCard(customer.id, { brand: 'visa', last4: '4242' });
  const recharge = (key: string) =>
    stripe.paymentIntents.create(
      { amount: 500, currency: 'usd', customer: customer.id, payment_method: card.id, off_session: true, confirm: true, metadata: { kind: 'auto_recharge' } },
      { idempotencyKey: key },
    );
  const ok = await recharge('recharge-1');
  assert.match(ok.id, /^pi_/);
  assert.is(ok.status, 'succeeded');
  assert.equal(ok.metadata, { kind: 'auto_recharge' });
  assert.is((await stripe.charges.retrieve(ok.latest_charge as string)).metadata.kind, 'auto_recharge');

  fake.scriptCard({ outcome: 'decline', declineCode: 'insufficient_funds' });
  const declined = (await rejects(() => recharge('recharge-2'), Stripe.errors.StripeCardError)) as Stripe.errors.StripeCardError;
  assert.is(declined.statusCode, 402);
  assert.is(declined.code, 'card_declined');
  assert.is(declined.decline_code, 'insufficient_funds');
  assert.is(declined.payment_intent?.status, 'requires_payment_method');
  assert.equal(declined.payment_intent?.metadata, { kind: 'auto_recharge' });

  fake.scriptCard({ outcome: 'authentication_required' });
  const auth = (await rejects(() => recharge('recharge-3'), Stripe.errors.StripeCardError)) as Stripe.errors.StripeCardError;
  assert.is(auth.code, 'authentication_required');
  const stored = await stripe.paymentIntents.retrieve(auth.payment_intent!.id);
  assert.is(stored.last_payment_error?.code, 'authentication_required');

  // The stored 402 is replayed for the same key, as Stripe does: the retry does not charge again.
  fake.scriptCard({ outcome: 'succeed' });
  await rejects(() => recharge('recharge-3'), Stripe.errors.StripeCardError);
  assert.is(fake.paymentIntents().length, 3);
  await rejects(() => stripe.paymentIntents.create({ amount: 500, currency: 'usd', customer: customer.id, confirm: true, off_session: true }), /missing a payment method/);
});

fake('a dropped connection is retried by the SDK once on its own; a retry with the same key creates one PaymentIntent', async ({ fake, stripe }) => {
  const customer = await stripe.customers.create({ email: 'ada@example.com' });
  const card = fake.addCard(customer.id);
  const params: Stripe.PaymentIntentCreateParams = { amount: 900, currency: 'usd', customer: customer.id, payment_method: card.id, off_session: true, confirm: true };
  // Two drops: the request and the SDK's own single retry of a closed connection (even with maxNetworkRetries 0).
  fake.failNetwork(2);
  await rejects(() => stripe.paymentIntents.create(params, { idempotencyKey: 'recharge-9' }), Stripe.errors.StripeConnectionError);
  assert.is(fake.idempotencyKeys.get('recharge-9'), 2);
  assert.is(fake.paymentIntents().length, 0);
  const retried = await stripe.paymentIntents.create(params, { idempotencyKey: 'recharge-9' });
  assert.is(retried.status, 'succeeded');
  assert.is(fake.paymentIntents().length, 1);

  // Processed, then the answer lost: the SDK's silent retry gets the stored answer.
  fake.failNetwork(1, { afterProcessing: true });
  const again = await stripe.paymentIntents.create(params, { idempotencyKey: 'recharge-10' });
  assert.is(fake.paymentIntents().length, 2);
  assert.equal(fake.requests.filter((r) => r.idempotencyKey === 'recharge-10').map((r) => [r.networkFailure, r.replayed]), [[true, false], [false, true]]);
  assert.is(again.id, fake.paymentIntents()[1]!.id);
});

fake('refunds add up on the charge and disputes keep their id from needs_response to won', async ({ fake, stripe }) => {
  const customer = await stripe.customers.create({ email: 'ada@example.com' });
  const session = await stripe.checkout.sessions.create(checkoutParams(customer.id));
  const paymentIntent = fake.paymentIntent(fake.paySession(session.id).payment_intent as string);
  const chargeId = paymentIntent.latest_charge as string;
  const first = fake.refund(chargeId, 200);
  assert.match(first.refund.id, /^re_/);
  assert.equal([first.charge.amount_refunded, first.charge.refunded], [200, false]);
  const second = fake.refund(chargeId);
  assert.equal([second.refund.amount, second.charge.amount_refunded, second.charge.refunded], [300, 500, true]);
  assert.throws(() => fake.refund(chargeId, 1), /left to refund/);
  const charge = await stripe.charges.retrieve(chargeId);
  assert.equal([charge.amount_refunded, charge.refunded], [500, true]);
  assert.is((await stripe.refunds.retrieve(first.refund.id)).charge, chargeId);

  const opened = fake.dispute(chargeId, { status: 'needs_response' });
  assert.match(opened.id, /^dp_/);
  assert.equal([opened.amount, opened.charge, opened.status, opened.payment_intent], [500, chargeId, 'needs_response', paymentIntent.id]);
  const won = fake.dispute(chargeId, { status: 'won' });
  assert.equal([won.id, won.status], [opened.id, 'won']);
  assert.is((await stripe.disputes.retrieve(opened.id)).status, 'won');
  assert.is(fake.charge(chargeId).disputed, true);
});

fake('a signed webhook verifies with the SDK, a tampered one does not, and deliver() POSTs it', async ({ fake, stripe }) => {
  const secret = 'whsec_test_secret';
  const customer = await stripe.customers.create({ email: 'ada@example.com' });
  const session = fake.paySession((await stripe.checkout.sessions.create(checkoutParams(customer.id))).id);
  const event = fake.event('checkout.session.completed', session);
  assert.match(event.id, /^evt_/);
  assert.is(event.api_version, Stripe.API_VERSION);
  assert.equal([event.object, event.livemode, event.pending_webhooks, event.request], ['event', false, 1, { id: null, idempotency_key: null }]);
  const signed = fake.signedWebhook(event, secret);
  const verified = stripe.webhooks.constructEvent(signed.payload, signed.headers['stripe-signature'], secret);
  assert.is(verified.type, 'checkout.session.completed');
  assert.is((verified.data.object as Stripe.Checkout.Session).id, session.id);
  assert.is((await stripe.events.retrieve(event.id)).id, event.id);
  const tampered = signed.payload.replace('"amount_total": 500', '"amount_total": 50000');
  assert.is.not(tampered, signed.payload);
  assert.throws(() => stripe.webhooks.constructEvent(tampered, signed.headers['stripe-signature'], secret), (error: Error) => error instanceof Stripe.errors.StripeSignatureVerificationError);
  assert.throws(() => stripe.webhooks.constructEvent(signed.payload, signed.headers['stripe-signature'], 'whsec_other'), (error: Error) => error instanceof Stripe.errors.StripeSignatureVerificationError);

  const received: string[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push(stripe.webhooks.constructEvent(body, String(req.headers['stripe-signature']), secret).id);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  try {
    const response = await fake.deliver(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/stripe`, event, secret);
    assert.is(response.status, 200);
    assert.equal(received, [event.id]);
  } finally {
    await new Promise((resolve) => receiver.close(resolve));
  }
});

fake.run();
