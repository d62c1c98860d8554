// Fulfilment through the real Stripe SDK against the fake: every path that credits a purchase does so
// exactly once — parallel webhooks with the return, either order, async payments, cancel after paying,
// a refund that arrives first, a mismatched amount (not credited, audit reports it), reconcile.
import * as assert from 'uvu/assert';
import { runCli } from '../src/cli/run.ts';
import { audit } from '../src/audit.ts';
import { reconcileRecent } from '../src/billing/reconcile.ts';
import { startSingletonJob } from '../src/jobs/singleton.ts';
import { billingDeps } from '../src/billing/deps.ts';
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
  WEBHOOK_SECRET,
} from './helpers/billing.ts';

const fulfil = stripeSuite('billing fulfil');

fulfil('buy Starter: the webhook 5 times in parallel with the success return credits once; balance card, ledger and purchases list agree', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId, purchase } = await startPurchase(t, buyer);
  t.fake.paySession(sessionId);
  const event = sessionEvent(t, 'checkout.session.completed', sessionId);
  const [back, ...hooks] = await Promise.all([
    buyer.browser.get(`/credits/checkout/success?session_id=${sessionId}`),
    ...Array.from({ length: 5 }, () => deliver(t, event)),
  ]);
  assert.equal(hooks.map((h) => h.status), [200, 200, 200, 200, 200]);
  const outcomes = (await Promise.all(hooks.map((h) => h.json() as Promise<{ outcome: string }>))).map((b) => b.outcome).sort();
  assert.equal(outcomes, ['applied', 'duplicate', 'duplicate', 'duplicate', 'duplicate']);
  assert.is(back.status, 200);
  assert.is(back.doc.querySelector('#purchase-status')?.getAttribute('data-state'), 'complete');
  assert.is(back.doc.querySelector('#balance-card .balance-credits')?.getAttribute('data-mc'), String(STARTER_MC));

  const entries = await entriesOf(t, buyer.user.id);
  assert.equal(entries.map((e) => [e.type, e.amount_mc, e.reference, e.idempotency_key]), [['purchase', STARTER_MC, sessionId, `checkout:${sessionId}`]]);
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC);
  const paid = await purchaseOf(t, sessionId);
  assert.equal([paid.status, paid.payment_intent_id, paid.charge_id], ['paid', t.fake.session(sessionId).payment_intent, chargeIdOf(t, sessionId)]);
  assert.is(paid.receipt_url, t.fake.charge(chargeIdOf(t, sessionId)).receipt_url);
  assert.is((await t.db.selectFrom('stripe_events').selectAll().execute()).length, 1);

  // The Credits tab: the balance card, the ledger's purchase row and the purchases list say the same.
  const page = await buyer.browser.get('/credits');
  assert.is(page.status, 200);
  assert.is(page.doc.querySelector('#balance-card .balance-credits')?.getAttribute('data-mc'), String(STARTER_MC));
  const ledgerLinks = [...page.doc.querySelectorAll('.ledger-table a')].map((a) => a.getAttribute('href'));
  assert.ok(ledgerLinks.includes(`/credits/receipts/${sessionId}`), `ledger links ${ledgerLinks.join(', ')}`);
  const rows = page.doc.querySelectorAll('#purchases tbody tr');
  assert.is(rows.length, 1);
  assert.is(rows[0]!.getAttribute('data-purchase'), purchase.public_id);
  assert.is(rows[0]!.querySelector('.purchase-status')?.textContent, 'paid');
  assert.is(rows[0]!.querySelector('[data-mc]')?.getAttribute('data-mc'), String(STARTER_MC));
  assert.match(rows[0]!.textContent ?? '', /Starter.*\$10\.00.*10,000/s);
  assert.is(rows[0]!.querySelector('a')?.getAttribute('href'), `/credits/receipts/${sessionId}`);

  // One confirmation, queued in the crediting transaction.
  const mail = await t.db.selectFrom('mail_outbox').selectAll().execute();
  assert.is(mail.length, 1);
  assert.is(mail[0]!.to_address, buyer.user.email);
  assert.is(mail[0]!.subject, '10,000 credits added to your tokentab balance');
  assert.match(mail[0]!.body_text, new RegExp(`Receipt: http://localhost:3000/credits/receipts/${sessionId}`));
  await assertAuditClean(t);
});

