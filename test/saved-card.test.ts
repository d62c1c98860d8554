// The saved card in the billing settings: seen, and removed (detached at Stripe through the SDK,
// against the fake), which turns auto-recharge off and says so; a provider that cannot be reached
// keeps the card and says why. Demo payments remove the demo card locally.
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import { createStripeClient } from '../src/billing/stripe-provider.ts';
import { billingSettings } from '../src/settings/billing-settings.ts';
import { assertAuditClean, signedInBuyer, startPurchase, stripeSuite, withSavedCard } from './helpers/billing.ts';
import { testApp, type TestApp } from './helpers/app.ts';

const cards = stripeSuite('saved card (Stripe)');

cards('Remove card: detached at Stripe, gone from the settings, auto-recharge off with a notice saying so', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  await withSavedCard(t, buyer);
  const { paymentMethodId } = (await t.db.selectFrom('saved_cards').select('payment_method_id as paymentMethodId').where('user_id', '=', buyer.user.id).executeTakeFirstOrThrow());
  assert.is((await billingSettings(t.db, buyer.user.id)).autoRecharge, true);
  const settings = await buyer.browser.get('/settings/billing');
  const remove = settings.doc.querySelector('form#remove-card[method=post][action="/settings/billing/card/remove"] button[type=submit]');
  assert.is(remove?.textContent?.trim(), 'Remove card');
  // Not a button of the settings form: Enter in a settings field must save, never remove the card.
  assert.is(settings.doc.querySelector('#billing-settings button[type=submit]')?.textContent?.trim(), 'Save settings');

  const removed = await buyer.browser.post('/settings/billing/card/remove', {});
  assert.is(removed.status, 303);
  const after = await buyer.browser.get(removed.headers.get('location')!);
  assert.match(after.doc.querySelector('#billing-settings [role=status]')?.textContent ?? '', /card was removed, and auto-recharge is now off/);
  assert.is(after.doc.querySelector('.saved-card'), null);
  assert.is(after.doc.querySelector('#remove-card'), null);
  assert.is((after.doc.querySelector('input[name=auto_recharge]') as HTMLInputElement).checked, false);
  assert.is((await billingSettings(t.db, buyer.user.id)).autoRecharge, false);
  // At Stripe the card belongs to no customer any more: it cannot be charged off-session.
  const atStripe = await createStripeClient(t.config).paymentMethods.retrieve(paymentMethodId);
  assert.is(atStripe.customer, null);
  // The balance card no longer promises a recharge.
  const credits = await buyer.browser.get('/credits');
  assert.is(credits.doc.querySelector('#balance-card .auto-recharge-state')?.textContent?.trim(), 'Auto-recharge: off');
  await assertAuditClean(t);
});

cards('Stripe cannot be reached: the card is kept, auto-recharge unchanged, and the page says why', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  await withSavedCard(t, buyer);
  // The SDK retries twice: every try fails.
  t.fake.failRequests(3, { status: 500, type: 'api_error' });
  const answer = await buyer.browser.post('/settings/billing/card/remove', {});
  assert.is(answer.status, 502);
  assert.match(answer.doc.querySelector('#billing-settings [role=alert]')?.textContent ?? '', /could not be reached, so the card was not removed/);
  assert.ok(answer.doc.querySelector('.saved-card'));
  assert.is((await billingSettings(t.db, buyer.user.id)).autoRecharge, true);
});

const demo = suite<{ t: TestApp }>('saved card (demo payments)');
demo.before.each(async (context) => {
  context.t = await testApp();
});
demo.after.each(async ({ t }) => {
  await t.close();
});

demo('the demo card is removed: forgotten here, and the page says so', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const path = (await startPurchase(t, buyer, 'starter', { save_card: 'on' })).answer.headers.get('location')!;
  const paid = await buyer.browser.post(`${path}/pay`, {});
  await buyer.browser.get(paid.headers.get('location')!);
  assert.match((await buyer.browser.get('/settings/billing')).doc.querySelector('.saved-card')?.textContent ?? '', /Demo card.*4242/s);
  const removed = await buyer.browser.post('/settings/billing/card/remove', {});
  assert.is(removed.status, 303);
  const answer = await buyer.browser.get(removed.headers.get('location')!);
  assert.match(answer.doc.querySelector('#billing-settings [role=status]')?.textContent ?? '', /^The saved card was removed\.$/);
  assert.is(answer.doc.querySelector('.saved-card'), null);
  assert.is(await t.db.selectFrom('saved_cards').select('user_id').executeTakeFirst(), undefined);
  await assertAuditClean(t);
});

cards.run();
demo.run();
