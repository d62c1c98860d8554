// POST /credits/checkout through the real Stripe SDK against the fake: the pending purchase, the
// customer made once, the Checkout Session's exact parameters, htmx, PAYMENTS=off, bad input, provider down.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { testApp } from './helpers/app.ts';
import { assertAuditClean, signedInBuyer, startPurchase, stripeWorld, type StripeWorld } from './helpers/billing.ts';

const checkout = suite<{ t: StripeWorld }>('billing checkout');
checkout.before.each(async (context) => {
  context.t = await stripeWorld();
});
checkout.after.each(async ({ t }) => {
  await t.stop();
});

checkout('creates a pending purchase and a Checkout Session with exactly the listed parameters, keyed by the purchase id', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { answer, sessionId, purchase } = await startPurchase(t, buyer, 'starter');
  assert.is(answer.headers.get('location'), `${t.fake.url}/pay/${sessionId}`);
  assert.equal(
    [purchase.status, purchase.package_id, purchase.package_name, purchase.price_cents, purchase.currency, purchase.credits_mc, purchase.save_card, purchase.payment_mode],
    ['pending', 'starter', 'Starter', 1000, 'usd', 10_000_000, 0, 'stripe'],
  );
  assert.match(purchase.public_id, /^pur_/);

  const created = t.fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/checkout/sessions');
  assert.is(created.length, 1);
  const request = created[0]!;
  assert.is(request.idempotencyKey, purchase.public_id, 'idempotency key = purchase id');
  const customerId = (await t.db.selectFrom('billing_customers').selectAll().where('user_id', '=', buyer.user.id).executeTakeFirstOrThrow()).stripe_customer_id;
  assert.equal(request.body, {
    mode: 'payment',
    customer: customerId,
    client_reference_id: purchase.public_id,
    metadata: { purchase_id: purchase.public_id },
    line_items: [{ quantity: '1', price_data: { currency: 'usd', unit_amount: '1000', product_data: { name: 'Starter: 10,000 credits' } } }],
    payment_intent_data: { metadata: { purchase_id: purchase.public_id } },
    allow_promotion_codes: 'false',
    automatic_tax: { enabled: 'false' },
    success_url: 'http://localhost:3000/credits/checkout/success?session_id={CHECKOUT_SESSION_ID}',
    cancel_url: `http://localhost:3000/credits/checkout/cancel?purchase=${purchase.public_id}`,
  });
  const session = t.fake.session(sessionId);
  assert.equal([session.amount_subtotal, session.currency, session.customer], [1000, 'usd', customerId]);
  assert.is(t.fake.customer(customerId).email, buyer.user.email, 'the customer carries the user email');
  await assertAuditClean(t);
});

checkout('save_card asks Checkout to keep the card off-session; the Stripe customer is created once and reused', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const first = await startPurchase(t, buyer, 'basic', { save_card: 'on' });
  const second = await startPurchase(t, buyer, 'starter');
  const sessions = t.fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/checkout/sessions');
  assert.equal(sessions[0]!.body.payment_intent_data, { metadata: { purchase_id: first.purchase.public_id }, setup_future_usage: 'off_session' });
  assert.equal(sessions[1]!.body.payment_intent_data, { metadata: { purchase_id: second.purchase.public_id } });
  assert.is(first.purchase.save_card, 1);
  assert.is(t.fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/customers').length, 1, 'one customer for the user');
  assert.is(t.fake.session(first.sessionId).customer, t.fake.session(second.sessionId).customer);
  assert.is.not(first.purchase.public_id, second.purchase.public_id);
  // Two Buy clicks at once still make one customer.
  const other = await signedInBuyer(t);
  await Promise.all([startPurchase(t, other), startPurchase(t, other)]);
  assert.is(t.fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/customers').length, 2);
  await assertAuditClean(t);
});

checkout('under htmx the answer is an HX-Redirect to the hosted checkout', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const answer = await buyer.browser.post('/credits/checkout', { package: 'professional' }, { htmx: true });
  assert.is(answer.status, 200);
  assert.match(answer.headers.get('hx-redirect') ?? '', new RegExp(`^${t.fake.url}/pay/cs_test_`));
});

checkout('an unknown package is a 400 that says so, and nothing reaches Stripe', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const answer = await buyer.browser.post('/credits/checkout', { package: 'platinum' });
  assert.is(answer.status, 400);
  assert.match(answer.doc.querySelector('main h1')?.textContent ?? '', /No such package/);
  assert.match(answer.doc.querySelector('main')?.textContent ?? '', /"platinum"/);
  assert.is(t.fake.requests.length, 0);
  assert.is((await t.db.selectFrom('purchases').selectAll().execute()).length, 0);
  const htmx = await buyer.browser.post('/credits/checkout', { package: 'platinum' }, { htmx: true });
  assert.is(htmx.headers.get('hx-redirect'), '/credits/checkout/problem?reason=package&detail=platinum');
  const shown = await buyer.browser.get('/credits/checkout/problem?reason=package&detail=platinum');
  assert.is(shown.status, 400);
  assert.match(shown.doc.querySelector('main h1')?.textContent ?? '', /No such package/);
});

checkout('signed out, checkout sends to the sign-in page; a foreign Origin is refused', async ({ t }) => {
  const stranger = t.browser();
  const answer = await stranger.post('/credits/checkout', { package: 'starter' });
  assert.is(answer.status, 303);
  assert.is(answer.headers.get('location'), '/login');
  const buyer = await signedInBuyer(t);
  const forged = await buyer.browser.post('/credits/checkout', { package: 'starter' }, { headers: { origin: 'https://evil.example' } });
  assert.is(forged.status, 403);
  assert.is(t.fake.requests.filter((r) => r.path === '/v1/checkout/sessions').length, 0);
});

checkout('Stripe unreachable: 502 with a clear message, the purchase is not left pending, nothing is charged', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  // The request and its two SDK retries all dropped.
  t.fake.failNetwork(3);
  const answer = await buyer.browser.post('/credits/checkout', { package: 'starter' });
  assert.is(answer.status, 502);
  assert.match(answer.doc.querySelector('main')?.textContent ?? '', /could not be reached.*nothing was charged/s);
  const purchase = await t.db.selectFrom('purchases').selectAll().executeTakeFirstOrThrow();
  assert.is(purchase.status, 'cancelled');
  assert.match(t.logLines.join("\n"), /checkout for pur_\w+ failed: StripeConnectionError/);
  await assertAuditClean(t);
});

checkout('PAYMENTS=off: checkout answers 404 saying credits are granted by the operator; no webhook endpoint', async () => {
  const t = await testApp({ PAYMENTS: 'off' });
  try {
    const buyer = await signedInBuyer(t);
    const answer = await buyer.browser.post('/credits/checkout', { package: 'starter' });
    assert.is(answer.status, 404);
    assert.match(answer.doc.querySelector('main')?.textContent ?? '', /turned off.*granted by its operator/s);
    assert.is((await t.db.selectFrom('purchases').selectAll().execute()).length, 0);
    const hook = await t.fetch('/webhooks/stripe', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.is(hook.status, 404);
  } finally {
    await t.close();
  }
});

checkout.run();
