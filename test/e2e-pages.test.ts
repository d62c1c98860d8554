// Every page in a real headless Chromium against the real server (demo payments), signed out, on an
// empty account and on a busy one, at 390×844, 360×740 and 1280×800: nothing wider than the screen,
// no script or CSP errors. Then, in the same browser: the controls match the URL after filter →
// Older → a detail → Back twice, and a bad filter under htmx shows its error with the field marked.
// Screenshots (phone and desktop) in test/artifacts/pages-*.png.
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { ManualClock, systemClock } from '../src/clock.ts';
import { createCsvLink } from '../src/exports/csv-links.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { seedDefaults } from '../src/seed.ts';
import { createUser } from '../src/users/users.ts';
import { hashPassword } from '../src/auth/password.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { createApiKey, revokeApiKey } from '../src/keys/keys.ts';
import { cheapCost, auditUrl } from './helpers/db.ts';
import { openTestDatabase } from './helpers/backend.ts';
import { makeCall } from './helpers/usage.ts';
import { ARTIFACTS, demoBrowserSuite, signUp } from './helpers/e2e.ts';

const e2e = demoBrowserSuite('every page in chromium', 'pages.db');

const SIZES = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'narrow', width: 360, height: 740 },
  { name: 'desktop', width: 1280, height: 800 },
] as const;

const BUSY = { email: 'busy@example.com', password: 'busy account password' };
/** A key name as long as people write them: it must wrap, not widen the page. */
const LONG_KEY_NAME = 'nightly-batch-summariser-for-the-support-inbox-eu-west-1';

/** Calls with realistic request ids (req_ and 32 hex digits), over two keys and the playground, some aborted or estimated. */
async function seedBusyAccount(databaseUrl: string): Promise<{ requestIds: string[]; keyId: number }> {
  const db = openTestDatabase(databaseUrl);
  // History in the past, an hour apart, so the pages are stable whatever the time now.
  const clock = new ManualClock(Date.UTC(2026, 9, 1, 8, 0));
  await migrateToLatest(db);
  await seedDefaults(db, clock);
  const user = await createUser(db, clock, { email: BUSY.email, passwordHash: await hashPassword(BUSY.password, cheapCost) });
  const { apiKey } = await createApiKey(db, clock, user.id, 'backend');
  const { apiKey: longKey } = await createApiKey(db, clock, user.id, LONG_KEY_NAME);
  const { apiKey: oldKey } = await createApiKey(db, clock, user.id, 'old laptop');
  await grantCredits(db, clock, { userId: user.id, amountMc: 100_000_000, reason: 'welcome' });
  const requestIds: string[] = [];
  // 64 calls: the gpt-4o ones alone fill more than one page of 25.
  for (let i = 0; i < 64; i++) {
    const requestId = `req_${(clock.now() + i * 3_600_000).toString(16).padStart(12, '0')}${randomBytes(10).toString('hex')}`;
    requestIds.push(requestId);
    await makeCall(db, clock, user.id, {
      model: i % 2 ? 'gpt-4o' : 'gpt-4o-mini',
      apiKeyId: [apiKey.id, longKey.id, null][i % 3],
      inputTokens: 1_000 + i * 377,
      outputTokens: 500 + i * 131,
      status: i % 7 === 3 ? 'aborted' : 'ok',
      estimated: i % 7 === 3,
      advanceMs: 3_600_000,
      requestId,
    });
  }
  await revokeApiKey(db, clock, user.id, oldKey.id);
  // A CSV link with long filters, made now (the server's clock) so the keys page lists it.
  await createCsvLink(db, systemClock, { userId: user.id, kind: 'usage', query: `model=gpt-4o-mini&key=${longKey.id}&from=2026-10-01&to=2026-10-31`, days: 90 });
  await db.destroy();
  return { requestIds, keyId: apiKey.id };
}

interface Watched {
  page: Page;
  problems: string[];
}

