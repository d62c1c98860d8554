// The purchases list on the Credits tab: a purchase left at checkout offers Resume (back to its open
// Checkout page) and Cancel, shows "expired" once the provider expires it (webhook, or reconcile for
// a missed webhook and for the demo provider), and the list pages with the keyset cursor.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { testApp, type TestApp } from './helpers/app.ts';
import { assertAuditClean, balanceMc, deliver, purchaseOf, sessionEvent, signedInBuyer, startPurchase, stripeSuite, type Buyer } from './helpers/billing.ts';
import { reconcileRecent } from '../src/billing/reconcile.ts';
import { CHECKOUT_SESSION_LIFETIME_MS } from '../src/billing/payment-provider.ts';

/** The row the list shows for a purchase: its status, and the links and buttons it offers. */
async function listedRow(buyer: Buyer, publicId: string, path = '/credits') {
  const page = await buyer.browser.get(path);
  assert.is(page.status, 200);
  const row = page.doc.querySelector(`#purchases tr[data-purchase="${publicId}"]`);
  assert.ok(row, `purchase ${publicId} listed`);
  return {
    status: row!.querySelector('.purchase-status')?.textContent?.trim(),
    resume: row!.querySelector('a[data-resume]')?.getAttribute('href') ?? null,
    cancel: row!.querySelector('form')?.getAttribute('action') ?? null,
  };
}

const demo = suite<{ t: TestApp }>('purchases list (demo payments)');
demo.before.each(async (context) => {
  context.t = await testApp();
});
demo.after.each(async ({ t }) => {
  await t.close();
});

demo('a purchase left at the demo checkout: Resume leads back to it while open; after 24 h reconcile shows it expired with no Resume and it cannot be paid', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { purchase, sessionId } = await startPurchase(t, buyer, 'starter');
  const open = await listedRow(buyer, purchase.public_id);
  assert.equal(open, { status: 'pending', resume: `/credits/demo-checkout/${sessionId}`, cancel: `/credits/purchases/${purchase.public_id}/cancel` });
  // Resume opens the very checkout page, still payable.
  const resumed = await buyer.browser.get(open.resume!);
  assert.is(resumed.status, 200);
  assert.ok(resumed.doc.querySelector(`main form[action="/credits/demo-checkout/${sessionId}/pay"]`));

  t.clock.advance(CHECKOUT_SESSION_LIFETIME_MS);
  // Past the session's lifetime it is no longer offered, even before anything recorded the expiry.
  assert.is((await listedRow(buyer, purchase.public_id)).resume, null);
  const result = await reconcileRecent(t.ctx.billing!);
  assert.equal(result.expired, [sessionId]);
  assert.equal(await listedRow(buyer, purchase.public_id), { status: 'expired', resume: null, cancel: null });
  // Paying the expired session now credits nothing.
  const late = await buyer.browser.post(`/credits/demo-checkout/${sessionId}/pay`, {});
  await buyer.browser.get(late.headers.get('location')!);
  assert.is((await purchaseOf(t, sessionId)).status, 'expired');
  assert.is(await balanceMc(t, buyer.user.id), 0);
  await assertAuditClean(t);
});

demo('Cancel from the list: the purchase is cancelled, its session can no longer be paid, and another user cannot cancel it', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const other = await signedInBuyer(t);
  const { purchase, sessionId } = await startPurchase(t, buyer, 'starter');
  const stranger = await other.browser.post(`/credits/purchases/${purchase.public_id}/cancel`, {});
  assert.is(stranger.status, 404);
  assert.is((await purchaseOf(t, sessionId)).status, 'pending');

  const cancelled = await buyer.browser.post(`/credits/purchases/${purchase.public_id}/cancel`, {});
  assert.is(cancelled.status, 303);
  assert.is(cancelled.headers.get('location'), '/credits#purchases');
  assert.equal(await listedRow(buyer, purchase.public_id), { status: 'cancelled', resume: null, cancel: null });
  const late = await buyer.browser.post(`/credits/demo-checkout/${sessionId}/pay`, {});
  await buyer.browser.get(late.headers.get('location')!);
  assert.is(await balanceMc(t, buyer.user.id), 0);
  await assertAuditClean(t);
});