fulfil('success return before the webhook: a pending card that polls, then credited with the balance card swapped in', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId, purchase } = await startPurchase(t, buyer);
  t.fake.completeSessionUnpaid(sessionId); // a bank debit: complete, not paid yet
  const back = await buyer.browser.get(`/credits/checkout/success?session_id=${sessionId}`);
  assert.is(back.status, 200);
  const card = back.doc.querySelector('#purchase-status')!;
  assert.is(card.getAttribute('data-state'), 'pending');
  assert.match(card.querySelector('h1')?.textContent ?? '', /Purchase pending/);
  assert.is(card.getAttribute('hx-get'), `/credits/checkout/status/${purchase.public_id}`);
  assert.is(card.getAttribute('hx-trigger'), 'every 2s');
  assert.is(card.getAttribute('hx-swap'), 'outerHTML');
  // Without scripts the poll never runs: the card says how to check by hand, and links the check.
  assert.match(card.querySelector('noscript')?.textContent ?? '', /cannot check by itself.*reload it in a few seconds, or use Check again/s);
  assert.is(card.querySelector(`a[href="/credits/checkout/status/${purchase.public_id}"]`)?.textContent, 'Check again');
  assert.is(back.doc.querySelector('#balance-card .balance-credits')?.getAttribute('data-mc'), '0');

  // The checkout.session.completed webhook of an unpaid session credits nothing.
  assert.is((await deliver(t, sessionEvent(t, 'checkout.session.completed', sessionId))).status, 200);
  t.clock.advance(2_000);
  const stillPending = await buyer.browser.get(`/credits/checkout/status/${purchase.public_id}`, { htmx: true });
  assert.is(stillPending.doc.querySelector('#purchase-status')?.getAttribute('hx-trigger'), 'every 2s');
  assert.is(stillPending.doc.querySelector('#balance-card'), null, 'no balance card until credited');
  assert.is(await balanceMc(t, buyer.user.id), 0);

  t.fake.asyncPaymentSucceeds(sessionId);
  assert.is((await deliver(t, sessionEvent(t, 'checkout.session.async_payment_succeeded', sessionId))).status, 200);
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC);
  t.clock.advance(2_000);
  const done = await buyer.browser.get(`/credits/checkout/status/${purchase.public_id}`, { htmx: true });
  const swapped = done.doc.querySelector('#purchase-status')!;
  assert.is(swapped.getAttribute('data-state'), 'complete');
  assert.is(swapped.getAttribute('hx-trigger'), null, 'polling stops');
  const balance = done.doc.querySelector('#balance-card')!;
  assert.is(balance.getAttribute('hx-swap-oob'), 'true');
  assert.is(balance.querySelector('.balance-credits')?.getAttribute('data-mc'), String(STARTER_MC));
  assert.is(done.headers.get('vary'), 'HX-Request');
  // Without htmx the same URL is a whole page.
  const full = await buyer.browser.get(`/credits/checkout/status/${purchase.public_id}`);
  assert.ok(full.doc.querySelector('header.top'));
  assert.is((await entriesOf(t, buyer.user.id)).length, 1);
  await assertAuditClean(t);
});

