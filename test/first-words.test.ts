// What the pages and mails say to a person: a new account is welcomed (no out-of-credits alarm, no
// low-balance banner) until it has had credits; numbers follow one rule per context in mail (balance
// to 2 decimals, thresholds and packages in whole credits); amounts typed grouped ("1,000") are read.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { testApp, type TestApp } from './helpers/app.ts';
import { assertAuditClean, signedInBuyer, startPurchase } from './helpers/billing.ts';
import { adjustCredits, grantCredits } from '../src/ledger/credits.ts';
import { billingSettings } from '../src/settings/billing-settings.ts';
import { outOfCreditsMessage } from '../src/errors/descriptions.ts';
import { makeCall } from './helpers/usage.ts';

const words = suite<{ t: TestApp }>('first words');
words.before.each(async (context) => {
  context.t = await testApp();
});
words.after.each(async ({ t }) => {
  await t.close();
});

words('a brand-new account sees a welcome with "add credits to start", no red out-of-credits alert and no low-balance banner; once its credits are spent, the alert', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  for (const path of ['/credits', '/playground']) {
    const page = await buyer.browser.get(path);
    const card = page.doc.querySelector('#balance-card')!;
    assert.match(card.querySelector('.welcome')?.textContent ?? '', /Welcome! Add credits to start\..*prompts and the answers/s, path);
    assert.is(card.querySelector('.welcome a')?.getAttribute('href'), '/credits#packages');
    assert.is(card.querySelector('.out-of-credits'), null, path);
    assert.not.ok(card.classList.contains('is-out'));
    assert.is(page.doc.querySelector('#low-balance-banner'), null, path);
  }
  // Its empty ledger says so, with no pager and nothing to download; a filter that matches nothing says that instead.
  const empty = (await buyer.browser.get('/credits')).doc.querySelector('#ledger-results')!;
  assert.match(empty.textContent ?? '', /No entries yet\./);
  assert.is(empty.querySelector('.pager'), null);
  assert.is(empty.querySelector('.csv-link'), null);
  const filtered = (await buyer.browser.get('/credits/ledger?type=refund', { htmx: true })).doc.querySelector('#ledger-results')!;
  assert.match(filtered.textContent ?? '', /No ledger entries match these filters/);
  assert.is(filtered.querySelector('.pager'), null, 'one page: no dead pager');
  // Credits came and went: now it is out of credits, said as such, in words about prompts and answers.
  await grantCredits(t.db, t.clock, { userId: buyer.user.id, amountMc: 2_000, reason: 'welcome' });
  await adjustCredits(t.db, t.clock, { userId: buyer.user.id, amountMc: -2_000, reason: 'spent elsewhere' });
  const spent = await buyer.browser.get('/credits');
  assert.is(spent.doc.querySelector('#balance-card .welcome'), null);
  const alert = spent.doc.querySelector('#balance-card .out-of-credits[role=alert]');
  assert.match(alert?.textContent ?? '', /out of credits.*a prompt and its answer/s);
  assert.not.match(alert?.textContent ?? '', /max_tokens/);
  assert.ok(spent.doc.querySelector('#low-balance-banner'));
  await assertAuditClean(t);
});

words('the purchase mail writes the balance to 2 decimals, grouped (not "Balance now: 24720.566")', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  await grantCredits(t.db, t.clock, { userId: buyer.user.id, amountMc: 14_720_566, reason: 'earlier' });
  const { sessionId } = await startPurchase(t, buyer, 'starter');
  const paid = await buyer.browser.post(`/credits/demo-checkout/${sessionId}/pay`, {});
  await buyer.browser.get(paid.headers.get('location')!);
  const mail = await t.db.selectFrom('mail_outbox').select(['subject', 'body_text']).executeTakeFirstOrThrow();
  assert.is(mail.subject, '10,000 credits added to your tokentab balance');
  assert.match(mail.body_text, /^Thank you for your purchase\./);
  assert.match(mail.body_text, /\nCredits added: 10,000\nBalance now: 24,720\.56 credits\n/);
  await assertAuditClean(t);
});

words('amounts typed grouped as the app writes them ("1,000", "2,500.5") are accepted; a misplaced comma is refused and names the field', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const form = { low_balance_threshold: '1,000', auto_recharge_threshold: '', auto_recharge_package: '', auto_recharge_monthly_limit: '3', monthly_cap: '2,500.5' };
  const saved = await buyer.browser.post('/settings/billing', form);
  assert.is(saved.status, 303, saved.text.slice(0, 300));
  const settings = await billingSettings(t.db, buyer.user.id);
  assert.equal([settings.lowBalanceThresholdMc, settings.monthlyCapMc], [1_000_000, 2_500_500]);
  const bad = await buyer.browser.post('/settings/billing', { ...form, low_balance_threshold: '10,00' });
  assert.is(bad.status, 422);
  assert.is(bad.doc.querySelector('input[name=low_balance_threshold]')?.getAttribute('aria-invalid'), 'true');
  assert.is((await billingSettings(t.db, buyer.user.id)).lowBalanceThresholdMc, 1_000_000);
});

words('a model is named by its label wherever it appears, its id on one line: the usage table, the rate card, the balance card\'s caps, the settings form', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  await grantCredits(t.db, t.clock, { userId: buyer.user.id, amountMc: 100_000_000, reason: 'welcome' });
  await makeCall(t.db, t.clock, buyer.user.id, { model: 'gpt-4o', inputTokens: 1_000, outputTokens: 500 });
  await t.db.insertInto('model_caps').values({ user_id: buyer.user.id, model: 'gpt-4o', cap_mc: 50_000_000 }).execute();
  const { doc } = await buyer.browser.get('/credits');
  const labelled = (selector: string) => {
    const element = doc.querySelector(selector)!;
    assert.ok(element, selector);
    return [element.textContent!.replace(/\s+/g, ' ').trim(), element.querySelector('.nobreak')?.textContent];
  };
  assert.equal(labelled('#usage-results tbody td[data-label="Model"]'), ['Advanced (gpt-4o)', '(gpt-4o)']);
  assert.equal(labelled('#rate-card tr[data-model="gpt-4o"] th'), ['Advanced (gpt-4o)', '(gpt-4o)']);
  const cap = labelled('#balance-card .cap-uses li');
  assert.match(cap[0]!, /^Cap for Advanced \(gpt-4o\): [\d,.]+ of 50,000\.000 credits this month$/);
  assert.is(cap[1], '(gpt-4o)');
  const settings = (await buyer.browser.get('/settings/billing')).doc.querySelector('label[for="field-model_cap-gpt-4o-"]')!;
  assert.is(settings.textContent!.replace(/\s+/g, ' ').trim(), 'Cap for Advanced (gpt-4o) (credits)');
  assert.is(settings.querySelector('.nobreak')?.textContent, '(gpt-4o)');
});

words('an error message states credits grouped to 3 decimals, as the tables do (not "24720.566")', () => {
  const details = { requiredMc: 1_310_720_000, availableMc: 24_720_566, heldMc: 1_500_000, maxAffordableOutputTokens: 308, requestedOutputTokens: 16_384, choices: 1, holdInputTokens: 12, limitField: 'max_tokens' };
  assert.is(
    outOfCreditsMessage({ ...details, promptNotCovered: false }),
    'Not enough credits: requested up to 16,384 output tokens; the available balance covers 308. This call needs 1,310,720.000 credits, 24,720.566 are available; 1,500.000 credits are held by calls in flight. Lower max_tokens or top up.',
  );
});

words.run();
