// End-to-end tests in headless Chromium against the real server process with demo payments: the
// suite that starts both on an empty database, and signing up and buying a package in the browser.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import type { Browser, Page } from 'playwright-core';
import { emptyDatabaseUrl } from './backend.ts';
import { launchChromium } from './chromium.ts';
import { DEMO_ENV, startServer, type RunningServer } from './server.ts';

/** Where screenshots and downloads go (git-ignored). */
export const ARTIFACTS = 'test/artifacts';

export interface DemoBrowserContext {
  dir: string;
  databaseUrl: string;
  server: RunningServer;
  browser: Browser;
}

/** A suite with the server (demo payments, an empty database named `databaseFile`) and Chromium started before it and stopped after it. */
export function demoBrowserSuite(name: string, databaseFile: string) {
  const e2e = suite<DemoBrowserContext>(name);
  e2e.before(async (context) => {
    context.dir = mkdtempSync(join(tmpdir(), 'tokentab-e2e-'));
    context.server = await startServer({ ...DEMO_ENV, DATABASE_URL: (context.databaseUrl = await emptyDatabaseUrl(context.dir, databaseFile)) });
    context.browser = await launchChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  e2e.after(async ({ browser, server, dir }) => {
    await browser?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return e2e;
}

/** Signs up through /signup (landing on /credits). */
export async function signUp(page: Page, url: string, email: string): Promise<void> {
  await page.goto(`${url}/signup`);
  await page.fill('input[name="email"]', email);
  await page.fill('input[name="password"]', 'a long demo password');
  await page.click('main form button[type="submit"]');
  await page.waitForURL('**/credits');
}

/** On /credits: Buy Starter (with the card saved if asked), pay $10.00 on the demo checkout, land on the success return. */
export async function buyStarter(page: Page, options: { saveCard?: boolean } = {}): Promise<void> {
  if (options.saveCard) await page.check('#packages input[name="save_card"]');
  await page.click('li[data-package="starter"] button[type="submit"]');
  await page.waitForURL(/\/credits\/demo-checkout\//);
  await page.click('button:has-text("Pay $10.00")');
  await page.waitForURL(/\/credits\/checkout\/success/);
}
