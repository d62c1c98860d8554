// The Credits tab in a real headless Chromium against the real server: sign in, read the balance,
// filter usage (the URL changes, only the table is replaced), page older and newer, go back, open
// a call, download a CSV; screenshots at desktop and phone widths in test/artifacts/. Spend over time
// for a second user with a month of calls: drawn at 390×844 and 1280×800 with no sideways scroll and
// no CSP or console error, the bars equal to the table.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ManualClock } from '../src/clock.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { seedDefaults } from '../src/seed.ts';
import { createUser } from '../src/users/users.ts';
import { hashPassword } from '../src/auth/password.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { createApiKey } from '../src/keys/keys.ts';
import { cheapCost } from './helpers/db.ts';
import { emptyDatabaseUrl, openTestDatabase } from './helpers/backend.ts';
import { makeCall } from './helpers/usage.ts';
import { launchChromium } from './helpers/chromium.ts';
import { startServer, type RunningServer } from './helpers/server.ts';

const ARTIFACTS = 'test/artifacts';
const e2e = suite<{ dir: string; server: RunningServer; browser: Browser; balanceMc: number }>('credits tab in chromium');

e2e.before(async (context) => {
  context.dir = mkdtempSync(join(tmpdir(), 'tokentab-e2e-'));
  const url = await emptyDatabaseUrl(context.dir, 'e2e.db');
  const db = openTestDatabase(url);
  // History in the past, an hour apart, so the pages are stable whatever the time now.
  const clock = new ManualClock(Date.UTC(2026, 9, 1, 8, 0));
  await migrateToLatest(db);
  await seedDefaults(db, clock);
  const user = await createUser(db, clock, { email: 'e2e@example.com', passwordHash: await hashPassword('e2e password', cheapCost) });
  const { apiKey } = await createApiKey(db, clock, user.id, 'backend');
  await grantCredits(db, clock, { userId: user.id, amountMc: 25_000_000, reason: 'welcome' });
  let last = null;
  for (let i = 0; i < 40; i++) {
    last = await makeCall(db, clock, user.id, { model: i % 2 ? 'gpt-4o' : 'gpt-4o-mini', apiKeyId: i % 3 ? apiKey.id : null, inputTokens: 100 + i, outputTokens: 50 + i, advanceMs: 3_600_000, requestId: `req_e2e${String(i).padStart(2, '0')}` });
  }
  context.balanceMc = last!.balanceMc;
  // A second user with a month of calls (October 2026) on three models by two keys and the playground, for the chart.
  const charter = await createUser(db, clock, { email: 'chart@example.com', passwordHash: await hashPassword('e2e password', cheapCost) });
  const keys = [(await createApiKey(db, clock, charter.id, 'web app')).apiKey.id, (await createApiKey(db, clock, charter.id, 'nightly batch')).apiKey.id, null];
  await grantCredits(db, clock, { userId: charter.id, amountMc: 900_000_000, reason: 'welcome' });
  const chartClock = new ManualClock(Date.UTC(2026, 9, 1, 6, 0));
  for (let day = 0; day < 30; day++) {
    for (let i = 0; i < 1 + ((day * 7) % 5); i++) {
      const model = ['gpt-4o-mini', 'gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'][(day + i) % 4]!;
      await makeCall(db, chartClock, charter.id, { model, apiKeyId: keys[(day + i) % 3], inputTokens: 2_000 + ((day * 977 + i * 131) % 9_000), outputTokens: model.startsWith('text-') ? 0 : 500 + ((day * 313) % 1_500), advanceMs: 60_000 });
    }
    chartClock.advance(86_400_000 - (1 + ((day * 7) % 5)) * 60_000);
  }
  await db.destroy();
  context.server = await startServer({ DATABASE_URL: url, SQLITE_SYNCHRONOUS: 'normal' });
  context.browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
});

