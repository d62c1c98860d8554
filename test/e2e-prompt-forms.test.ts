// The prompt forms in a real headless Chromium (htmx posting multipart/form-data): a 100 KB prompt
// gets its reply and its estimate; past 4 MB the playground says so in place of the result and
// keeps the prompt typed in the form.
import * as assert from 'uvu/assert';
import { auditUrl } from './helpers/db.ts';
import { ARTIFACTS, buyStarter, demoBrowserSuite, signUp } from './helpers/e2e.ts';

const e2e = demoBrowserSuite('prompt forms in chromium', 'prompts.db');

const LONG_PROMPT = 'The ledger keeps every entry, and the hold reserves the worst case. '.repeat(1_500);

e2e('a 100 KB prompt in the playground and the estimator; past 4 MB a message naming the limit, the prompt kept', async ({ server, browser, databaseUrl }) => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));

  await signUp(page, server.url, 'prompts@example.com');
  await buyStarter(page);

  await page.goto(`${server.url}/credits`);
  await page.fill('#estimate-text', LONG_PROMPT);
  await page.waitForFunction(() => /input and 0 output tokens/.test(document.querySelector('#estimate-result')?.textContent ?? ''));
  assert.match((await page.textContent('#estimate-result')) ?? '', /About [\d.,]+ credits/);

  await page.click('nav a[href="/playground"]');
  await page.waitForURL('**/playground');
  await page.fill('textarea[name="prompt"]', LONG_PROMPT);
  await page.fill('input[name="max_tokens"]', '50');
  await page.click('main form button[type="submit"]');
  await page.waitForSelector('#playground-result .reply');
  assert.match((await page.textContent('#playground-result')) ?? '', /This call cost/);

  const huge = 'x'.repeat(4 * 1024 * 1024 + 10);
  await page.fill('textarea[name="prompt"]', huge);
  await page.click('main form button[type="submit"]');
  await page.waitForFunction(() => /at most 4 MB/.test(document.querySelector('#playground-result')?.textContent ?? ''));
  assert.match((await page.textContent('#playground-result')) ?? '', /The prompt is too large: the playground takes at most 4 MB, as the API does\./);
  assert.is(await page.$eval('textarea[name="prompt"]', (area) => (area as HTMLTextAreaElement).value.length), huge.length, 'the prompt stays in the form');
  assert.equal(problems, [], 'no script errors');
  // Painting 4 MB of text into a screenshot takes longer than the screenshot's timeout on a busy
  // machine: the prompt (already checked above) is shortened before the pictures are taken.
  await page.fill('textarea[name="prompt"]', 'x'.repeat(2_000));
  await page.screenshot({ path: `${ARTIFACTS}/playground-too-large-desktop.png` });
  // The same answer fits a phone: the message wraps and the page does not scroll sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${ARTIFACTS}/playground-too-large-phone.png`, fullPage: true });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth), 'no sideways scroll at 390 px');
  await page.close();

  assert.equal(await auditUrl(databaseUrl), []);
});

e2e.run();
