// GET /metrics after a known set of calls through the official SDK: ok calls, one 402, one 429 in-flight
// refusal, one upstream 500; each counter's exact value, the route labels as patterns, the gauges read
// from the database (a held call's pending hold and its age), and the token it asks for.
import * as assert from 'uvu/assert';
import type { APIError } from 'openai';
import { createApp } from '../src/app.tsx';
import { loadConfig } from '../src/config.ts';
import { createContext } from '../src/context.ts';
import { assertBooksClean, gatewaySuite, startGatewayHarness } from './helpers/gateway.ts';
import { DEMO_ENV, startServer } from './helpers/server.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPortUrl, startFakeOpenAIUpstream } from './fakes/openai-upstream.ts';
import { suite } from 'uvu';
import { testApp, type TestApp } from './helpers/app.ts';
import { assertAuditClean, balanceMc, deliver, signedInBuyer, stripeWorld, withSavedCard, STARTER_MC, type StripeWorld } from './helpers/billing.ts';
import { signedIn } from './helpers/signed-in.ts';
import { rateOf } from './helpers/db.ts';
import { runCli } from '../src/cli/run.ts';
import { billingDeps } from '../src/billing/deps.ts';
import { processDueRecharges } from '../src/billing/auto-recharge.ts';
import { placeHold, settleHold } from '../src/ledger/holds.ts';

/** Basic, the package withSavedCard's auto-recharge buys. */
const BASIC_MC = 20_400_000;

const TOKEN = 'metrics-token-0123456789abcdef';
const metrics = gatewaySuite('metrics', { env: { METRICS_TOKEN: TOKEN } });

/** One sample's value from the exposition text; labels must all match (others may be there). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.is(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** 1,000 prompt and 500 completion tokens on gpt-4o-mini (2,400 and 9,600 mc per 1k): 2,400 + 4,800 mc. */
const USAGE = { prompt_tokens: 1_000, completion_tokens: 500 };
const CHARGE_MC = 7_200;

