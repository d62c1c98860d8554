// Huge prompts against the real server (demo model): each gets an answer while /healthz, polled
// every 20 ms, keeps answering within 100 ms; no hold is below what the model then reports.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { ManualClock } from '../src/clock.ts';
import { loadConfig } from '../src/config.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { seedDefaults } from '../src/seed.ts';
import { createUser } from '../src/users/users.ts';
import { hashPassword } from '../src/auth/password.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { createApiKey } from '../src/keys/keys.ts';
import { costMc } from '../src/pricing/cost.ts';
import { Browser } from './helpers/app.ts';
import { auditUrl, cheapCost, rateOf } from './helpers/db.ts';
import { emptyDatabaseUrl, openTestDatabase } from './helpers/backend.ts';
import { DEMO_ENV, startServer, type RunningServer } from './helpers/server.ts';
import { prose, randomBase64, run } from './helpers/texts.ts';

const API_BODY_LIMIT_BYTES = 4 * 1024 * 1024;
// 19 answers in 20 within 100 ms, and none past 1 s: before the counting was paced, one 4 MB prompt held
// the event loop for tens of seconds. The slowest single answer on a machine shared with other work
// (a GC pause, a descheduled core) can pass 100 ms without the server being at fault.
const HEALTH_WITHIN_MS = 100;
const HEALTH_SLOWEST_MS = 1_000;
const OUTPUT_TOKENS = 16;
const EMAIL = 'load@example.com';
const PASSWORD = 'a long load password';

const load = suite<{ dir: string; url: string; server: RunningServer; key: string }>('huge prompts against the real server');

load.before(async (context) => {
  context.dir = mkdtempSync(join(tmpdir(), 'tokentab-load-'));
  context.url = await emptyDatabaseUrl(context.dir, 'load.db');
  const db = openTestDatabase(context.url);
  const clock = new ManualClock(Date.UTC(2026, 9, 1, 8, 0));
  await migrateToLatest(db);
  await seedDefaults(db, clock);
  const user = await createUser(db, clock, { email: EMAIL, passwordHash: await hashPassword(PASSWORD, cheapCost) });
  context.key = (await createApiKey(db, clock, user.id, 'load')).key;
  // Enough for every hold below, so each call runs to the end and its hold can be compared.
  await grantCredits(db, clock, { userId: user.id, amountMc: 100_000_000, reason: 'load test' });
  await db.destroy();
  context.server = await startServer({ ...DEMO_ENV, DATABASE_URL: context.url });
});

load.after.each(async ({ url }) => {
  assert.equal(await auditUrl(url), [], 'audit is clean');
});