fulfil('a payment still unconfirmed after 2 minutes of polling: "still processing", and the poll stops', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId, purchase } = await startPurchase(t, buyer);
  t.fake.completeSessionUnpaid(sessionId);
  await buyer.browser.get(`/credits/checkout/success?session_id=${sessionId}`);
  t.clock.advance(119_000);
  const polling = await buyer.browser.get(`/credits/checkout/status/${purchase.public_id}`, { htmx: true });
  assert.is(polling.doc.querySelector('#purchase-status')?.getAttribute('data-state'), 'pending');
  t.clock.advance(1_000);
  const over = await buyer.browser.get(`/credits/checkout/status/${purchase.public_id}`, { htmx: true });
  const card = over.doc.querySelector('#purchase-status')!;
  assert.is(card.getAttribute('data-state'), 'still_processing');
  assert.is(card.getAttribute('hx-trigger'), null);
  assert.match(card.textContent ?? '', /still being processed/);
  // It still gets credited later, by the webhook.
  t.fake.asyncPaymentSucceeds(sessionId);
  await deliver(t, sessionEvent(t, 'checkout.session.async_payment_succeeded', sessionId));
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC);
  await assertAuditClean(t);
});

fulfil('webhook before the return: credited by the webhook, the return shows it without crediting again', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId } = await startPurchase(t, buyer);
  t.fake.paySession(sessionId);
  const hook = await deliver(t, sessionEvent(t, 'checkout.session.completed', sessionId));
  assert.is(hook.status, 200);
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC);
  const back = await buyer.browser.get(`/credits/checkout/success?session_id=${sessionId}`);
  assert.is(back.doc.querySelector('#purchase-status')?.getAttribute('data-state'), 'complete');
  assert.match(back.doc.querySelector('#purchase-status')?.textContent ?? '', /10,000 credits were added/);
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC);
  assert.is((await entriesOf(t, buyer.user.id)).length, 1);
  assert.is((await t.db.selectFrom('mail_outbox').selectAll().execute()).length, 1);
  await assertAuditClean(t);
});

fulfil('a refund that arrives before the purchase is credited is kept, then applied when it is', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId } = await startPurchase(t, buyer);
  t.fake.paySession(sessionId);
  const chargeId = chargeIdOf(t, sessionId);
  const { charge } = t.fake.refund(chargeId, 300);
  const refunded = t.fake.event('charge.refunded', charge);
  assert.is((await deliver(t, refunded)).status, 200);
  assert.is(await balanceMc(t, buyer.user.id), 0);
  const kept = await purchaseOf(t, sessionId);
  assert.equal([kept.status, kept.amount_refunded_cents, kept.charge_id], ['pending', 300, chargeId]);
  await assertAuditClean(t);

  assert.is((await deliver(t, sessionEvent(t, 'checkout.session.completed', sessionId))).status, 200);
  assert.is(await balanceMc(t, buyer.user.id), 7_000_000, '10,000 credits less 30%');
  const entries = await entriesOf(t, buyer.user.id);
  assert.equal(entries.map((e) => [e.type, e.amount_mc, e.idempotency_key]), [
    ['purchase', STARTER_MC, `checkout:${sessionId}`],
    ['refund', -3_000_000, `refund:${chargeId}:300`],
  ]);
  // The refund event delivered again changes nothing.
  assert.is((await deliver(t, refunded)).status, 200);
  assert.is(await balanceMc(t, buyer.user.id), 7_000_000);
  const page = await buyer.browser.get('/credits');
  assert.is(page.doc.querySelector('#purchases tbody tr .purchase-status')?.textContent, 'partially refunded');
  await assertAuditClean(t);
});