metrics('after ok calls, a 402, a 429 in-flight refusal and an upstream 500, every counter says exactly that', async ({ h }) => {
  const rich = await h.account(1_000_000_000);
  const poor = await h.account(0);
  await h.db.updateTable('api_keys').set({ max_in_flight: 1 }).where('id', '=', rich.apiKeyId).execute();
  const chat = (account: typeof rich) => account.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 600 });
  const refusal = async (work: Promise<unknown>) => (await work.then(() => assert.unreachable('answered'), (error: unknown) => error)) as APIError;

  h.fake.queueBehaviours({ kind: 'ok', usage: USAGE }, { kind: 'ok', usage: USAGE });
  await chat(rich);
  await chat(rich);

  // The key allows one call in flight: while one is held upstream, the next is refused.
  h.fake.queueBehaviours({ kind: 'held', usage: USAGE });
  const held = chat(rich);
  while (h.fake.held === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const tooMany = await refusal(chat(rich));
  assert.is(tooMany.status, 429);
  assert.is(tooMany.code, 'too_many_calls_in_flight');
  // Gauges are read from the database at scrape time: the held call's hold, 5 s old on the test clock.
  h.clock.advance(5_000);
  const during = await scrape(h.url);
  assert.is(sample(during, 'tokentab_holds_pending'), 1);
  assert.is(sample(during, 'tokentab_oldest_pending_hold_age_seconds'), 5);
  h.fake.release();
  await held;

  const broke = await refusal(chat(poor));
  assert.is(broke.status, 402);
  h.fake.queueBehaviours({ kind: 'error', status: 500 });
  const failed = await refusal(chat(rich));
  assert.is(failed.status, 502);
  // A request id in the path is labelled by its pattern, never by itself.
  assert.is((await fetch(`${h.url}/v1/usage/req_not_a_real_id`, { headers: { authorization: `Bearer ${rich.key}` } })).status, 404);

  const text = await scrape(h.url);
  const requests = (status: string) => sample(text, 'tokentab_http_requests_total', { method: 'POST', route: '/v1/chat/completions', status });
  assert.is(requests('200'), 3);
  assert.is(requests('402'), 1);
  assert.is(requests('429'), 1);
  assert.is(requests('502'), 1);
  assert.is(sample(text, 'tokentab_http_requests_total', { method: 'GET', route: '/v1/usage/:requestId', status: '404' }), 1);
  assert.not.match(text, /req_not_a_real_id/);
  // The scrapes themselves are not counted.
  assert.not.match(text, /route="\/metrics"/);

  assert.is(sample(text, 'tokentab_refusals_total', { status: '402', reason: 'insufficient_credits' }), 1);
  assert.is(sample(text, 'tokentab_refusals_total', { status: '429', reason: 'too_many_calls_in_flight' }), 1);

  assert.is(sample(text, 'tokentab_charged_mc_total', { endpoint: 'chat' }), 3 * CHARGE_MC);
  assert.is(sample(text, 'tokentab_call_charge_mc_sum', { endpoint: 'chat' }), 3 * CHARGE_MC);
  assert.is(sample(text, 'tokentab_call_charge_mc_count', { endpoint: 'chat' }), 3);
  assert.is(sample(text, 'tokentab_call_charge_mc_bucket', { endpoint: 'chat', le: '1000' }), 0);
  assert.is(sample(text, 'tokentab_call_charge_mc_bucket', { endpoint: 'chat', le: '10000' }), 3);
  assert.is(sample(text, 'tokentab_call_duration_seconds_count', { endpoint: 'chat', status: 'ok' }), 3);

  assert.is(sample(text, 'tokentab_upstream_failures_total', { kind: 'server' }), 1);
  assert.is(sample(text, 'tokentab_upstream_failovers_total'), 0);
  // Every settle went through a group commit; every hold asked for too (the refused ones write nothing, but were a group's work).
  assert.is(sample(text, 'tokentab_group_commit_writes_sum', { batch: 'settle' }), 3);
  assert.is(sample(text, 'tokentab_group_commit_writes_sum', { batch: 'hold' }), 6);

  assert.is(sample(text, 'tokentab_holds_pending'), 0);
  assert.is(sample(text, 'tokentab_oldest_pending_hold_age_seconds'), 0);
  assert.is(sample(text, 'tokentab_mail_due'), 0);
});

metrics('/metrics asks for METRICS_TOKEN as a Bearer token, and without one configured it is not there (404)', async ({ h }) => {
  assert.is((await fetch(`${h.url}/metrics`)).status, 401);
  const wrong = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } });
  assert.is(wrong.status, 401);
  assert.is(wrong.headers.get('www-authenticate'), 'Bearer');
  assert.not.match(await wrong.text(), /tokentab_/);
  assert.is((await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);

  const untokened = createApp(createContext(loadConfig({ PORT: '3000', PAYMENTS: 'off' }), { db: h.db, clock: h.clock, log: () => {} }));
  const response = await untokened.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.is(response.status, 404);
});

metrics('METRICS_TOKEN and METRICS_LISTEN are checked at start', () => {
  assert.throws(() => loadConfig({ METRICS_TOKEN: 'short' }), /METRICS_TOKEN must be 16 to 256 printable characters/);
  assert.throws(() => loadConfig({ METRICS_LISTEN: '9464' }), /METRICS_LISTEN must be HOST:PORT/);
  assert.equal(loadConfig({ METRICS_LISTEN: '127.0.0.1:9464' }).metricsListen, { host: '127.0.0.1', port: 9464 });
  assert.equal(loadConfig({ METRICS_LISTEN: '[::1]:9464' }).metricsListen, { host: '::1', port: 9464 });
});

