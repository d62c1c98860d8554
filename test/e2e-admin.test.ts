// The operator console in a real headless Chromium against the real server (one browser session):
// an admin finds a user, grants and adjusts, adds a model with its rates; the user then calls that
// model through the official openai SDK (tokentab → the fake upstream) and is charged the new rates
// exactly; the admin sees the call on the user's page and filters the user's usage there. Pages fit a
// 390 px phone without sideways scroll. A signed-in user who is not an admin gets 404 on every /admin URL.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { Browser } from 'playwright-core';
import { ManualClock } from '../src/clock.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { seedDefaults } from '../src/seed.ts';
import { createUser } from '../src/users/users.ts';
import { hashPassword } from '../src/auth/password.ts';
import { createApiKey } from '../src/keys/keys.ts';
import { auditUrl, cheapCost } from './helpers/db.ts';
import { emptyDatabaseUrl, openTestDatabase } from './helpers/backend.ts';
import { launchChromium } from './helpers/chromium.ts';
import { OPERATOR_KEY } from './helpers/gateway.ts';
import { DEMO_ENV, startServer, type RunningServer } from './helpers/server.ts';
import { startFakeOpenAIUpstream, type FakeOpenAIUpstream } from './fakes/openai-upstream.ts';

const ARTIFACTS = 'test/artifacts';
interface Context {
  dir: string;
  url: string;
  server: RunningServer;
  browser: Browser;
  fake: FakeOpenAIUpstream;
  annId: number;
  annKey: string;
}
const e2e = suite<Context>('admin console in chromium');

e2e.before(async (context) => {
  try {
    await setUp(context);
  } catch (error) {
    // uvu fails a suite whose before throws without saying why.
    console.error('e2e-admin set-up failed:', error);
    throw error;
  }
});

async function setUp(context: Context): Promise<void> {
  context.dir = mkdtempSync(join(tmpdir(), 'tokentab-e2e-admin-'));
  context.url = await emptyDatabaseUrl(context.dir, 'admin.db');
  const db = openTestDatabase(context.url);
  const clock = new ManualClock(Date.now());
  await migrateToLatest(db);
  await seedDefaults(db, clock);
  await createUser(db, clock, { email: 'ops@example.com', passwordHash: await hashPassword('ops password', cheapCost), isAdmin: true });
  const ann = await createUser(db, clock, { email: 'ann@example.com', passwordHash: await hashPassword('ann password', cheapCost) });
  context.annId = ann.id;
  context.annKey = (await createApiKey(db, clock, ann.id, 'backend')).key;
  await db.destroy();
  context.fake = await startFakeOpenAIUpstream();
  context.server = await startServer({ ...DEMO_ENV, PAYMENTS: 'off', DATABASE_URL: context.url, OPENAI_API_KEY: OPERATOR_KEY, OPENAI_BASE_URL: `${context.fake.url}/v1` });
  context.browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
}