fulfil('a paid amount that does not match the package is not credited, and audit reports it', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId, purchase } = await startPurchase(t, buyer);
  t.fake.setSessionAmount(sessionId, 500);
  t.fake.paySession(sessionId);
  assert.is((await deliver(t, sessionEvent(t, 'checkout.session.completed', sessionId))).status, 200);
  const back = await buyer.browser.get(`/credits/checkout/success?session_id=${sessionId}`);
  assert.is(back.doc.querySelector('#purchase-status')?.getAttribute('data-state'), 'review');
  // A cancel that comes after the payment does not claim that nothing was charged.
  const cancelled = await buyer.browser.get(`/credits/checkout/cancel?purchase=${purchase.public_id}`);
  assert.is(cancelled.doc.querySelector('#purchase-status')?.getAttribute('data-state'), 'review');
  assert.match(cancelled.doc.querySelector('main h1')?.textContent ?? '', /Payment under review/);
  assert.not.match(cancelled.doc.querySelector('main')?.textContent ?? '', /Nothing was charged/);
  assert.is(await balanceMc(t, buyer.user.id), 0);
  assert.is((await entriesOf(t, buyer.user.id)).length, 0);
  const held = await purchaseOf(t, sessionId);
  assert.equal([held.status, held.paid_amount_cents, held.paid_currency], ['mismatch', 500, 'usd']);
  const violations = await audit(t.db);
  assert.is(violations.length, 1);
  assert.is(violations[0]!.invariant, 4);
  assert.match(violations[0]!.detail, new RegExp(`purchase ${purchase.public_id}: ${sessionId} was paid \\$5\\.00 but the package costs \\$10\\.00; not credited`));
  assert.match(t.logLines.join('\n'), /not credited/);
  // A currency mismatch too.
  const other = await startPurchase(t, buyer);
  t.fake.setSessionAmount(other.sessionId, 1000, 'eur');
  t.fake.paySession(other.sessionId);
  await deliver(t, sessionEvent(t, 'checkout.session.completed', other.sessionId));
  assert.is(await balanceMc(t, buyer.user.id), 0);
  assert.is((await audit(t.db)).length, 2);
  const page = await buyer.browser.get('/credits');
  assert.equal([...page.doc.querySelectorAll('#purchases .purchase-status')].map((s) => s.textContent), ['under review', 'under review']);
});

fulfil('cancel after paying: the payment stands and is credited once', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId, purchase } = await startPurchase(t, buyer);
  t.fake.paySession(sessionId);
  const cancelled = await buyer.browser.get(`/credits/checkout/cancel?purchase=${purchase.public_id}`);
  assert.is(cancelled.status, 200);
  assert.match(cancelled.doc.querySelector('main h1')?.textContent ?? '', /already paid/);
  assert.is((await purchaseOf(t, sessionId)).status, 'paid');
  await deliver(t, sessionEvent(t, 'checkout.session.completed', sessionId));
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC);
  assert.is((await entriesOf(t, buyer.user.id)).length, 1);
  await assertAuditClean(t);
});

fulfil('a cancel recorded while Stripe was unreachable loses to the payment: "paid" wins', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId, purchase } = await startPurchase(t, buyer);
  t.fake.paySession(sessionId);
  t.fake.failNetwork(6); // the expire and the look that follows it, each with the SDK's 2 retries
  const cancelled = await buyer.browser.get(`/credits/checkout/cancel?purchase=${purchase.public_id}`);
  assert.match(cancelled.doc.querySelector('main h1')?.textContent ?? '', /Purchase cancelled/);
  assert.is((await purchaseOf(t, sessionId)).status, 'cancelled');
  assert.is(await balanceMc(t, buyer.user.id), 0);
  assert.is((await deliver(t, sessionEvent(t, 'checkout.session.completed', sessionId))).status, 200);
  assert.is((await purchaseOf(t, sessionId)).status, 'paid');
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC);
  await assertAuditClean(t);
});