metrics('METRICS_LISTEN: the real server serves /metrics alone on its own address, with process metrics and the jobs read from their leases', async ({ h }) => {
  const metricsPort = Number(new URL(await closedPortUrl()).port);
  const server = await startServer({ ...DEMO_ENV, DATABASE_URL: h.databaseUrl, METRICS_LISTEN: `127.0.0.1:${metricsPort}`, METRICS_TOKEN: '' });
  try {
    const metricsUrl = `http://127.0.0.1:${metricsPort}`;
    const response = await fetch(`${metricsUrl}/metrics`);
    assert.is(response.status, 200);
    const text = await response.text();
    assert.ok(sample(text, 'process_cpu_user_seconds_total')! > 0, 'process metrics');
    assert.is(sample(text, 'tokentab_holds_pending'), 0);
    // Reconcile runs at start (demo payments), so its lease says it ran moments ago.
    assert.ok(sample(text, 'tokentab_job_last_run_age_seconds', { job: 'reconcile' })! < 60, 'reconcile ran at start');
    assert.is((await fetch(`${metricsUrl}/healthz`)).status, 404);
    // Without METRICS_TOKEN the app's own port has no /metrics.
    assert.is((await fetch(`${server.url}/metrics`)).status, 404);
  } finally {
    await server.stop();
  }
});

metrics.run();

const credits = suite<{ t: TestApp }>('metrics: credits granted');
credits.before(async (context) => {
  context.t = await testApp({ PAYMENTS: 'demo', METRICS_TOKEN: TOKEN });
});
credits.after(async ({ t }) => t.close());

credits('a purchase counts its credits once, after they commit: Pay twice and the success page again add nothing', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  const started = await buyer.browser.post('/credits/checkout', { package: 'starter' });
  const path = new URL(started.headers.get('location')!, 'http://localhost:3000').pathname;
  const sessionId = path.split('/').at(-1)!;
  await buyer.browser.post(`${path}/pay`, {});
  await buyer.browser.post(`${path}/pay`, {});
  await buyer.browser.get(`/credits/checkout/success?session_id=${sessionId}`);
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC);
  const response = await t.app.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
  const text = await response.text();
  assert.is(sample(text, 'tokentab_credits_granted_mc_total', { kind: 'purchase' }), STARTER_MC);
  await assertAuditClean(t);
});

credits.run();

/** The credits counters, as a scrape of the in-process app shows them. */
async function creditCounters(t: TestApp) {
  const response = await t.app.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.is(response.status, 200);
  const text = await response.text();
  const kinds = ['purchase', 'auto_recharge', 'grant', 'adjustment', 'promo', 'refund', 'expiry'];
  const read = (name: string) => Object.fromEntries(kinds.flatMap((kind) => (sample(text, name, { kind }) === undefined ? [] : [[kind, sample(text, name, { kind })]])));
  return { granted: read('tokentab_credits_granted_mc_total'), taken: read('tokentab_credits_taken_mc_total') };
}

const operator = suite<{ t: TestApp }>('metrics: credits from the console and the CLI');
operator.before.each(async (context) => {
  context.t = await testApp({ METRICS_TOKEN: TOKEN, ADMIN_EMAILS: 'boss@example.com' });
});
operator.after.each(async ({ t }) => t.close());

operator('console grants and adjustments (through the admin routes) and a CLI grant (another process\'s work) are counted, exactly', async ({ t }) => {
  const boss = await signedIn(t, 'boss@example.com');
  const user = await signedIn(t, 'ann@example.com');
  assert.equal(await creditCounters(t), { granted: {}, taken: {} }, 'nothing yet');
  assert.is((await boss.browser.post(`/admin/users/${user.user.id}/grant`, { amount: '25.125', reason: 'welcome' })).status, 303);
  assert.is((await boss.browser.post(`/admin/users/${user.user.id}/adjust`, { amount: '5', reason: 'goodwill' })).status, 303);
  assert.is((await boss.browser.post(`/admin/users/${user.user.id}/adjust`, { amount: '-2.5', reason: 'correction' })).status, 303);
  assert.is((await boss.browser.post(`/admin/users/${user.user.id}/grant`, { amount: '0', reason: 'refused' })).status, 422, 'a refused grant adds nothing');
  const out: string[] = [];
  const code = await runCli(['credits:grant', '--email', 'ann@example.com', '--credits', '7', '--reason', 'cli'], { env: { DATABASE_URL: t.databaseUrl }, clock: t.clock, out: (line) => out.push(line), err: (line) => out.push(line) });
  assert.is(code, 0, out.join('\n'));
  assert.equal(await creditCounters(t), { granted: { grant: 32_125, adjustment: 5_000 }, taken: { adjustment: 2_500 } });
  assert.is(await balanceMc(t, user.user.id), 32_125 + 5_000 - 2_500);
  await assertAuditClean(t);
});