e2e.after(async ({ browser, server, fake, dir }) => {
  await browser?.close();
  await server?.stop();
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

e2e('an admin grants, adjusts and adds a model; the user calls it through the SDK and pays its rates; the admin sees the call', async ({ server, browser, fake, annId, annKey, url }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  const noSidewaysScroll = async (what: string) => {
    const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    assert.ok(widths[0]! <= widths[1]!, `${what}: no horizontal scroll at 390 px (${widths[0]} > ${widths[1]})`);
  };

  await page.goto(`${server.url}/login`);
  await page.fill('input[name="email"]', 'ops@example.com');
  await page.fill('input[name="password"]', 'ops password');
  await page.click('#login-form button[type="submit"]');
  await page.waitForURL('**/credits');
  await page.click('nav a[href="/admin"]');
  await page.waitForURL('**/admin/users');
  await page.fill('#admin-search', 'ANN@');
  await page.click('.admin-search button[type="submit"]');
  await page.waitForURL('**/admin/users?search=ANN%40&sort=activity');
  await noSidewaysScroll('users');
  await page.click('.admin-users-table a');
  await page.waitForURL(`**/admin/users/${annId}`);

  await page.fill('#grant-amount', '50');
  await page.fill('#grant-reason', 'Launch promotion');
  await page.click('#grant button[type="submit"]');
  await page.waitForURL(`**/admin/users/${annId}?done=grant`);
  assert.is(await page.getAttribute('.wallet-balance', 'data-mc'), '50000');
  await page.fill('#adjust-amount', '-5');
  await page.fill('#adjust-reason', 'Double grant');
  await page.click('#adjust button[type="submit"]');
  await page.waitForURL(`**/admin/users/${annId}?done=adjust`);
  assert.is(await page.getAttribute('.wallet-balance', 'data-mc'), '45000');

  await page.goto(`${server.url}/admin/rates`);
  await page.fill('#add-rate-model', 'acme-chat-1');
  await page.fill('#add-rate-label', 'Acme');
  await page.fill('#add-rate-input', '3');
  await page.fill('#add-rate-output', '12.5');
  await page.fill('#add-rate-max_output', '4096');
  await page.fill('#add-rate-reason', 'New upstream model');
  await page.click('#add-rate button[type="submit"]');
  await page.waitForURL('**/admin/rates?done=add');
  assert.ok(await page.$('details[data-model="acme-chat-1"]'));
  await noSidewaysScroll('rate card');

  // The user: the official SDK, with their key, to the model the admin just added.
  fake.queueBehaviours({ kind: 'ok', text: 'Hi from Acme.', usage: { prompt_tokens: 1_000, completion_tokens: 500 } });
  const client = new OpenAI({ apiKey: annKey, baseURL: `${server.url}/v1`, maxRetries: 0 });
  const completion = await client.chat.completions.create({ model: 'acme-chat-1', messages: [{ role: 'user', content: 'Hello' }] });
  assert.is(completion.choices[0]!.message.content, 'Hi from Acme.');
  assert.is(fake.lastRequest?.body?.model, 'acme-chat-1', 'forwarded to the upstream under its own name');
  // 1,000 input tokens at 3 credits per 1k + 500 output at 12.5 per 1k = 3,000 + 6,250 mc.
  const chargedMc = 9_250;
  // tokentab's request id (the x-request-id header, which the SDK keeps) names the call on the pages.
  const requestId = completion._request_id!;
  assert.ok(requestId);

  await page.goto(`${server.url}/admin/users/${annId}`);
  assert.is(await page.getAttribute('.wallet-balance', 'data-mc'), String(45_000 - chargedMc));
  assert.is(await page.getAttribute(`#usage tr[data-request-id="${requestId}"] td[data-label="Charged credits"]`, 'data-mc'), String(chargedMc), 'the call on the user page, at the new rates');
  assert.match((await page.textContent(`#usage tr[data-request-id="${requestId}"] td[data-label="Model"]`)) ?? '', /Acme/);
  const actions = await page.$$eval('#admin-actions tbody tr', (rows) => rows.map((row) => [row.getAttribute('data-action'), row.querySelector('td[data-label="Reason"]')?.textContent]));
  assert.equal(actions, [['adjust', 'Double grant'], ['grant', 'Launch promotion']]);
  // The user's filters on the admin page: choosing the model swaps the results (htmx) and pushes the console's own URL.
  await page.selectOption('#usage-model', 'acme-chat-1');
  await page.waitForURL(`**/admin/users/${annId}/usage?model=acme-chat-1#usage`);
  assert.equal(await page.$$eval('#usage-results tbody tr', (rows) => rows.map((row) => row.getAttribute('data-request-id'))), [requestId]);
  await noSidewaysScroll('user page');
  await page.screenshot({ path: `${ARTIFACTS}/admin-user-phone.png`, fullPage: true });

  // Health: the real server's workers recorded their rounds; the audit run from the page is kept in its history.
  await page.goto(`${server.url}/admin/health`);
  await page.waitForSelector('.worker-runs tr[data-worker="mail-sender"][data-outcome="ok"]', { timeout: 10_000 });
  assert.is(await page.getAttribute('.worker-runs tr[data-worker="promo-expiry"]', 'data-outcome'), 'ok', 'run at start');
  await page.click('#health-audit button[type="submit"]');
  await page.waitForSelector('.audit-result[data-violations="0"]');
  assert.equal(await page.$$eval('.audit-runs tbody tr', (rows) => rows.map((row) => row.querySelector('td[data-label="From"]')?.textContent)), ['console (ops@example.com)']);
  await noSidewaysScroll('health');
  assert.equal(errors, [], 'no script or CSP errors');
  await context.close();
  assert.equal(await auditUrl(url), []);
});

e2e('a signed-in user who is not an admin gets the plain 404 on every /admin URL, GET or a form POST, and nothing changes', async ({ server, browser, annId, url }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/login`);
  await page.fill('input[name="email"]', 'ann@example.com');
  await page.fill('input[name="password"]', 'ann password');
  await page.click('#login-form button[type="submit"]');
  await page.waitForURL('**/credits');
  assert.not.ok(await page.$('nav a[href="/admin"]'), 'no Admin link');
  const paths = ['/admin', '/admin/users', `/admin/users/${annId}`, `/admin/users/${annId}/usage`, `/admin/users/${annId}/ledger?type=grant`, `/admin/users/${annId}/purchases`, '/admin/rates', '/admin/packages', '/admin/purchases', '/admin/health', '/admin/no-such-page'];
  for (const path of paths) {
    const response = await page.goto(`${server.url}${path}`);
    assert.is(response?.status(), 404, `GET ${path}`);
    assert.not.match((await page.textContent('main')) ?? '', /admin/i, `${path}: nothing tells the console exists`);
  }
  // Forms as the browser posts them (same origin, the session's cookie).
  const forms: [string, Record<string, string>][] = [
    [`/admin/users/${annId}/grant`, { amount: '1000', reason: 'self-service' }],
    [`/admin/users/${annId}/adjust`, { amount: '1000', reason: 'self-service' }],
    ['/admin/health/audit', {}],
    ['/admin/rates/add', { model: 'free-model', input: '0', output: '0', reason: 'x' }],
    ['/admin/purchases/reconcile', { reason: 'x' }],
  ];
  for (const [path, form] of forms) {
    const response = await context.request.post(`${server.url}${path}`, { form, headers: { origin: server.url } });
    assert.is(response.status(), 404, `POST ${path}`);
  }
  const db = openTestDatabase(url);
  try {
    assert.is((await db.selectFrom('admin_actions').select('id').where('target_user_id', '=', annId).where('reason', '=', 'self-service').execute()).length, 0, 'nothing recorded');
    assert.is((await db.selectFrom('rates').select('id').where('model', '=', 'free-model').execute()).length, 0, 'no model added');
    assert.is((await db.selectFrom('audit_runs').select('id').where('admin_user_id', '=', annId).execute()).length, 0, 'no audit run');
  } finally {
    await db.destroy();
  }
  await context.close();
  assert.equal(await auditUrl(url), []);
});

e2e.run();
