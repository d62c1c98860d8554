// Buying credits in a real headless Chromium against the real server process with demo payments:
// sign up, Buy Starter on the Credits tab, pay on the local checkout, see the balance rise.
// Screenshots go to test/artifacts/ (git-ignored).
import * as assert from 'uvu/assert';
import { auditUrl } from './helpers/db.ts';
import { ARTIFACTS, demoBrowserSuite, signUp } from './helpers/e2e.ts';

const e2e = demoBrowserSuite('buying credits in chromium', 'buy.db');

e2e('sign up, Buy Starter on the Credits tab, pay on the demo checkout, and the balance rises by 10,000', async ({ server: { url }, browser }) => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));

  await signUp(page, url, 'buyer@example.com');
  assert.is(await page.getAttribute('#balance-card .balance-credits', 'data-mc'), '0');
  await page.screenshot({ path: `${ARTIFACTS}/buy-1-credits-before.png`, fullPage: true });

  await page.click('li[data-package="starter"] button[type="submit"]');
  await page.waitForURL(/\/credits\/demo-checkout\/cs_demo_/);
  assert.match((await page.textContent('.demo-note')) ?? '', /no card is charged/);
  await page.screenshot({ path: `${ARTIFACTS}/buy-2-demo-checkout.png`, fullPage: true });

  await page.click('button:has-text("Pay $10.00")');
  await page.waitForURL(/\/credits\/checkout\/success\?session_id=cs_demo_/);
  assert.is(await page.getAttribute('#purchase-status', 'data-state'), 'complete');
  assert.is(await page.getAttribute('#balance-card .balance-credits', 'data-mc'), '10000000');
  assert.is((await page.textContent('#balance-card .balance-credits'))?.trim(), '10,000.00');
  await page.screenshot({ path: `${ARTIFACTS}/buy-3-success.png`, fullPage: true });

  await page.click('#purchase-status a:has-text("Back to Credits")');
  await page.waitForURL('**/credits');
  assert.is(await page.getAttribute('#balance-card .balance-credits', 'data-mc'), '10000000');
  assert.is((await page.textContent('#purchases tbody tr .purchase-status'))?.trim(), 'paid');
  await page.screenshot({ path: `${ARTIFACTS}/buy-4-credits-after.png`, fullPage: true });

  // The ledger row and the purchases list both lead to the local receipt.
  await page.click('#purchases tbody tr a:has-text("Receipt")');
  await page.waitForURL(/\/credits\/receipts\/cs_demo_/);
  assert.match((await page.textContent('main')) ?? '', /no card was charged/);
  await page.screenshot({ path: `${ARTIFACTS}/buy-5-receipt.png`, fullPage: true });
  assert.equal(problems, [], 'no script errors or CSP violations');
  await page.close();
});

e2e('the pending card polls by itself and swaps in the balance card once the payment lands', async ({ server: { url }, browser }) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
  await page.goto(`${url}/login`);
  await page.fill('input[name="email"]', 'buyer@example.com');
  await page.fill('input[name="password"]', 'a long demo password');
  await page.click('main form button[type="submit"]');
  await page.waitForURL('**/credits');

  await page.click('li[data-package="basic"] button[type="submit"]');
  await page.waitForURL(/\/credits\/demo-checkout\/cs_demo_/);
  const sessionId = /cs_demo_\w+/.exec(page.url())![0];
  // Back from checkout before the payment is confirmed: the pending card.
  await page.goto(`${url}/credits/checkout/success?session_id=${sessionId}`);
  assert.is(await page.getAttribute('#purchase-status', 'data-state'), 'pending');
  assert.is(await page.getAttribute('#balance-card .balance-credits', 'data-mc'), '10000000');
  await page.screenshot({ path: `${ARTIFACTS}/buy-6-pending.png`, fullPage: true });

  // The payment lands while the page is open (another tab pays); the page learns it by polling.
  const paid = await context.request.post(`${url}/credits/demo-checkout/${sessionId}/pay`, { headers: { origin: url }, maxRedirects: 0 });
  assert.is(paid.status(), 303);
  await page.waitForSelector('#purchase-status[data-state="complete"]', { timeout: 10_000 });
  await page.waitForSelector('#balance-card .balance-credits[data-mc="30400000"]', { timeout: 5_000 });
  assert.is((await page.textContent('#balance-card .balance-credits'))?.trim(), '30,400.00');
  assert.is(await page.$$eval('#balance-card', (cards) => cards.length), 1, 'swapped in place, not added');
  await page.screenshot({ path: `${ARTIFACTS}/buy-7-pending-credited.png`, fullPage: true });
  assert.equal(problems, [], 'no script errors or CSP violations');
  await context.close();
});

e2e('after the flow in the browser, the books balance: audit is clean', async ({ databaseUrl }) => {
  assert.equal(await auditUrl(databaseUrl), []);
});

e2e.run();