operator.run();

const paid = suite<{ t: StripeWorld }>('metrics: credits from Stripe');
paid.before.each(async (context) => {
  context.t = await stripeWorld({ METRICS_TOKEN: TOKEN });
});
paid.after.each(async ({ t }) => t.stop());

paid('a webhook-fulfilled purchase, then an auto-recharge: each counted once at its amount; a repeated webhook adds nothing', async ({ t }) => {
  const buyer = await signedInBuyer(t);
  // Starter bought through Checkout and credited by checkout.session.completed (withSavedCard delivers it).
  await withSavedCard(t, buyer);
  assert.equal(await creditCounters(t), { granted: { purchase: STARTER_MC }, taken: {} });
  const [purchase] = await t.db.selectFrom('purchases').selectAll().where('user_id', '=', buyer.user.id).execute();
  assert.is((await deliver(t, t.fake.event('checkout.session.completed', t.fake.session(purchase!.checkout_session_id!)))).status, 200);
  assert.equal(await creditCounters(t), { granted: { purchase: STARTER_MC }, taken: {} }, 'the same payment again: nothing more');
  // 6,000 credits spent leaves 4,000, below the 5,000 threshold: the settle starts a Basic recharge.
  const hold = await placeHold(t.db, t.clock, { userId: buyer.user.id, apiKeyId: null, requestId: 'req_metrics_recharge', rate: await rateOf(t.db, 'gpt-4o'), roundingMode: 'exact', amountMc: 6_000_000, ttlMs: 600_000 });
  await settleHold(t.db, t.clock, hold.id, { tokens: { inputTokens: 0, cachedInputTokens: 0, outputTokens: 75_000 }, status: 'ok', estimated: false, latencyMs: 1 });
  const deps = billingDeps(t.config, t.db, t.clock, () => {})!;
  assert.equal(await processDueRecharges(deps), ['credited']);
  assert.equal(await creditCounters(t), { granted: { purchase: STARTER_MC, auto_recharge: BASIC_MC }, taken: {} });
  assert.is(await balanceMc(t, buyer.user.id), STARTER_MC - 6_000_000 + BASIC_MC);
  await assertAuditClean(t);
});

paid.run();

const failovers = suite('metrics: failover');

failovers('an upstream 500 the next upstream answers: one failure of kind server, one failover, one 200 charged its usage', async () => {
  const primary = await startFakeOpenAIUpstream();
  const secondary = await startFakeOpenAIUpstream();
  const file = join(mkdtempSync(join(tmpdir(), 'tokentab-metrics-')), 'upstreams.json');
  const routes = { 'gpt-4o-mini': ['primary', 'secondary'] };
  writeFileSync(file, JSON.stringify({ upstreams: [{ name: 'primary', base_url: `${primary.url}/v1`, models: ['gpt-4o-mini'] }, { name: 'secondary', base_url: `${secondary.url}/v1`, models: ['gpt-4o-mini'] }], routes }));
  const h = await startGatewayHarness({ fake: primary, env: { UPSTREAMS_FILE: file, OPENAI_BASE_URL: '', METRICS_TOKEN: TOKEN } });
  try {
    const account = await h.account(1_000_000_000);
    primary.setBehaviour({ kind: 'error', status: 500 });
    secondary.setBehaviour({ kind: 'ok', usage: USAGE });
    await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 600 });
    const text = await scrape(h.url);
    assert.is(sample(text, 'tokentab_upstream_failures_total', { kind: 'server' }), 1);
    assert.is(sample(text, 'tokentab_upstream_failovers_total'), 1);
    assert.is(sample(text, 'tokentab_http_requests_total', { method: 'POST', route: '/v1/chat/completions', status: '200' }), 1);
    assert.is(sample(text, 'tokentab_charged_mc_total', { endpoint: 'chat' }), CHARGE_MC);
    await assertBooksClean(h);
  } finally {
    await h.closeAll();
    await primary.close();
    await secondary.close();
  }
});

failovers.run();
