// OpenAI's legacy balance endpoints read the way NextChat and one-api clients read them: after known
// credits and calls (one last month, two this month), the limit, the month's usage in cents and each
// day's cost per model are exact, limit − usage is the balance left, and bad dates are a 400 naming them.
import * as assert from 'uvu/assert';
import { START_MS } from './helpers/db.ts';
import { gatewaySuite, type Account, type GatewayHarness } from './helpers/gateway.ts';

const billing = gatewaySuite('dashboard billing');

/** 1,000 prompt and 500 completion tokens: 7,200 mc on gpt-4o-mini (2,400 + 9,600 per 1k), 60,000 mc on gpt-4o (20,000 + 80,000 per 1k). */
const USAGE = { prompt_tokens: 1_000, completion_tokens: 500 };

async function callAt(h: GatewayHarness, account: Account, model: string, atMs: number) {
  h.clock.set(atMs);
  h.fake.queueBehaviours({ kind: 'ok', usage: USAGE });
  await account.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 600 });
}

async function getJson(h: GatewayHarness, path: string, key: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${h.url}/v1${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: response.status, body: await response.json() };
}

billing('after 10,000 credits and three calls, the subscription, the month and a chosen range read as a client shows them', async ({ h }) => {
  h.clock.set(Date.UTC(2026, 9, 1));
  const account = await h.account(10_000_000);
  const other = await h.account(10_000_000);
  await callAt(h, account, 'gpt-4o-mini', Date.UTC(2026, 9, 30, 12));
  await callAt(h, account, 'gpt-4o-mini', Date.UTC(2026, 10, 3, 9));
  await callAt(h, other, 'gpt-4o', Date.UTC(2026, 10, 3, 10));
  await callAt(h, account, 'gpt-4o', START_MS);
  // The key works to the end of 2026-12-31 (UTC).
  await h.db.updateTable('api_keys').set({ expires_at_ms: Date.UTC(2027, 0, 1) }).where('id', '=', account.apiKeyId).execute();

  // Balance: 10,000,000 − 7,200 − 7,200 − 60,000 = 9,925,600 mc; this month's usage 67,200 mc.
  const subscription = await getJson(h, '/dashboard/billing/subscription', account.key);
  assert.is(subscription.status, 200);
  assert.equal(subscription.body, {
    object: 'billing_subscription',
    has_payment_method: false,
    soft_limit_usd: 9.9928,
    hard_limit_usd: 9.9928,
    system_hard_limit_usd: 9.9928,
    access_until: Date.UTC(2027, 0, 1) / 1000,
  });

  // NextChat's query: the 1st of the month to tomorrow (the end day excluded); the same with no dates.
  const month = await getJson(h, '/dashboard/billing/usage?start_date=2026-11-01&end_date=2026-11-27', account.key);
  assert.is(month.status, 200);
  assert.equal(month.body, {
    object: 'list',
    daily_costs: [
      { timestamp: Date.UTC(2026, 10, 3) / 1000, line_items: [{ name: 'gpt-4o-mini', cost: 0.72 }] },
      { timestamp: Date.UTC(2026, 10, 26) / 1000, line_items: [{ name: 'gpt-4o', cost: 6 }] },
    ],
    total_usage: 6.72,
  });
  assert.equal((await getJson(h, '/dashboard/billing/usage', account.key)).body, month.body);
  // What a client shows as left: limit − usage (cents ÷ 100) = $9.9256, the 9,925.6 credits the wallet holds.
  const wallet = await h.db.selectFrom('wallets').select('balance_mc').where('user_id', '=', account.userId).executeTakeFirstOrThrow();
  assert.is(wallet.balance_mc, 9_925_600);
  assert.is(Math.round((subscription.body.hard_limit_usd - month.body.total_usage / 100) * 1e6), wallet.balance_mc);

  const october = await getJson(h, '/dashboard/billing/usage?start_date=2026-10-01&end_date=2026-11-01', account.key);
  assert.equal(october.body, { object: 'list', daily_costs: [{ timestamp: Date.UTC(2026, 9, 30) / 1000, line_items: [{ name: 'gpt-4o-mini', cost: 0.72 }] }], total_usage: 0.72 });
  const empty = await getJson(h, '/dashboard/billing/usage?start_date=2026-09-01&end_date=2026-09-30', account.key);
  assert.equal(empty.body, { object: 'list', daily_costs: [], total_usage: 0 });

  // The other user's key sees only its own call: $10 − $0.06 + $0.06 this month, a limit of exactly $10.
  assert.is((await getJson(h, '/dashboard/billing/subscription', other.key)).body.hard_limit_usd, 10);
  assert.is((await getJson(h, '/dashboard/billing/usage', other.key)).body.total_usage, 6);
});

billing('bad dates are a 400 naming the parameter; no key is a 401', async ({ h }) => {
  const account = await h.account(1_000_000);
  const refused = async (query: string, param: string, message: RegExp) => {
    const { status, body } = await getJson(h, `/dashboard/billing/usage?${query}`, account.key);
    assert.is(status, 400, query);
    assert.is(body.error.param, param, query);
    assert.match(body.error.message, message);
  };
  await refused('start_date=2026-02-30&end_date=2026-03-01', 'start_date', /start_date must be a date as YYYY-MM-DD, got "2026-02-30"/);
  await refused('start_date=2026-11-01&end_date=tomorrow', 'end_date', /end_date must be a date/);
  await refused('start_date=2026-11-05&end_date=2026-11-05', 'end_date', /end_date must be after start_date \(2026-11-05\)/);
  await refused('start_date=2024-01-01&end_date=2026-11-01', 'end_date', /at most 366/);
  assert.is((await fetch(`${h.url}/v1/dashboard/billing/subscription`)).status, 401);
  assert.is((await fetch(`${h.url}/v1/dashboard/billing/usage`)).status, 401);
});

billing.run();