e2e.after(async ({ browser, server, dir }) => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

e2e('sign in, filter, page, go back, open a call, download a CSV', async ({ server, browser, balanceMc }) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));

  await page.goto(`${server.url}/credits`);
  assert.match(page.url(), /\/login$/, 'signed out: sent to sign in');
  await page.fill('input[name="email"]', 'e2e@example.com');
  await page.fill('input[name="password"]', 'e2e password');
  await page.click('#login-form button[type="submit"]');
  await page.waitForURL('**/credits');
  assert.is(await page.getAttribute('#balance-card .balance-credits', 'data-mc'), String(balanceMc));
  await page.screenshot({ path: `${ARTIFACTS}/credits-desktop.png`, fullPage: true });

  // Mark the balance card: if the whole page were replaced, the mark would be gone.
  await page.evaluate(() => ((document.querySelector('#balance-card') as HTMLElement).dataset.mark = 'kept'));
  const firstIds = await page.$$eval('#usage-results tbody tr', (rows) => rows.map((r) => r.getAttribute('data-request-id')));
  assert.equal(firstIds.slice(0, 2), ['req_e2e39', 'req_e2e38']);

  await page.selectOption('#usage-model', 'gpt-4o');
  await page.waitForURL('**/credits/usage?model=gpt-4o#usage');
  await page.waitForFunction(() => document.querySelector('#usage-results tbody tr')?.getAttribute('data-request-id') === 'req_e2e39');
  const filtered = await page.$$eval('#usage-results tbody tr td:nth-child(2)', (cells) => [...new Set(cells.map((c) => c.textContent))]);
  assert.equal(filtered, ['Advanced (gpt-4o)']);
  assert.is(await page.getAttribute('#balance-card', 'data-mark'), 'kept', 'only the table was replaced');

  await page.selectOption('#usage-model', '');
  await page.waitForURL('**/credits/usage#usage');
  await page.waitForFunction(() => document.querySelectorAll('#usage-results tbody tr').length === 25);
  await page.click('#usage-results a[rel="next"]');
  await page.waitForURL(/\/credits\/usage\?cursor=/);
  await page.waitForFunction(() => document.querySelector('#usage-results tbody tr')?.getAttribute('data-request-id') === 'req_e2e14');
  const olderUrl = page.url();
  assert.is(await page.$$eval('#usage-results tbody tr', (rows) => rows.length), 15);
  await page.click('#usage-results a[rel="prev"]');
  await page.waitForFunction(() => document.querySelector('#usage-results tbody tr')?.getAttribute('data-request-id') === 'req_e2e39');

  await page.goBack();
  await page.waitForURL(olderUrl);
  await page.waitForFunction(() => document.querySelector('#usage-results tbody tr')?.getAttribute('data-request-id') === 'req_e2e14');
  assert.is(await page.getAttribute('#balance-card', 'data-mark'), 'kept', 'back restored the table in place');

  // A pushed URL loaded on its own (shared link, reload) is the full page.
  const direct = await context.newPage();
  await direct.goto(olderUrl);
  assert.ok(await direct.isVisible('#balance-card'));
  assert.is(await direct.$$eval('#usage-results tbody tr', (rows) => rows.length), 15);
  await direct.close();

  await page.click('#usage-results tbody tr:first-child a');
  await page.waitForURL(/\/credits\/usage\/req_e2e14\?back=/);
  assert.match((await page.textContent('.usage-detail h1')) ?? '', /req_e2e14/);
  assert.match((await page.textContent('.formula')) ?? '', /microcredits/);
  await page.goBack();
  await page.waitForURL(olderUrl);

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#usage-results .csv-link')]);
  const csvPath = join(ARTIFACTS, 'usage-e2e.csv');
  await download.saveAs(csvPath);
  const csv = readFileSync(csvPath, 'utf8').split('\r\n');
  assert.is(csv[0], 'date,request_id,model,input_tokens,cached_input_tokens,output_tokens,input_rate,cached_input_rate,output_rate,charged_credits,status,estimated,api_key');
  assert.is(csv.length - 2, 40, 'every call, not just the page shown');

  // "Copy link": the link appears under the form and app.js puts it on the clipboard; fetched with
  // no cookie it is the same CSV (the link covers the filters, not the page's cursor).
  await page.click('#usage-results .csv-link-form button[type="submit"]');
  await page.waitForSelector('#usage-results #new-csv-link-url');
  const shown = ((await page.textContent('#usage-results #new-csv-link-url')) ?? '').trim();
  assert.match(shown, /\/credits\/usage\.csv\?link=\d+\.[a-z2-7]{32}$/);
  await page.waitForFunction(() => document.querySelector('#usage-results [data-copy-now]')?.textContent?.trim() === 'Copied');
  assert.is(await page.evaluate(() => navigator.clipboard.readText()), shown, 'copied to the clipboard');
  const linked = await fetch(`${server.url}${new URL(shown).pathname}${new URL(shown).search}`);
  assert.is(linked.status, 200);
  assert.is(await linked.text(), readFileSync(csvPath, 'utf8'));

  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${server.url}/credits`);
  await page.screenshot({ path: `${ARTIFACTS}/credits-phone.png`, fullPage: false });
  await page.locator('#usage').scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${ARTIFACTS}/credits-phone-usage.png` });
  await page.click('#usage-results .csv-link-form button[type="submit"]');
  await page.waitForSelector('#usage-results #new-csv-link-url');
  await page.locator('#usage-results .table-footer').scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${ARTIFACTS}/credits-phone-csv-link.png` });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth), 'the new link wraps on a phone');
  assert.equal(errors, [], 'no script errors (CSP included)');
  await context.close();
});

e2e('spend over time fits a phone and a desktop, under the CSP, its bars equal to its table', async ({ server, browser }) => {
  for (const viewport of [{ width: 390, height: 844, name: 'phone' }, { width: 1280, height: 800, name: 'desktop' }]) {
    const context = await browser.newContext({ viewport: { width: viewport.width, height: viewport.height } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    await page.goto(`${server.url}/login`);
    await page.fill('input[name="email"]', 'chart@example.com');
    await page.fill('input[name="password"]', 'e2e password');
    await page.click('#login-form button[type="submit"]');
    await page.waitForURL('**/credits');
    await page.goto(`${server.url}/credits/chart?range=custom&from=2026-10-01&to=2026-10-30&group=model#spend-chart`);
    // One drawing a shape of screen: the phone's is nearly square, so its bars are read at their size.
    const [drawing, other] = viewport.name === 'phone' ? ['svg.spend-chart-phone', 'svg.spend-chart'] : ['svg.spend-chart', 'svg.spend-chart-phone'];
    assert.ok(await page.isVisible(drawing), `${viewport.name}: the chart is drawn`);
    assert.not.ok(await page.isVisible(other), `${viewport.name}: the other shape is not shown`);
    const box = (await page.locator(drawing).boundingBox())!;
    assert.ok(box.width <= viewport.width, `${viewport.name}: the chart fits (${box.width}×${box.height})`);
    if (viewport.name === 'phone') assert.ok(box.height >= box.width * 0.8 && box.height >= 280, `phone: the chart is tall enough to read (${box.width}×${box.height})`);
    else assert.ok(box.height > 200, `desktop: the chart is drawn at its size (${box.width}×${box.height})`);
    const sums = await page.evaluate((drawn) => ({
      bars: [...document.querySelectorAll(`${drawn} rect.bar`)].reduce((sum, bar) => sum + Number(bar.getAttribute('data-mc')), 0),
      table: Number(document.querySelector('.range-total td[data-label="Total credits"]')!.getAttribute('data-mc')),
      days: document.querySelectorAll('.spend-chart-table tbody tr').length,
    }), drawing);
    assert.is(sums.bars, sums.table, 'the bars add up to the table');
    assert.is(sums.days, 30);
    const overflow = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    assert.ok(overflow.scroll <= overflow.client, `${viewport.name}: no sideways scroll (${overflow.scroll} > ${overflow.client})`);
    await page.locator('#spend-chart').screenshot({ path: `${ARTIFACTS}/chart-${viewport.name}.png` });
    // Grouping by key under htmx: only the results change, the URL follows, still no sideways scroll.
    await page.selectOption('#chart-group', 'key');
    await page.waitForURL('**/credits/chart?range=custom&from=2026-10-01&to=2026-10-30&group=key#spend-chart');
    await page.waitForFunction(() => [...document.querySelectorAll('.chart-legend li')].some((li) => li.textContent?.includes('nightly batch')));
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth), `${viewport.name}: by key, no sideways scroll`);
    assert.equal(errors, [], `${viewport.name}: no script errors (CSP included)`);
    await context.close();
  }
});

e2e.run();