function watch(page: Page): Watched {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${page.url()}: ${message.text()}`);
  });
  return { page, problems };
}

/**
 * What sticks out of the screen: the page's own scroll width, and any visible element past either
 * edge or scrolling sideways inside. A string, so it reaches the page as written (tsx would wrap a
 * function's inner helpers in its own `__name`, unknown there).
 */
const OVERFLOW_SCRIPT = `(() => {
  const root = document.documentElement;
  const width = root.clientWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.classList.length ? '.' + [...el.classList].join('.') : '');
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    // Hidden on purpose (the skip link, a phone table's header row) sits wholly off-screen.
    if (box.width === 0 || box.right <= 0) continue;
    if (box.right > width + 1) wide.push(name(el) + ' ends at ' + Math.round(box.right) + 'px');
    else if (el.scrollWidth > el.clientWidth + 1 && ['auto', 'scroll'].includes(getComputedStyle(el).overflowX)) wide.push(name(el) + ' scrolls sideways (' + el.scrollWidth + ' in ' + el.clientWidth + ')');
  }
  return { scrollWidth: root.scrollWidth, clientWidth: width, wide: wide.slice(0, 6) };
})()`;

async function overflow(page: Page): Promise<{ scrollWidth: number; clientWidth: number; wide: string[] }> {
  return page.evaluate(OVERFLOW_SCRIPT);
}

/** Visits each path at each size: it fits, and on phone and desktop a screenshot is kept. */
async function sweep(context: BrowserContext, url: string, label: string, paths: string[], problemsOut: string[]): Promise<void> {
  const { page, problems } = watch(await context.newPage());
  for (const size of SIZES) {
    await page.setViewportSize({ width: size.width, height: size.height });
    for (const path of paths) {
      const answer = await page.goto(`${url}${path}`);
      assert.ok(answer && answer.status() < 500, `${path}: answered ${answer?.status()}`);
      const found = await overflow(page);
      if (found.scrollWidth > found.clientWidth || found.wide.length > 0) problemsOut.push(`${label} ${path} at ${size.width}px: ${found.scrollWidth} > ${found.clientWidth}; ${found.wide.join('; ')}`);
      // On a phone the header and the demo banner take two short lines and one: the page starts above the fold.
      const mainTop = (await page.evaluate(`document.querySelector('main').getBoundingClientRect().top + window.scrollY`)) as number;
      if (size.width < 400 && mainTop > 120) problemsOut.push(`${label} ${path} at ${size.width}px: the page's content starts ${Math.round(mainTop)}px down`);
      if (size.name !== 'narrow') {
        const file = `${label}-${path.replace(/^\//, '').replace(/[^a-z0-9]+/gi, '-').slice(0, 60) || 'home'}-${size.name}.png`;
        // The screen as it opens (what is above the fold), and the whole page when it is not too tall to look at.
        await page.screenshot({ path: `${ARTIFACTS}/pages-${file}` });
        if ((await page.evaluate('document.documentElement.scrollHeight')) as number < 3 * size.height) await page.screenshot({ path: `${ARTIFACTS}/pages-${file.replace(/\.png$/, '-full.png')}`, fullPage: true });
        if (path === '/credits') {
          for (const section of ['#usage', '#ledger', '#purchases', '#rate-card']) {
            const top = (await page.evaluate(`document.querySelector('${section}').getBoundingClientRect().top + window.scrollY`)) as number;
            await page.screenshot({ path: `${ARTIFACTS}/pages-${file.replace(/\.png$/, `-${section.slice(1)}.png`)}`, fullPage: true, clip: { x: 0, y: top, width: size.width, height: 1000 } });
          }
        }
      }
    }
  }
  problemsOut.push(...problems);
  await page.close();
}

async function signIn(page: Page, url: string, email: string, password: string): Promise<void> {
  await page.goto(`${url}/login`);
  await page.fill('input[name="email"]', email);
  await page.fill('input[name="password"]', password);
  await page.click('main form button[type="submit"]');
  await page.waitForURL('**/credits');
}

const ACCOUNT_PAGES = ['/credits', '/playground', '/keys', '/settings/billing', '/account', '/credits/balance', '/credits/packages', '/credits/rates', '/credits/spend', '/credits/usage', '/credits/ledger'];

let seeded: { requestIds: string[]; keyId: number };

e2e.before(async (context) => {
  // The suite's server starts on an empty database it migrates itself; the busy account is added beside it.
  seeded = await seedBusyAccount(context.databaseUrl);
});

