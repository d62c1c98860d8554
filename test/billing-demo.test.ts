// Demo payments (PAYMENTS=demo, the default without keys): a local checkout page with Pay and Cancel
// and a "no card is charged" note, fulfilled by the same fulfil function, and a local receipt.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { testApp, type TestApp } from './helpers/app.ts';
import { runCli } from '../src/cli/run.ts';
import { assertAuditClean, balanceMc, entriesOf, purchaseOf, signedInBuyer, STARTER_MC, type Buyer } from './helpers/billing.ts';

const demo = suite<{ t: TestApp }>('billing demo payments');
demo.before.each(async (context) => {
  context.t = await testApp();
});
demo.after.each(async ({ t }) => {
  await t.close();
});

/** Buy from the packages grid's form; returns the local checkout page's path and session. */
async function checkout(buyer: Buyer, packageId = 'starter') {
  const answer = await buyer.browser.post('/credits/checkout', { package: packageId, save_card: 'on' });
  assert.is(answer.status, 303);
  const location = new URL(answer.headers.get('location')!, 'http://localhost:3000');
  const sessionId = /^\/credits\/demo-checkout\/(cs_demo_\w+)$/.exec(location.pathname)?.[1];
  assert.ok(sessionId, location.pathname);
  return { path: location.pathname, sessionId: sessionId! };
}

demo('the local checkout page says no card is charged; Pay credits through fulfilment, once, with a local receipt', async ({ t }) => {
  assert.is(t.config.payments, 'demo');
  const buyer = await signedInBuyer(t);
  const { path, sessionId } = await checkout(buyer);
  const page = await buyer.browser.get(path);
  assert.is(page.status, 200);
  assert.match(page.doc.querySelector('.demo-note')?.textContent ?? '', /no card is charged/);
  assert.match(page.doc.querySelector('main')?.textContent ?? '', /Starter.*10,000.*\$10\.00/s);
  assert.is(page.doc.querySelector('main form')?.getAttribute('action'), `${path}/pay`);
  const buttons = [...page.doc.querySelectorAll('main form button')].map((b) => [b.textContent?.trim(), b.getAttribute('formaction')]);
  assert.equal(buttons, [['Pay $10.00', null], ['Cancel', `${path}/cancel`]]);
  const purchase = await purchaseOf(t, sessionId);
  assert.equal([purchase.payment_mode, purchase.save_card, purchase.status], ['demo', 1, 'pending']);

  const paid = await buyer.browser.post(`${path}/pay`, {});
  assert.is(paid.status, 303);
  assert.is(paid.headers.get('location'), `/credits/checkout/success?session_id=${sessionId}`);
  const back = await buyer.browser.get(paid.headers.get('location')!);
  assert.is(back.doc.querySelector('#purchase-status')?.getAttribute('data-state'), 'complete');
  assert.is(back.doc.querySelector('#balance-card .balance-credits')?.getAttribute('data-mc'), String(STARTER_MC));
  // A second Pay (double click) and a reload credit nothing more.
  await buyer.browser.post(`${path}/pay`, {});
  await buyer.browser.get(`/credits/checkout/success?session_id=${sessionId}`);
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC);
  assert.equal((await entriesOf(t, buyer.user.id)).map((e) => [e.type, e.amount_mc, e.reference, e.idempotency_key]), [['purchase', STARTER_MC, sessionId, `checkout:${sessionId}`]]);

  const receipt = await buyer.browser.get(`/credits/receipts/${sessionId}`);
  assert.is(receipt.status, 200);
  assert.match(receipt.doc.querySelector('main')?.textContent ?? '', /Receipt.*no card was charged.*Starter.*\$10\.00/s);
  const mail = await t.db.selectFrom('mail_outbox').selectAll().execute();
  assert.is(mail.length, 1);
  assert.match(mail[0]!.body_text, /demo payment: no card was charged/);
  // The page after payment no longer offers Pay.
  const after = await buyer.browser.get(path);
  assert.is(after.doc.querySelector('main form'), null);
  await assertAuditClean(t);
});

demo('Cancel on the local checkout: a polite message, nothing granted, the session can no longer be paid', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { path, sessionId } = await checkout(buyer);
  const cancel = await buyer.browser.post(`${path}/cancel`, {});
  assert.is(cancel.status, 303);
  const page = await buyer.browser.get(cancel.headers.get('location')!);
  assert.match(page.doc.querySelector('main h1')?.textContent ?? '', /Purchase cancelled/);
  assert.is((await purchaseOf(t, sessionId)).status, 'cancelled');
  const late = await buyer.browser.post(`${path}/pay`, {});
  const back = await buyer.browser.get(late.headers.get('location')!);
  assert.is(back.doc.querySelector('#purchase-status')?.getAttribute('data-state'), 'ended');
  assert.is(await balanceMc(t, buyer.user.id), 0);
  assert.is((await buyer.browser.get(`/credits/receipts/${sessionId}`)).status, 404);
  await assertAuditClean(t);
});

demo('the local checkout and receipt are the owner\'s only', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { path, sessionId } = await checkout(buyer);
  const intruder = await signedInBuyer(t);
  assert.is((await intruder.browser.get(path)).status, 404);
  assert.is((await intruder.browser.post(`${path}/pay`, {})).status, 404);
  assert.is((await purchaseOf(t, sessionId)).status, 'pending');
  await buyer.browser.post(`${path}/pay`, {});
  assert.is((await intruder.browser.get(`/credits/receipts/${sessionId}`)).status, 404);
  assert.is(await balanceMc(t, intruder.user.id), 0);
});

demo('a demo payment whose return never happened is credited by reconcile, once', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { path } = await checkout(buyer);
  await buyer.browser.post(`${path}/pay`, {}); // and the browser closes before the success page
  assert.is(await balanceMc(t, buyer.user.id), 0);
  const run = async () => {
    const lines: string[] = [];
    await runCli(['reconcile'], { env: { DATABASE_URL: t.databaseUrl }, clock: t.clock, out: (l) => lines.push(l), err: (l) => lines.push(l) });
    return lines.at(-1);
  };
  assert.is(await run(), '1');
  assert.is(await run(), '0');
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC);
  await assertAuditClean(t);
});

demo('PAYMENTS=off: reconcile has nothing to do', async ({ t }) => {
  const lines: string[] = [];
  const code = await runCli(['reconcile'], { env: { DATABASE_URL: t.databaseUrl, PAYMENTS: 'off' }, out: (l) => lines.push(l) });
  assert.equal([code, lines.at(-1)], [0, '0']);
  assert.match(lines[0]!, /payments are off/);
});

demo.run();