fulfil('webhook outage: reconcile credits the paid session once, a second reconcile does nothing', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId } = await startPurchase(t, buyer);
  t.fake.paySession(sessionId);
  const older = await startPurchase(t, buyer, 'basic');
  t.fake.paySession(older.sessionId);
  // Someone else's session on the same Stripe account is left alone.
  await startPurchase(t, await signedInBuyer(t)).then(({ sessionId: id }) => t.fake.expireSession(id));
  t.clock.advance(2 * 3_600_000);
  const env = {
    DATABASE_URL: t.databaseUrl,
    PAYMENTS: 'stripe',
    STRIPE_SECRET_KEY: 'sk_test_tokentab',
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_BASE: t.fake.url,
  };
  const cli = async (...args: string[]) => {
    const lines: string[] = [];
    const code = await runCli(['reconcile', ...args], { env, clock: t.clock, out: (l) => lines.push(l), err: (l) => lines.push(`ERR ${l}`) });
    return { code, lines, last: lines.at(-1) };
  };
  const recent = await cli('--since', '1');
  assert.equal([recent.code, recent.last], [0, '0'], 'nothing paid in the last hour');
  const first = await cli();
  assert.equal([first.code, first.last], [0, '2'], first.lines.join('\n'));
  assert.ok(first.lines.includes(`credited ${sessionId}`));
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC + 20_400_000);
  const second = await cli();
  assert.equal([second.code, second.last], [0, '0']);
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC + 20_400_000);
  // The late webhook finds it credited.
  await deliver(t, sessionEvent(t, 'checkout.session.completed', sessionId));
  assert.is((await entriesOf(t, buyer.user.id)).length, 2);
  const bad = await cli('--since', 'soon');
  assert.is(bad.code, 2);
  assert.match(bad.lines[0]!, /--since must be a whole number/);
  await assertAuditClean(t);
});

fulfil('the server\'s reconcile job runs at start (and the webhook outage heals without anyone running the CLI)', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId } = await startPurchase(t, buyer);
  t.fake.paySession(sessionId);
  const lines: string[] = [];
  const deps = billingDeps(t.config, t.db, t.clock, (l) => lines.push(l))!;
  const job = startSingletonJob(t.db, t.clock, { name: 'reconcile', holder: 'test', everyMs: 60_000, atStart: true, log: deps.log }, () => reconcileRecent(deps));
  try {
    for (let i = 0; i < 100 && (await balanceMc(t, buyer.user.id)) === 0; i++) await new Promise((r) => setTimeout(r, 20));
  } finally {
    await job.stop();
  }
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC);
  assert.match(lines.join('\n'), new RegExp(`reconcile: credited 1 purchase\\(s\\) the webhook had missed: ${sessionId}`));
  await assertAuditClean(t);
});

fulfil('return and cancel pages, the status poll and receipts are the owner\'s only', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId, purchase } = await startPurchase(t, buyer);
  t.fake.paySession(sessionId);
  const intruder = await signedInBuyer(t);
  for (const path of [
    `/credits/checkout/success?session_id=${sessionId}`,
    `/credits/checkout/status/${purchase.public_id}`,
    `/credits/checkout/cancel?purchase=${purchase.public_id}`,
    `/credits/receipts/${sessionId}`,
  ]) {
    const answer = await intruder.browser.get(path);
    assert.is(answer.status, 404, path);
  }
  assert.is((await purchaseOf(t, sessionId)).status, 'pending', 'the intruder changed nothing');
  assert.is(await balanceMc(t, buyer.user.id), 0);
  // No receipt before it is paid; then a 303 to the charge's receipt_url.
  assert.is((await buyer.browser.get(`/credits/receipts/${sessionId}`)).status, 404);
  await buyer.browser.get(`/credits/checkout/success?session_id=${sessionId}`);
  const receipt = await buyer.browser.get(`/credits/receipts/${sessionId}`);
  assert.is(receipt.status, 303);
  assert.is(receipt.headers.get('location'), `${t.fake.url}/receipts/${chargeIdOf(t, sessionId)}`);
  await assertAuditClean(t);
});

