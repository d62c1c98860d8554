// Alerts, auto-recharge, caps and key limits set in a real headless Chromium against the real
// server (demo payments): buy with the card saved, turn auto-recharge on with a cap, set a key's
// limits and controls (on a phone's width), see them summarised on the balance card, and a playground call refused by the cap.
import * as assert from 'uvu/assert';
import { auditUrl } from './helpers/db.ts';
import { ARTIFACTS, buyStarter, demoBrowserSuite, signUp } from './helpers/e2e.ts';

const e2e = demoBrowserSuite('limits in chromium', 'limits.db');

e2e('save a card, turn on auto-recharge with caps, limit a key, and hit the cap in the playground', async ({ server, browser }) => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));

  await signUp(page, server.url, 'limits@example.com');
  // Buy Starter with the card saved (the demo provider's card).
  await buyStarter(page, { saveCard: true });

  await page.click('nav a[href="/settings/billing"]');
  await page.waitForURL('**/settings/billing');
  assert.match((await page.textContent('.saved-card')) ?? '', /Demo card.*4242/);
  // A package not larger than the threshold is refused in place (htmx swaps the 422 form).
  await page.check('input[name="auto_recharge"]');
  await page.fill('input[name="auto_recharge_threshold"]', '15000');
  await page.selectOption('select[name="auto_recharge_package"]', 'starter');
  await page.click('#billing-settings button[type="submit"]');
  await page.waitForSelector('#field-auto_recharge_package[aria-invalid="true"]');
  assert.match((await page.textContent('#billing-settings')) ?? '', /larger than the threshold/);
  await page.fill('input[name="auto_recharge_threshold"]', '2000');
  await page.selectOption('select[name="auto_recharge_package"]', 'basic');
  await page.fill('input[name="monthly_cap"]', '0.05');
  await page.fill('input[name="low_balance_threshold"]', '1000');
  await page.click('#billing-settings button[type="submit"]');
  await page.waitForSelector('#billing-settings [role="status"]');
  assert.match((await page.textContent('#billing-settings [role="status"]')) ?? '', /Saved/);
  await page.screenshot({ path: `${ARTIFACTS}/limits-1-settings.png`, fullPage: true });

  await page.click('nav a[href="/keys"]');
  await page.fill('#keys-panel input[name="name"]', 'worker');
  await page.click('#keys-panel form button:has-text("Create key")');
  await page.waitForSelector('#new-key-value');
  await page.fill('form.key-limits input[name="monthly_limit"]', '250');
  await page.fill('form.key-limits input[name="max_in_flight"]', '3');
  await page.click('form.key-limits button[type="submit"]');
  await page.waitForFunction(() => (document.querySelector('form.key-limits input[name="monthly_limit"]') as HTMLInputElement | null)?.value === '250' && !document.querySelector('#new-key-value'));
  assert.not.ok(await page.$('#new-key-value'), 'the key is not shown again');

  // The key's controls on a phone: a bad range marked in place (htmx), then saved; nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.click('.key-controls summary');
  await page.check('.key-controls input[name="models"][value="some"]');
  await page.check('.key-controls input[name="allowed_model"][value="gpt-4o-mini"]');
  await page.fill('.key-controls textarea[name="cidrs"]', '127.0.0.1\n10.0.0.0/33');
  await page.fill('.key-controls input[name="requests_per_minute"]', '60');
  await page.click('.key-controls button[type="submit"]');
  await page.waitForSelector('.key-controls textarea[name="cidrs"][aria-invalid="true"]');
  assert.match((await page.textContent('.key-controls')) ?? '', /Not an IP address or CIDR range: “10\.0\.0\.0\/33”/);
  await page.fill('.key-controls textarea[name="cidrs"]', '127.0.0.1\n10.0.0.0/8');
  await page.click('.key-controls button[type="submit"]');
  await page.waitForSelector('.key-controls [role="status"]');
  assert.match((await page.textContent('.key-controls-summary')) ?? '', /Models: gpt-4o-mini[\s\S]*From: 127\.0\.0\.1\/32, 10\.0\.0\.0\/8[\s\S]*60 requests a minute/);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'the page fits a phone');
  const card = await page.$eval('.key-controls', (element) => element.getBoundingClientRect().right);
  assert.ok(card <= 390, `the controls card fits the screen (right edge ${card})`);
  await page.screenshot({ path: `${ARTIFACTS}/limits-keys-phone.png`, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });

  await page.click('nav a[href="/credits"]');
  await page.waitForURL('**/credits');
  assert.match((await page.textContent('.auto-recharge-state')) ?? '', /on: buys Basic when less than 2,000\.000 credits are available \(0 of 3 this month\)/);
  assert.equal(await page.$$eval('.cap-uses li', (items) => items.map((li) => li.getAttribute('data-cap'))), ['Monthly cap', 'Key “worker”']);
  await page.screenshot({ path: `${ARTIFACTS}/limits-2-credits.png`, fullPage: false });

  // A cap of 0.05 credits is below any call: the playground shows the cap's call to action.
  await page.click('nav a[href="/playground"]');
  await page.fill('textarea[name="prompt"]', 'Hello there');
  await page.click('main form button[type="submit"]');
  await page.waitForSelector('#playground-result');
  assert.match((await page.textContent('#playground-result')) ?? '', /would pass a spending cap/);
  assert.ok(await page.$('#playground-result a[href="/settings/billing"]'));
  await page.screenshot({ path: `${ARTIFACTS}/limits-3-playground-cap.png`, fullPage: false });
  assert.equal(problems, [], 'no script errors');
  await page.close();
});

e2e('after the flow in the browser, the books balance: audit is clean', async ({ databaseUrl }) => {
  assert.equal(await auditUrl(databaseUrl), []);
});

e2e.run();
