// The run-time build: bundles src/server.ts and src/cli/main.ts into dist/ as plain JavaScript, so
// `npm start` and `npm run cli` run Node alone, without a TypeScript loader (docs/architecture.md,
// Start-up and memory). Runs on `npm install` (prepare) and before each start (prestart, precli),
// where it builds only when a source is newer than dist/.
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
/** Written last: its time is the build's, so a source saved after it makes the build stale. */
const stamp = join(dist, '.built');
/** What the bundles are made of: a change to any of these makes dist/ stale. */
const SOURCES = ['src', 'views', 'migrations', 'package.json', 'tsconfig.json', 'package-lock.json'];
const ENTRIES = { server: 'src/server.ts', cli: 'src/cli/main.ts' };

function newestMs(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMs(join(path, name)));
  return newest;
}

function isFresh() {
  const builtMs = statSync(stamp, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  return builtMs > 0 && SOURCES.every((source) => newestMs(join(root, source)) < builtMs);
}

if (process.argv.includes('--if-stale') && isFresh()) process.exit(0);

// Imported only to build: a fresh check stays a stat of the sources.
const { build } = await import('esbuild');
const result = await build({
  absWorkingDir: root,
  entryPoints: ENTRIES,
  outdir: dist,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // The packages are bundled too: loading them as hundreds of separate modules (kysely alone is
  // over 400 files) was a third of the start's CPU (bench/RESULTS.md, start). Left in node_modules:
  // the native one (better-sqlite3, and pg's optional pg-native), and those loaded at their first
  // use, which bundling would load at start (stripe, nodemailer, the tokenizer: src/billing/stripe-sdk.ts,
  // src/server.ts, src/gateway/token-count.ts).
  external: ['better-sqlite3', 'pg-native', 'stripe', 'nodemailer', 'gpt-tokenizer'],
  // Bundled CommonJS packages (pg, better-sqlite3's loader) call require(); an ES module has none.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  // Errors are logged by class name; bundling may rename a class whose name two modules share.
  keepNames: true,
  sourcemap: 'linked',
  write: false,
  logLevel: 'warning',
});

// Written beside and renamed into place: two builds at once (parallel test passes calling
// `npm run cli`) never leave a half-written file for a process that starts meanwhile.
mkdirSync(dist, { recursive: true });
for (const file of result.outputFiles) {
  const temporary = `${file.path}.${process.pid}.tmp`;
  writeFileSync(temporary, file.contents);
  renameSync(temporary, file.path);
}
writeFileSync(stamp, `${new Date().toISOString()}\n`);
if (process.argv.includes('--verbose')) console.log(`built ${result.outputFiles.map((f) => relative(root, f.path)).join(', ')}`);