demo('the purchases list pages with the keyset cursor: Older then Newer visit every purchase exactly once, in order', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const made: string[] = [];
  for (let i = 0; i < 23; i++) {
    made.push((await startPurchase(t, buyer, 'starter')).purchase.public_id);
    // Some share a millisecond: the id breaks the tie.
    if (i % 3 === 0) t.clock.advance(1);
  }
  const newestFirst = [...made].reverse();
  const seen: string[] = [];
  const pages: string[][] = [];
  let path: string | null = '/credits';
  while (path) {
    const page = await buyer.browser.get(path);
    assert.is(page.status, 200);
    const ids = [...page.doc.querySelectorAll('#purchases tr[data-purchase]')].map((row) => row.getAttribute('data-purchase')!);
    pages.push(ids);
    seen.push(...ids);
    path = page.doc.querySelector('#purchases .pager a[rel="next"]')?.getAttribute('href') ?? null;
  }
  assert.equal(pages.map((p) => p.length), [10, 10, 3]);
  assert.equal(seen, newestFirst);
  // Older from the first page under htmx: the section alone, the next ten; its Newer goes back.
  const older = (await buyer.browser.get('/credits')).doc.querySelector('#purchases .pager a[rel="next"]')!;
  assert.is(older.getAttribute('hx-target'), '#purchases');
  const last = await buyer.browser.get(older.getAttribute('hx-get')!, { htmx: true });
  assert.is(last.status, 200);
  assert.ok(last.doc.querySelector('section#purchases'));
  assert.is(last.doc.querySelector('header.top'), null, 'only the section under htmx');
  assert.equal([...last.doc.querySelectorAll('tr[data-purchase]')].map((r) => r.getAttribute('data-purchase')), newestFirst.slice(10, 20));
  const newer = last.doc.querySelector('.pager a[rel="prev"]')!.getAttribute('href')!;
  const back = await buyer.browser.get(newer);
  assert.equal([...back.doc.querySelectorAll('#purchases tr[data-purchase]')].map((r) => r.getAttribute('data-purchase')), newestFirst.slice(0, 10));
  // A tampered cursor is refused with its reason, nothing listed.
  const bad = await buyer.browser.get('/credits/purchases?cursor=abc.def', { htmx: true });
  assert.is(bad.status, 400);
  assert.match(bad.doc.querySelector('[role=alert]')?.textContent ?? '', /cursor is not valid/);
});

const stripe = stripeSuite('purchases list (Stripe)');

stripe('Stripe expires an abandoned checkout: the expired webhook shows it expired, with no Resume and no Cancel', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { purchase, sessionId } = await startPurchase(t, buyer, 'starter');
  const open = await listedRow(buyer, purchase.public_id);
  assert.is(open.status, 'pending');
  assert.is(open.resume, t.fake.session(sessionId).url);
  t.fake.expireSession(sessionId);
  assert.is((await deliver(t, sessionEvent(t, 'checkout.session.expired', sessionId))).status, 200);
  assert.equal(await listedRow(buyer, purchase.public_id), { status: 'expired', resume: null, cancel: null });
  assert.is(await balanceMc(t, buyer.user.id), 0);
  await assertAuditClean(t);
});

stripe('the expired webhook was missed: reconcile looks at checkouts left past 24 h and records them expired', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { purchase, sessionId } = await startPurchase(t, buyer, 'starter');
  t.clock.advance(CHECKOUT_SESSION_LIFETIME_MS);
  t.fake.expireSession(sessionId);
  const result = await reconcileRecent(t.ctx.billing!);
  assert.equal(result.expired, [sessionId]);
  assert.equal(await listedRow(buyer, purchase.public_id), { status: 'expired', resume: null, cancel: null });
  // The next run has nothing left to look at.
  assert.equal((await reconcileRecent(t.ctx.billing!)).expired, []);
  await assertAuditClean(t);
});

demo.run();
stripe.run();
