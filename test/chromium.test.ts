// The browser the end-to-end tests fall back to where Debian's chromium is not installed (the
// Chromium inside @sparticuz/chromium), launched even where Debian's is, so CI runs it too: it
// unpacks, starts, and draws text with real glyphs (with no font every letter is the same box).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync } from 'node:fs';
import { launchBundledChromium } from './helpers/chromium.ts';

const ARTIFACTS = 'test/artifacts';

test('the bundled Chromium renders text with real glyphs', async () => {
  const browser = await launchBundledChromium();
  try {
    const page = await browser.newPage();
    await page.setContent('<p><span id="narrow">iiiiiiiiii</span></p><p><span id="wide">WWWWWWWWWW</span></p><h1>Balance 24,821.04 credits · $24.82</h1>');
    const narrowWidth = await page.$eval('#narrow', (span) => span.getBoundingClientRect().width);
    const wideWidth = await page.$eval('#wide', (span) => span.getBoundingClientRect().width);
    assert.ok(narrowWidth > 0, 'text takes space');
    assert.ok(wideWidth > 2 * narrowWidth, `"W" is drawn wider than "i" (${wideWidth} vs ${narrowWidth} px)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}/bundled-chromium-text.png` });
  } finally {
    await browser.close();
  }
});

test.run();