e2e('every page fits 390, 360 and 1280 px wide, signed out, empty and busy, with no script or CSP errors', async ({ server: { url }, browser }) => {
  const problems: string[] = [];
  const signedOut = await browser.newContext();
  await sweep(signedOut, url, 'out', ['/', '/login', '/signup', '/reset'], problems);
  await signedOut.close();

  const empty = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const emptyPage = watch(await empty.newPage());
  await signUp(emptyPage.page, url, 'new@example.com');
  await sweep(empty, url, 'empty', ACCOUNT_PAGES, problems);
  problems.push(...emptyPage.problems);
  await empty.close();

  const busy = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const { page, problems: busyProblems } = watch(await busy.newPage());
  await signIn(page, url, BUSY.email, BUSY.password);
  // A pending purchase (its checkout left open), then a paid one: the return pages and the receipt.
  await page.click('li[data-package="basic"] button[type="submit"]');
  await page.waitForURL(/\/credits\/demo-checkout\/cs_demo_/);
  const pendingSession = /cs_demo_\w+/.exec(page.url())![0];
  await page.goto(`${url}/credits`);
  await page.click('li[data-package="starter"] button[type="submit"]');
  await page.waitForURL(/\/credits\/demo-checkout\/cs_demo_/);
  const checkoutPath = new URL(page.url()).pathname;
  await page.click('button:has-text("Pay $10.00")');
  await page.waitForURL(/\/credits\/checkout\/success/);
  const successPath = new URL(page.url()).pathname + new URL(page.url()).search;
  const receipt = await page.getAttribute('#purchase-status a:has-text("receipt")', 'href');
  // A checkout cancelled on the demo page: the cancel return, one layout with the success return.
  await page.goto(`${url}/credits`);
  await page.click('li[data-package="professional"] button[type="submit"]');
  await page.waitForURL(/\/credits\/demo-checkout\/cs_demo_/);
  await page.click('button.secondary[formaction$="/cancel"]');
  await page.waitForURL(/\/credits\/checkout\/cancel\?purchase=/);
  const cancelPath = new URL(page.url()).pathname + new URL(page.url()).search;
  const returnLayout = async (path: string) => {
    await page.goto(`${url}${path}`);
    return page.evaluate(`[...document.querySelectorAll('main > *')].map((el) => el.id || el.tagName.toLowerCase()).join(' ') + ' / h1 in the card: ' + !!document.querySelector('#purchase-status > h1')`);
  };
  assert.is(await returnLayout(cancelPath), await returnLayout(successPath), 'the success and the cancel return look alike');
  assert.is(await returnLayout(cancelPath), 'purchase-status balance-card / h1 in the card: true');
  const newest = seeded.requestIds.at(-1)!;
  await sweep(
    busy,
    url,
    'busy',
    [
      ...ACCOUNT_PAGES,
      '/credits/usage?model=gpt-4o',
      `/credits/usage/${newest}`,
      '/credits/ledger?type=usage',
      '/credits/chart?range=custom&from=2026-10-01&to=2026-10-31&group=model',
      `/credits/checkout/success?session_id=${pendingSession}`,
      checkoutPath,
      successPath,
      cancelPath,
      receipt!,
      `/keys/${seeded.keyId}/revoke`,
    ],
    problems,
  );
  problems.push(...busyProblems);
  await busy.close();
  assert.equal(problems, [], 'nothing wider than the screen, no script errors or CSP violations');
});

