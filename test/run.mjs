// `npm test`: the typecheck, then every test file in its own process with a time limit, once on SQLite
// and once on PostgreSQL (two passes side by side, each file's output printed whole under its
// backend's label; the few files that time the server run alone, SOLO), then one closing line
// `N passed, M failed` that sums every part (uvu prints per-file totals only).
// `node test/run.mjs FILE…` runs those files on both; TEST_BACKEND=sqlite or postgres runs one pass.
// The PostgreSQL pass shares one server: TEST_DATABASE_URL when given, else a throwaway one started
// here (test/helpers/postgres.ts), with one migrated template per run.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { register } from 'tsx/esm/api';

const FILE_TIMEOUT_MS = Number(process.env.TEST_FILE_TIMEOUT_MS ?? 240_000);
const only = process.argv.slice(2);
const backends = process.env.TEST_BACKEND ? [process.env.TEST_BACKEND] : ['sqlite', 'postgres'];

/**
 * Tests known to fail on PostgreSQL, each with its reason: `{ 'test/x.test.ts': { tests: ['name', …]
 * or '*' (the whole file), reason: '…' } }`. Their failures on the PostgreSQL pass are counted as
 * skipped, and named; any other failure counts. A test listed here that passes is reported, so the
 * list only shrinks. Empty: every test passes on both backends.
 */
const PG_PENDING = {};

/**
 * Files that measure how fast the server answers while it works (a /healthz bound, equal answer
 * times, a flood): each runs with nothing of the other pass beside it, on a 2-core machine.
 */
const SOLO = new Set(['test/token-load.test.ts', 'test/hash-queue.test.ts', 'test/reset.test.ts', 'test/gateway-tokens.test.ts']);

/** Many files at once, or one SOLO file alone: a solo file waits for the running ones and holds back new ones. */
const machine = {
  running: 0,
  solo: false,
  soloWaiting: 0,
  waiters: [],
  wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  },
  async take(solo) {
    if (solo) this.soloWaiting++;
    while (solo ? this.running > 0 || this.solo : this.solo || this.soloWaiting > 0) await new Promise((resolve) => this.waiters.push(resolve));
    if (solo) {
      this.soloWaiting--;
      this.solo = true;
    } else this.running++;
  },
  give(solo) {
    if (solo) this.solo = false;
    else this.running--;
    this.wake();
  },
};

function run(command, args, timeoutMs, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    const keep = (chunk) => (output += chunk);
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? 'timeout' : code, output });
    });
  });
}

const totals = { passed: 0, failed: 0, skipped: 0 };
const notes = [];

if (only.length === 0) {
  console.log('# typecheck (tsc --noEmit)');
  const typecheck = await run('npx', ['tsc', '--noEmit'], 300_000);
  process.stdout.write(typecheck.output);
  if (typecheck.code === 0) totals.passed++;
  else totals.failed++;
}

/** One PostgreSQL server and one migrated template for the whole pass. */
async function postgresSetup() {
  register();
  const { startThrowawayPostgres, dropDatabase } = await import('./helpers/postgres.ts');
  const { makeTemplate } = await import('./helpers/db.ts');
  const given = process.env.TEST_DATABASE_URL?.trim();
  const server = given ? { url: given, binDir: 'TEST_DATABASE_URL', stop: async () => {} } : await startThrowawayPostgres();
  const template = await makeTemplate(server.url, `tokentab_template_${process.pid}`);
  console.log(`# PostgreSQL for the second pass: ${given ? 'TEST_DATABASE_URL' : `a throwaway server from ${server.binDir}`}`);
  return {
    env: { TEST_BACKEND: 'postgres', TEST_DATABASE_URL: server.url, TEST_PG_TEMPLATE: template },
    async teardown() {
      await dropDatabase(server.url, template).catch(() => {});
      await server.stop();
    },
  };
}

const files = only.length > 0 ? only : readdirSync('test').filter((f) => f.endsWith('.test.ts') || f.endsWith('.test.tsx')).sort().map((f) => join('test', f));

/** Failing test names in uvu's output: `FAIL  [suite]  "name"`. */
function failedNames(output) {
  return [...output.matchAll(/^\s*FAIL\s+(.*)$/gm)].map((m) => m[1].trim());
}

function account(backend, file, result) {
  const label = `[${backend}] ${file}`;
  const lines = [`\n# ${label}`, result.output.trimEnd()];
  const pending = backend === 'postgres' ? PG_PENDING[file] : undefined;
  const isPending = (name) => pending !== undefined && (pending.tests === '*' || pending.tests.some((test) => name.endsWith(`"${test}"`)));
  const total = /Total:\s+(\d+)/.exec(result.output);
  const ok = /Passed:\s+(\d+)/.exec(result.output);
  const skipped = /Skipped:\s+(\d+)/.exec(result.output);
  if (!total || !ok) {
    const why = result.code === 'timeout' ? `timed out after ${FILE_TIMEOUT_MS / 1000} s` : `exited ${result.code} without uvu totals`;
    lines.push(`# ${label}: ${why}`);
    if (pending?.tests === '*') {
      totals.skipped++;
      notes.push(`${label}: ${why}, known on PostgreSQL: ${pending.reason}`);
    } else totals.failed++;
    return lines.join('\n');
  }
  const filePassed = Number(ok[1]);
  const fileSkipped = Number(skipped?.[1] ?? 0);
  // uvu's Total leaves the skipped out.
  let fileFailed = Number(total[1]) - filePassed;
  const known = failedNames(result.output).filter(isPending);
  const knownCount = Math.min(known.length, fileFailed);
  fileFailed -= knownCount;
  totals.passed += filePassed;
  totals.failed += fileFailed;
  totals.skipped += fileSkipped + knownCount;
  for (const name of known) notes.push(`${label}: ${name} fails, known on PostgreSQL: ${pending.reason}`);
  if (pending && pending.tests !== '*') {
    const failing = failedNames(result.output);
    for (const test of pending.tests) {
      if (!failing.some((name) => name.endsWith(`"${test}"`))) notes.push(`${label}: "${test}" passed this time: once it keeps passing, take it off PG_PENDING in test/run.mjs`);
    }
  }
  if (result.code !== 0 && fileFailed === 0 && knownCount === 0) {
    lines.push(`# ${label}: exited ${result.code}`);
    totals.failed++;
  }
  return lines.join('\n');
}

async function pass(backend, env) {
  const started = Date.now();
  for (const file of files) {
    const solo = SOLO.has(file);
    await machine.take(solo);
    const result = await run(process.execPath, ['--import', 'tsx', file], FILE_TIMEOUT_MS, env).finally(() => machine.give(solo));
    console.log(account(backend, file, result));
  }
  return { backend, seconds: Math.round((Date.now() - started) / 1000) };
}

const passes = [];
let postgres = null;
if (backends.includes('sqlite')) passes.push(pass('sqlite', { TEST_BACKEND: 'sqlite' }));
if (backends.includes('postgres')) {
  try {
    postgres = await postgresSetup();
    passes.push(pass('postgres', postgres.env));
  } catch (error) {
    console.log(`# [postgres] could not start: ${error.message}`);
    totals.failed++;
  }
}
const timings = await Promise.all(passes);
await postgres?.teardown();

for (const note of notes) console.log(`# ${note}`);
console.log(`# ${timings.map((t) => `${t.backend} pass ${t.seconds} s`).join(', ')}`);
console.log(`\n${totals.passed} passed, ${totals.failed} failed${totals.skipped > 0 ? `, ${totals.skipped} skipped` : ''}`);
process.exitCode = totals.failed === 0 ? 0 : 1;