fulfil('cancel before paying: nothing granted, a polite message, the session expired at Stripe', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const { sessionId, purchase } = await startPurchase(t, buyer);
  const cancelled = await buyer.browser.get(`/credits/checkout/cancel?purchase=${purchase.public_id}`);
  assert.is(cancelled.status, 200);
  assert.match(cancelled.doc.querySelector('main h1')?.textContent ?? '', /Purchase cancelled/);
  assert.match(cancelled.doc.querySelector('main')?.textContent ?? '', /No problem.*Nothing was charged and no credits were added/s);
  assert.is(t.fake.session(sessionId).status, 'expired');
  assert.is((await purchaseOf(t, sessionId)).status, 'cancelled');
  assert.is(await balanceMc(t, buyer.user.id), 0);
  // Cancelling again (a reload) is fine: expiring an expired session fails and is ignored.
  assert.is((await buyer.browser.get(`/credits/checkout/cancel?purchase=${purchase.public_id}`)).status, 200);
  assert.match(t.logLines.join('\n'), /could not expire .* \(ignored\)/);
  // Stripe's own expiry event keeps it cancelled.
  assert.is((await deliver(t, sessionEvent(t, 'checkout.session.expired', sessionId))).status, 200);
  assert.is((await purchaseOf(t, sessionId)).status, 'cancelled');
  const page = await buyer.browser.get('/credits');
  assert.is(page.doc.querySelector('#purchases .purchase-status')?.textContent, 'cancelled');
  assert.is(page.doc.querySelector('#purchases tbody a'), null, 'no receipt for a cancelled purchase');
  assert.is((await t.db.selectFrom('mail_outbox').selectAll().execute()).length, 0);
  await assertAuditClean(t);
});

fulfil('audit reports invariant 4 broken behind billing\'s back: paid never credited, credited while cancelled, clawback off target', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const credited = await startPurchase(t, buyer);
  t.fake.paySession(credited.sessionId);
  await deliver(t, sessionEvent(t, 'checkout.session.completed', credited.sessionId));
  const refunded = t.fake.refund(chargeIdOf(t, credited.sessionId), 100);
  await deliver(t, t.fake.event('charge.refunded', refunded.charge));
  const never = await startPurchase(t, buyer);
  await assertAuditClean(t);

  await t.db.updateTable('purchases').set({ status: 'paid' }).where('id', '=', never.purchase.id).execute();
  await t.db.updateTable('purchases').set({ status: 'cancelled' }).where('id', '=', credited.purchase.id).execute();
  const broken = (await audit(t.db)).filter((v) => v.invariant === 4).map((v) => v.detail);
  assert.ok(broken.some((d) => d === `purchase ${never.purchase.public_id}: paid (${never.sessionId}) but never credited`), broken.join('\n'));
  assert.ok(broken.some((d) => d.includes(`credited under checkout:${credited.sessionId} but purchase ${credited.purchase.public_id} is cancelled`)), broken.join('\n'));

  // A purchase credit written behind billing's back, with no purchase at all.
  const { recordCredit } = await import('../src/ledger/credits.ts');
  const ghost = await recordCredit(t.db, t.clock, { userId: buyer.user.id, type: 'purchase', amountMc: 1_000, reference: 'cs_ghost', idempotencyKey: 'checkout:cs_ghost' });
  assert.ok((await audit(t.db)).some((v) => v.invariant === 4 && v.detail === `ledger entry ${ghost.entry.id}: a purchase credit under checkout:cs_ghost with no purchase behind it`));
  await t.db.deleteFrom('ledger_entries').where('id', '=', ghost.entry.id).execute();
  await t.db.updateTable('wallets').set((eb) => ({ balance_mc: eb('balance_mc', '-', 1_000) })).where('user_id', '=', buyer.user.id).execute();

  await t.db.updateTable('purchases').set({ status: 'paid', clawed_back_mc: 500_000 }).where('id', '=', credited.purchase.id).execute();
  await t.db.updateTable('purchases').set({ status: 'pending' }).where('id', '=', never.purchase.id).execute();
  const offTarget = (await audit(t.db)).map((v) => v.detail);
  assert.equal(offTarget, [
    `purchase ${credited.purchase.public_id}: 500000 mc recorded as clawed back but its refund entries take 1000000 mc`,
    `purchase ${credited.purchase.public_id}: clawed back 500000 mc + shortfall 0 mc, but refunds and disputes call for 1000000 mc`,
  ]);
});

fulfil.run();
