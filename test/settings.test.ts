// /settings/billing through the DOM: defaults, every field's check (422, field marked, nothing
// saved), a saved form read back, and htmx swapping only the form.
import * as assert from 'uvu/assert';
import { billingSettings } from '../src/settings/billing-settings.ts';
import { signedInSuite } from './helpers/signed-in.ts';

const settings = signedInSuite('billing settings', 'settings@example.com');

const form = (overrides: Record<string, string> = {}) => ({
  low_balance_threshold: '500',
  auto_recharge_threshold: '1000',
  auto_recharge_package: 'starter',
  auto_recharge_monthly_limit: '3',
  monthly_cap: '',
  'model_cap[gpt-4o]': '',
  'model_cap[gpt-4o-mini]': '',
  ...overrides,
});

const value = (doc: Document, name: string) => doc.querySelector(`[name="${name}"]`)?.getAttribute('value');
const marked = (doc: Document, name: string) => doc.querySelector(`[name="${name}"]`)?.getAttribute('aria-invalid') === 'true';

settings('defaults: a 500-credit alert, auto-recharge off, no card yet, no caps', async ({ browser }) => {
  const { doc, status } = await browser.get('/settings/billing');
  assert.is(status, 200);
  assert.is(value(doc, 'low_balance_threshold'), '500');
  assert.not.ok(doc.querySelector('input[name="auto_recharge"]')?.hasAttribute('checked'));
  assert.match(doc.querySelector('#billing-settings')?.textContent ?? '', /No saved card yet/);
  assert.is(value(doc, 'monthly_cap'), '');
  assert.ok(doc.querySelector('input[name="model_cap[gpt-4o-mini]"]'));
  assert.is(doc.querySelector('#billing-settings')?.getAttribute('hx-post'), '/settings/billing');
});

settings('each bad value is marked (422) and nothing is saved', async ({ t, browser, userId }) => {
  const before = await billingSettings(t.db, userId);
  const cases: [Record<string, string>, string, RegExp][] = [
    [form({ low_balance_threshold: 'lots' }), 'low_balance_threshold', /amount in credits/],
    [form({ low_balance_threshold: '1.2345' }), 'low_balance_threshold', /at most 3 decimals/],
    [form({ monthly_cap: '0' }), 'monthly_cap', /above 0/],
    [form({ 'model_cap[gpt-4o]': '-5' }), 'model_cap[gpt-4o]', /amount in credits/],
    [form({ auto_recharge_monthly_limit: '0' }), 'auto_recharge_monthly_limit', /from 1 to 100/],
    [form({ auto_recharge_package: 'platinum' }), 'auto_recharge_package', /Choose one of the packages/],
    [form({ auto_recharge: 'on' }), 'auto_recharge', /needs a saved card/],
  ];
  for (const [fields, name, message] of cases) {
    const answer = await browser.post('/settings/billing', fields);
    assert.is(answer.status, 422, name);
    assert.ok(marked(answer.doc, name), `${name} is marked`);
    assert.match(answer.doc.querySelector('#billing-settings')?.textContent ?? '', message);
    if (answer.doc.querySelector(`input[name="${name}"]:not([type="checkbox"])`)) assert.is(value(answer.doc, name), fields[name], 'what was typed is kept');
  }
  assert.equal(await billingSettings(t.db, userId), before);
});

settings('with a saved card: the package must be larger than the threshold; then it saves and reads back', async ({ t, browser, userId }) => {
  await t.db.insertInto('saved_cards').values({ user_id: userId, payment_method_id: 'pm_1', brand: 'visa', last4: '4242', created_at_ms: t.clock.now() }).execute();
  const small = await browser.post('/settings/billing', form({ auto_recharge: 'on', auto_recharge_threshold: '10000', auto_recharge_package: 'starter' }));
  assert.is(small.status, 422);
  assert.match(small.text, /larger than the threshold/);
  const saved = await browser.post('/settings/billing', form({ auto_recharge: 'on', auto_recharge_threshold: '2500.5', auto_recharge_package: 'basic', monthly_cap: '12000', 'model_cap[gpt-4o]': '5000', low_balance_threshold: '750' }), { htmx: true });
  assert.is(saved.status, 200);
  assert.not.ok(saved.doc.querySelector('header.top'), 'htmx gets the form alone');
  assert.match(saved.doc.querySelector('[role="status"]')?.textContent ?? '', /Saved/);
  assert.equal(await billingSettings(t.db, userId), {
    lowBalanceThresholdMc: 750_000,
    autoRecharge: true,
    autoRechargeThresholdMc: 2_500_500,
    autoRechargePackageId: 'basic',
    autoRechargeMonthlyLimit: 3,
    monthlyCapMc: 12_000_000,
    modelCapsMc: { 'gpt-4o': 5_000_000 },
  });
  const page = await browser.get('/settings/billing');
  assert.is(value(page.doc, 'auto_recharge_threshold'), '2500.500');
  assert.is(value(page.doc, 'monthly_cap'), '12000');
  assert.is(value(page.doc, 'model_cap[gpt-4o]'), '5000');
  assert.ok(page.doc.querySelector('input[name="auto_recharge"]')?.hasAttribute('checked'));
  assert.match(page.doc.querySelector('.saved-card')?.textContent ?? '', /visa.*4242/);
  const credits = await browser.get('/credits');
  assert.match(credits.doc.querySelector('.auto-recharge-state')?.textContent ?? '', /on: buys Basic when less than 2,500\.500 credits/);
  assert.equal([...credits.doc.querySelectorAll('.cap-uses li')].map((li) => li.getAttribute('data-cap')), ['Monthly cap', 'Cap for Advanced (gpt-4o)']);
  const cleared = await browser.post('/settings/billing', form({ monthly_cap: '', 'model_cap[gpt-4o]': '' }));
  assert.is(cleared.status, 303, 'a plain form that saved goes on by redirect: a refresh posts nothing again');
  assert.is(cleared.headers.get('location'), '/settings/billing?saved=1');
  const after = await browser.follow(cleared);
  assert.match(after.doc.querySelector('#billing-settings [role="status"]')?.textContent ?? after.text, /[Ss]aved/);
  assert.equal((await billingSettings(t.db, userId)).modelCapsMc, {});
  assert.is((await billingSettings(t.db, userId)).monthlyCapMc, null);
});

settings('signed out: sent to sign in; another origin: refused', async ({ t, browser }) => {
  assert.is((await t.browser().get('/settings/billing')).status, 303);
  assert.is((await browser.post('/settings/billing', form(), { headers: { origin: 'https://evil.example' } })).status, 403);
});

settings.run();
