// Headless Chromium for end-to-end tests. Debian's chromium is used where it is installed (.ci/run
// installs it); otherwise the Chromium shipped brotli-compressed inside the @sparticuz/chromium
// devDependency, unpacked once per package version into node_modules/.cache (no download), so a
// fresh machine passes `npm test` after `npm install` alone.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';

export const DEBIAN_CHROMIUM_PATH = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export async function launchChromium(): Promise<Browser> {
  if (existsSync(DEBIAN_CHROMIUM_PATH)) return chromium.launch({ executablePath: DEBIAN_CHROMIUM_PATH, args: FLAGS });
  return launchBundledChromium();
}

export async function launchBundledChromium(): Promise<Browser> {
  const bundled = await unpackBundledChromium();
  // Only the package's own fonts (Open Sans), so text renders the same on a machine with no fonts.
  return chromium.launch({ executablePath: bundled.executablePath, args: FLAGS, env: { ...process.env, FONTCONFIG_FILE: bundled.fontconfigFile } });
}

type BundledChromium = { executablePath: string; fontconfigFile: string };
let unpacking: Promise<BundledChromium> | undefined;

function unpackBundledChromium(): Promise<BundledChromium> {
  unpacking ??= unpackOnce();
  return unpacking;
}

// The package unpacks into os.tmpdir() and trusts whatever it finds there: a file half written by a
// process that was killed or is unpacking at the same moment (test files may run in parallel), or
// one anybody on the machine put in /tmp. So it unpacks into a private folder next to the cache,
// which is renamed into place whole: the cached folder holds a complete browser or does not exist.
async function unpackOnce(): Promise<BundledChromium> {
  const entryUrl = import.meta.resolve('@sparticuz/chromium');
  const packageDir = join(dirname(fileURLToPath(entryUrl)), '..', '..');
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  const cacheDir = join(packageDir, '..', '..', '.cache');
  const finalDir = join(cacheDir, `sparticuz-chromium-${version}`);
  const bundled = { executablePath: join(finalDir, 'chromium'), fontconfigFile: join(finalDir, 'tokentab-fonts.conf') };
  if (existsSync(finalDir)) return bundled;

  await mkdir(cacheDir, { recursive: true });
  const stagingDir = await mkdtemp(join(cacheDir, `sparticuz-chromium-${version}-unpacking-`));
  try {
    // A child process, so TMPDIR points into the private folder without changing this process's.
    const script = `const { default: chromium } = await import(${JSON.stringify(entryUrl)}); await chromium.executablePath();`;
    await promisify(execFile)(process.execPath, ['--input-type=module', '--eval', script], { env: { ...process.env, TMPDIR: stagingDir } });
    // The package's fonts.conf names /tmp/fonts; this one names the fonts where they are after the rename.
    writeFileSync(
      join(stagingDir, 'tokentab-fonts.conf'),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${join(finalDir, 'fonts', 'fonts')}</dir>\n  <cachedir>${join(finalDir, 'fonts-cache')}</cachedir>\n</fontconfig>\n`,
    );
    await rename(stagingDir, finalDir);
  } catch (error) {
    await rm(stagingDir, { recursive: true, force: true });
    // Another process renamed its complete copy into place first.
    if (existsSync(finalDir)) return bundled;
    throw error;
  }
  return bundled;
}