e2e('filter → Older → a call → Back twice: the controls match the rows and the URL; Back to usage keeps the page; typing asks once; errors are shown in place (a bad filter, no connection, a form past 64 KB)', async ({ server: { url }, browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const { page, problems } = watch(await context.newPage());
  await signIn(page, url, BUSY.email, BUSY.password);
  const tableRequests: string[] = [];
  page.on('request', (request) => {
    if (request.headers()['hx-request'] && new URL(request.url()).pathname === '/credits/usage') tableRequests.push(request.url());
  });
  const rowsFilteredBy = (query: string) => page.waitForFunction(`document.querySelector('#usage-results')?.getAttribute('data-filters') === ${JSON.stringify(query)}`);
  const models = () => page.$$eval('#usage-results tbody tr td:nth-child(2)', (cells) => [...new Set(cells.map((cell) => cell.textContent))]);

  await page.selectOption('#usage-model', 'gpt-4o');
  await page.waitForURL('**/credits/usage?model=gpt-4o#usage');
  await rowsFilteredBy('model=gpt-4o');
  assert.equal(await models(), ['Advanced (gpt-4o)']);
  await page.click('#usage-results a[rel="next"]');
  await page.waitForURL(/\/credits\/usage\?model=gpt-4o&cursor=.+#usage$/);
  const olderUrl = page.url();
  await rowsFilteredBy(new URL(olderUrl).search.slice(1));
  await page.click('#usage-results tbody tr:first-child a');
  await page.waitForURL(/\/credits\/usage\/req_/);
  const detailUrl = page.url();
  await page.goBack();
  await page.waitForURL(olderUrl);
  assert.is(await page.inputValue('#usage-model'), 'gpt-4o', 'back from the call: the model the rows were filtered by');
  await page.goBack();
  await page.waitForURL('**/credits/usage?model=gpt-4o#usage');
  await rowsFilteredBy('model=gpt-4o');
  assert.equal(await models(), ['Advanced (gpt-4o)']);
  assert.is(await page.inputValue('#usage-model'), 'gpt-4o', 'back twice: the select says what the rows are');
  assert.is(await page.$eval('#usage-model option[selected]', (option) => option.getAttribute('value')), 'gpt-4o');
  // The next filter change keeps the model.
  await page.selectOption('#usage-key', 'playground');
  await page.waitForURL('**/credits/usage?model=gpt-4o&key=playground#usage');
  await rowsFilteredBy('model=gpt-4o&key=playground');
  await page.goBack();
  await page.waitForURL('**/credits/usage?model=gpt-4o#usage');
  await rowsFilteredBy('model=gpt-4o');
  assert.is(await page.inputValue('#usage-key'), '', 'back: the key filter the rows had (none)');
  assert.is(await page.inputValue('#usage-model'), 'gpt-4o');

  // "← Back to usage" from a call returns to the filters and page it was opened from.
  await page.goto(detailUrl);
  await page.click('.back-link');
  await page.waitForURL(olderUrl);
  assert.is(await page.inputValue('#usage-model'), 'gpt-4o');
  // A filtered URL opened anew lands at its table.
  const landing = (await page.evaluate(`document.querySelector('#usage').getBoundingClientRect().top`)) as number;
  assert.ok(Math.abs(landing) < 5, `the usage section at the top of the screen (${landing}px)`);

  // Three arrow keys in the select, and a date typed digit by digit, ask for the table once each.
  await page.goto(`${url}/credits/usage#usage`);
  tableRequests.length = 0;
  await page.focus('#usage-model');
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
  await page.waitForTimeout(1_200);
  assert.is(tableRequests.length, 1, `one request for three arrow keys: ${tableRequests.join(' ')}`);
  const chosen = await page.inputValue('#usage-model');
  assert.ok(tableRequests[0]!.includes(`model=${chosen}`), 'the last choice is asked for');
  await page.focus('#usage-from');
  await page.keyboard.type('10022026', { delay: 60 });
  await page.waitForTimeout(1_200);
  assert.is(tableRequests.length, 2, `one request for a typed date: ${tableRequests.join(' ')}`);
  assert.ok(tableRequests[1]!.includes('from=2026-10-02'), tableRequests[1]);

  // A bad filter (to before from) under htmx: the message where the rows were, the field marked.
  await page.focus('#usage-to');
  await page.keyboard.type('10012026', { delay: 60 });
  await page.waitForSelector('#usage-results [role="alert"]');
  assert.match((await page.textContent('#usage-results [role="alert"]')) ?? '', /to must be on or after from/);
  assert.is(await page.getAttribute('#usage-to', 'aria-invalid'), 'true');
  await page.screenshot({ path: `${ARTIFACTS}/pages-bad-filter-phone.png` });
  // The browser reports the 400 asked for above on the console itself; nothing else may be there.
  assert.equal(problems.filter((problem) => !/status of 400 \(Bad Request\)/.test(problem)), [], 'no script errors or CSP violations');
  // An answer that never comes (offline): said at the top of the form. htmx logs the failed send itself.
  await context.setOffline(true);
  await page.selectOption('#usage-key', 'playground');
  await page.waitForSelector('#usage-filters .request-error');
  assert.match((await page.textContent('#usage-filters .request-error')) ?? '', /could not be reached/);
  await context.setOffline(false);
  // An answer htmx is told not to swap (a form past 64 KB): its one line at the top of the form, what was typed left alone.
  await page.goto(`${url}/keys`);
  await page.fill('input[name="name"]', 'x'.repeat(70_000));
  await page.click('#keys-panel form.card button[type="submit"]');
  await page.waitForSelector('#keys-panel form.card .request-error');
  assert.is((await page.textContent('#keys-panel form.card .request-error'))?.trim(), 'The request body is too large (at most 64 KB).');
  assert.is((await page.inputValue('input[name="name"]')).length, 70_000, 'the form was not replaced');
  await context.close();
});

e2e('after the flows in the browser, the books balance: audit is clean', async ({ databaseUrl }) => {
  assert.equal(await auditUrl(databaseUrl), []);
});

e2e.run();
