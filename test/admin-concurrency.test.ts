// Admin money actions racing the same user's real API calls: an admin's grants and adjustments through
// the console's HTTP routes (a session cookie and the Origin header, as the browser sends them) while
// the user's calls run through the official openai SDK → tokentab on a real port → the fake upstream.
// The balance ends exact (grants + adjustments − charges), never went below zero, and the audit is clean.
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import { assertBooksClean, startGatewayHarness, type GatewayHarness } from './helpers/gateway.ts';
import OpenAI from 'openai';
import { createApiKey } from '../src/keys/keys.ts';
import { makeUser } from './helpers/db.ts';

const race = suite<{ h: GatewayHarness }>('admin actions racing API calls');
race.before.each(async (context) => {
  try {
    context.h = await startGatewayHarness({ env: { ADMIN_EMAILS: 'boss@example.com' } });
  } catch (error) {
    // uvu fails a test whose before.each throws without saying why.
    console.error('admin-concurrency set-up failed:', error);
    throw error;
  }
});
race.after.each(async ({ h }) => {
  try {
    await assertBooksClean(h);
  } catch (error) {
    console.error('admin-concurrency books:', error);
    throw error;
  } finally {
    await h.closeAll();
  }
});

/** The allowed origin of a page (src/pages/app.tsx's allowedOrigins without PUBLIC_URL): what the browser sends with the form. */
const ORIGIN = 'http://localhost:3000';

/** Signs in over HTTP as the browser does and answers the session's Cookie header. */
async function signIn(h: GatewayHarness, email: string): Promise<string> {
  const response = await fetch(`${h.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
    body: new URLSearchParams({ email, password: 'correct horse' }),
    redirect: 'manual',
  });
  assert.is(response.status, 303, 'signed in');
  return response.headers.getSetCookie().map((cookie) => cookie.split(';')[0]).join('; ');
}

/** 1,000 prompt and 500 completion tokens on gpt-4o-mini (2,400 and 9,600 mc per 1k): 2,400 + 4,800 mc. */
const CALL_MC = 7_200;

race('20 calls and 20 grants and adjustments at once: the balance is exactly grants + adjustments − charges, never below zero', async ({ h }) => {
  await makeUser(h.db, h.clock, 'boss@example.com');
  const cookie = await signIn(h, 'boss@example.com');
  const account = await h.account(200_000);
  // The upstream holds every call open: all 20 are in flight, their credits held, while the admin acts.
  h.fake.setBehaviour({ kind: 'held', usage: { prompt_tokens: 1_000, completion_tokens: 500 } });
  const action = (path: 'grant' | 'adjust', amount: string, reason: string) =>
    fetch(`${h.url}/admin/users/${account.userId}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, cookie },
      body: new URLSearchParams({ amount, reason }),
      redirect: 'manual',
    }).then((response) => response.status);
  // Two keys: one key may have 10 calls in flight (its default limit), and all 20 are at once.
  const second = new OpenAI({ apiKey: (await createApiKey(h.db, h.clock, account.userId, 'second')).key, baseURL: `${h.url}/v1`, maxRetries: 0 });
  const call = (i: number) => (i % 2 === 0 ? account.client : second).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 600 }).then((completion) => completion.usage?.total_tokens);
  const calls = Array.from({ length: 20 }, (_, i) => call(i));
  for (const deadline = Date.now() + 10_000; h.fake.held < 20; ) {
    if (Date.now() > deadline) throw new Error(`only ${h.fake.held} calls reached the upstream`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  // 10 grants of 5 credits, 5 adjustments of +2 and 5 of −1, all sent at once; the calls are answered
  // (and settle) while they run.
  const actions = Array.from({ length: 20 }, (_, i) => (i < 10 ? action('grant', '5', `race grant ${i}`) : action('adjust', i < 15 ? '2' : '-1', `race adjust ${i}`)));
  await new Promise((resolve) => setImmediate(resolve));
  assert.is(h.fake.release(), 20);
  const [actionStatuses, answered] = await Promise.all([Promise.all(actions), Promise.allSettled(calls)]);
  assert.equal(answered.filter((a) => a.status === 'rejected').map((a) => String((a as PromiseRejectedResult).reason)), [], 'no call failed');
  assert.equal(actionStatuses, Array(20).fill(303), 'every admin action went through');
  assert.equal(answered.map((a) => (a as PromiseFulfilledResult<number | undefined>).value), Array(20).fill(1_500), 'every call answered');

  const grantsMc = 200_000 + 10 * 5_000;
  const adjustmentsMc = 5 * 2_000 - 5 * 1_000;
  const chargesMc = 20 * CALL_MC;
  const wallet = await h.db.selectFrom('wallets').selectAll().where('user_id', '=', account.userId).executeTakeFirstOrThrow();
  assert.is(Number(wallet.balance_mc), grantsMc + adjustmentsMc - chargesMc, '250,000 + 5,000 − 144,000 mc');
  assert.is(Number(wallet.held_mc), 0, 'nothing left held');
  const entries = await h.db.selectFrom('ledger_entries').select(['type', 'amount_mc', 'balance_after_mc']).where('user_id', '=', account.userId).orderBy('id').execute();
  const sum = (type: string) => entries.filter((e) => e.type === type).reduce((total, e) => total + Number(e.amount_mc), 0);
  assert.equal([sum('grant'), sum('adjustment'), sum('usage')], [grantsMc, adjustmentsMc, -chargesMc], 'each kind of entry at its exact total');
  assert.ok(entries.every((e) => Number(e.balance_after_mc) >= 0), 'the balance never went below zero');
  const recorded = await h.db.selectFrom('admin_actions').select(['action']).where('target_user_id', '=', account.userId).execute();
  assert.is(recorded.length, 20, 'one admin_actions row per action');
});

race.run();
