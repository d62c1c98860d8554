// What the billing suites share: the app with Stripe pointed at the hand-written fake (one clock for
// both), a signed-in buyer, checkout through the real route, webhooks signed by the fake, and checks.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type Stripe from 'stripe';
import { startStripeFake, type StripeFake } from '../fakes/stripe/server.ts';
import { testApp, type Answer, type TestApp } from './app.ts';
import { START_MS } from './db.ts';
import { audit } from '../../src/audit.ts';
import { walletSummary } from '../../src/ledger/wallet.ts';
import type { Purchase } from '../../src/db/schema.ts';
import { signedIn, type SignedIn } from './signed-in.ts';

export const WEBHOOK_SECRET = 'whsec_test_tokentab';

export interface StripeWorld extends TestApp {
  fake: StripeFake;
  stop(): Promise<void>;
}

export async function stripeWorld(env: Record<string, string> = {}): Promise<StripeWorld> {
  let world: TestApp | null = null;
  // The fake stamps `created` from the app's manual clock, so reconcile's "last 72 hours" agree.
  const fake = await startStripeFake({ clock: { now: () => world?.clock.now() ?? START_MS } });
  world = await testApp({ PAYMENTS: 'stripe', STRIPE_SECRET_KEY: 'sk_test_tokentab', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_API_BASE: fake.url, ...env });
  const t = world;
  return {
    ...t,
    fake,
    async stop() {
      await fake.close();
      await t.close();
    },
  };
}

/** A suite whose every test gets its own Stripe world, stopped after it. */
export function stripeSuite(name: string) {
  const tests = suite<{ t: StripeWorld }>(name);
  tests.before.each(async (context) => {
    context.t = await stripeWorld();
  });
  tests.after.each(async ({ t }) => {
    await t.stop();
  });
  return tests;
}

export type Buyer = SignedIn;

let buyers = 0;
export function signedInBuyer(t: TestApp, email = `buyer${++buyers}@example.com`): Promise<Buyer> {
  return signedIn(t, email);
}

export interface Started {
  answer: Answer;
  sessionId: string;
  purchase: Purchase;
}

/** POST /credits/checkout as the packages grid does; the answer is a 303 to the fake's hosted page. */
export async function startPurchase(t: TestApp, buyer: Buyer, packageId = 'starter', extra: Record<string, string> = {}): Promise<Started> {
  const answer = await buyer.browser.post('/credits/checkout', { package: packageId, ...extra });
  assert.is(answer.status, 303, `checkout answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  const location = answer.headers.get('location') ?? '';
  const sessionId = /\/(cs_[A-Za-z0-9_]+)$/.exec(location)?.[1];
  assert.ok(sessionId, `a Checkout Session url, got ${location}`);
  const purchase = await t.db.selectFrom('purchases').selectAll().where('checkout_session_id', '=', sessionId!).executeTakeFirstOrThrow();
  return { answer, sessionId: sessionId!, purchase };
}

/** Delivers an event to the app as Stripe would: signed by the fake, the pretty-printed body as is. */
export async function deliver(t: StripeWorld, event: Stripe.Event): Promise<Response> {
  const signed = t.fake.signedWebhook(event, WEBHOOK_SECRET);
  return t.fetch('/webhooks/stripe', { method: 'POST', headers: signed.headers, body: signed.payload });
}

export function sessionEvent(t: StripeWorld, type: Stripe.Event.Type, sessionId: string): Stripe.Event {
  return t.fake.event(type, t.fake.session(sessionId));
}

export function chargeIdOf(t: StripeWorld, sessionId: string): string {
  const session = t.fake.session(sessionId);
  return t.fake.paymentIntent(session.payment_intent as string).latest_charge as string;
}

export async function balanceMc(t: TestApp, userId: number): Promise<number> {
  return (await walletSummary(t.db, userId)).balanceMc;
}

export async function purchaseOf(t: TestApp, sessionId: string): Promise<Purchase> {
  return t.db.selectFrom('purchases').selectAll().where('checkout_session_id', '=', sessionId).executeTakeFirstOrThrow();
}

export async function entriesOf(t: TestApp, userId: number) {
  return t.db.selectFrom('ledger_entries').selectAll().where('user_id', '=', userId).orderBy('id').execute();
}

export async function assertAuditClean(t: TestApp): Promise<void> {
  const violations = await audit(t.db);
  assert.equal(violations, [], `audit: ${violations.map((v) => v.detail).join('; ')}`);
}

export const STARTER_MC = 10_000_000;

/** Buys Starter with "save the card", then turns auto-recharge on: Basic below 5,000 credits, `limit` a month. */
export async function withSavedCard(t: StripeWorld, buyer: Buyer, limit = 3): Promise<void> {
  const { sessionId } = await startPurchase(t, buyer, 'starter', { save_card: 'on' });
  t.fake.paySession(sessionId, { savePaymentMethod: true, card: { brand: 'visa', last4: '4242' } });
  assert.is((await deliver(t, t.fake.event('checkout.session.completed', t.fake.session(sessionId)))).status, 200);
  const settings = await buyer.browser.get('/settings/billing');
  assert.match(settings.doc.querySelector('.saved-card')?.textContent ?? '', /visa.*4242/);
  const saved = await buyer.browser.post('/settings/billing', {
    low_balance_threshold: '500',
    auto_recharge: 'on',
    auto_recharge_threshold: '5000',
    auto_recharge_package: 'basic',
    auto_recharge_monthly_limit: String(limit),
    monthly_cap: '',
  });
  assert.is(saved.status, 303, saved.text.slice(0, 500));
}