load.after(async ({ server, dir }) => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// The poller runs in a worker thread, so it measures the server, not this process's own work
// (building 4 MB bodies, its garbage collection).
const POLLER = `
const { parentPort, workerData } = require('node:worker_threads');
let stopping = false;
parentPort.once('message', () => (stopping = true));
(async () => {
  // The first fetch of a thread sets up its HTTP client: not the server's time.
  await (await fetch(workerData.url + '/healthz')).text();
  parentPort.postMessage('ready');
  const roundTrips = [];
  while (!stopping) {
    const started = performance.now();
    const response = await fetch(workerData.url + '/healthz');
    const text = await response.text();
    if (text !== 'ok') throw new Error('/healthz answered ' + response.status + ' ' + text);
    roundTrips.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  parentPort.postMessage(roundTrips);
})();
`;

/** Asks /healthz every 20 ms until stopped; the round trip of each answer, in ms. */
async function pollHealth(url: string): Promise<{ stop(): Promise<number[]> }> {
  const worker = new Worker(POLLER, { eval: true, workerData: { url } });
  worker.unref(); // a failed test must not be kept alive by its poller
  const messages: unknown[] = [];
  let wake = () => {};
  let failure: unknown = null;
  worker.on('message', (message) => {
    messages.push(message);
    wake();
  });
  worker.once('error', (error) => {
    failure = error;
    wake();
  });
  const next = async () => {
    while (messages.length === 0 && failure === null) await new Promise<void>((resolve) => (wake = resolve));
    if (failure !== null) throw failure;
    return messages.shift();
  };
  assert.is(await next(), 'ready');
  return {
    async stop() {
      worker.postMessage('stop');
      const roundTrips = (await next()) as number[];
      await worker.terminate();
      return roundTrips;
    },
  };
}

function assertHealthy(roundTrips: number[]): void {
  assert.ok(roundTrips.length >= 5, `/healthz was asked while the work went on (${roundTrips.length} times)`);
  const sorted = [...roundTrips].sort((a, b) => a - b);
  const p95 = sorted[Math.ceil(sorted.length * 0.95) - 1]!;
  const slowest = sorted[sorted.length - 1]!;
  assert.ok(p95 < HEALTH_WITHIN_MS, `95% of /healthz answered within ${HEALTH_WITHIN_MS} ms (p95 ${p95.toFixed(1)} ms)`);
  assert.ok(slowest < HEALTH_SLOWEST_MS, `every /healthz answered within ${HEALTH_SLOWEST_MS} ms (slowest ${slowest.toFixed(1)} ms)`);
}

/** The tokenizer's own count, special tokens as plain text. */
const exact = (text: string) => countTokens(text, { disallowedSpecial: new Set<string>() });

load('4 MB of "a", 4 MB of "é", 1 MB of random base64 and 1 MB of prose each get an answer; the server keeps answering; holds cover the reported usage', async ({ server, key, url }) => {
  const prompts: Record<string, string> = {
    '4 MB of "a"': run('a', 4_000_000),
    '4 MB of "é"': run('é', 4_000_000),
    '1 MB of random base64': randomBase64(1_000_000),
    '1 MB of prose': prose(1_000_000),
  };
  const bodies = Object.entries(prompts).map(([name, text]) => {
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: text }], max_tokens: OUTPUT_TOKENS });
    assert.ok(Buffer.byteLength(body) <= API_BODY_LIMIT_BYTES, `${name} fits the API's body limit`);
    return { name, text, body };
  });

  const health = await pollHealth(server.url);
  const answers: { name: string; text: string; status: number; requestId: string }[] = [];
  for (const { name, text, body } of bodies) {
    const response = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });
    const answer = (await response.json()) as { usage?: { prompt_tokens: number } };
    assert.is(response.status, 200, `${name}: answered`);
    assert.ok(answer.usage && answer.usage.prompt_tokens > 0);
    answers.push({ name, text, status: response.status, requestId: response.headers.get('x-request-id')! });
  }
  assertHealthy(await health.stop());

  const db = openTestDatabase(url);
  try {
    const rate = await rateOf(db, 'gpt-4o-mini');
    for (const { name, text, requestId } of answers) {
      const row = await db.selectFrom('usage').selectAll().where('request_id', '=', requestId).executeTakeFirstOrThrow();
      assert.is(row.estimated, 0, `${name}: charged as the model reported`);
      // The hold covers the reported input and the whole output limit; it was never exceeded.
      const reportedMc = costMc({ inputTokens: row.input_tokens, cachedInputTokens: 0, outputTokens: OUTPUT_TOKENS }, rate, 'exact');
      assert.ok(row.hold_mc >= reportedMc, `${name}: held ${row.hold_mc} mc ≥ ${reportedMc} mc for the reported ${row.input_tokens} input tokens`);
      assert.ok(row.charged_mc <= row.hold_mc);
      assert.is(row.shortfall_mc, 0);
      // Ordinary text is held at its exact count (plus the margin), not at a bound.
      if (name.startsWith('1 MB')) assert.is(row.input_tokens, 3 + 1 + exact(text) + 3, `${name}: the exact count`);
      else assert.is(row.input_tokens, 3 + 1 + Buffer.byteLength(text) + 3, `${name}: bounded by its bytes`);
    }
  } finally {
    await db.destroy();
  }
});

load('the estimator counts a form full of one letter while the server keeps answering', async ({ server }) => {
  const config = loadConfig({ PORT: String(server.port) });
  const browser = new Browser((path, init) => fetch(`${server.url}${path}`, init), config, '127.0.0.1');
  const signedIn = await browser.post('/login', { email: EMAIL, password: PASSWORD });
  assert.is(signedIn.status, 303);

  const health = await pollHealth(server.url);
  const text = run('a', 63_000); // one unbroken run (the estimator itself takes up to 4 MB: test/prompt-forms.test.ts)
  const answer = await browser.post('/credits/estimate', { text, model: 'gpt-4o-mini', output_tokens: '100' }, { htmx: true });
  await sleep(200); // a few polls after the answer as well
  assertHealthy(await health.stop());
  assert.is(answer.status, 200);
  const result = answer.doc.querySelector('#estimate-result')?.textContent ?? '';
  assert.match(result, /for 63,007 input/, 'the run is bounded by its bytes, framing included');
});

load.run();
