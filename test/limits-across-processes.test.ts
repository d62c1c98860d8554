// The per-key and per-user limits of calls in flight and the monthly cap, exact across 3 real server
// processes on one database: calls sent to all three at once, the fake upstream holding every call
// that gets through open, so the limits count what is truly in flight; then released, and audit.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import OpenAI from 'openai';
import { audit } from '../src/audit.ts';
import { createApiKey, setKeyLimits } from '../src/keys/keys.ts';
import { grantCredits } from '../src/ledger/credits.ts';
import { walletSummary } from '../src/ledger/wallet.ts';
import { billingSettings, saveBillingSettings } from '../src/settings/billing-settings.ts';
import { startFakeOpenAIUpstream, type FakeOpenAIUpstream } from './fakes/openai-upstream.ts';
import { waitFor } from './helpers/assert.ts';
import { freshDb, makeUser, type TestDb } from './helpers/db.ts';
import { DEMO_ENV, startServer, type RunningServer } from './helpers/server.ts';

const USER_IN_FLIGHT = 6;
const CALLS = 15;
const limits = suite<{ t: TestDb; upstream: FakeOpenAIUpstream; servers: RunningServer[] }>('limits across 3 server processes');

limits.before(async (context) => {
  context.t = await freshDb();
  context.upstream = await startFakeOpenAIUpstream();
  const env = { ...DEMO_ENV, DATABASE_URL: context.t.databaseUrl, OPENAI_API_KEY: 'sk-test-upstream', OPENAI_BASE_URL: `${context.upstream.url}/v1`, MAX_IN_FLIGHT_PER_USER: String(USER_IN_FLIGHT) };
  context.servers = [];
  await Promise.all([0, 1, 2].map(async () => context.servers.push(await startServer(env))));
});
limits.after(async ({ t, upstream, servers }) => {
  await Promise.all(servers.map((server) => server.stop('SIGKILL')));
  await upstream.close();
  await t.close();
});

const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hello' }], max_tokens: 100 };

/**
 * CALLS calls at once, spread over the 3 servers round robin with `keys` in turn; the upstream holds
 * those that get through until every call is either held there or refused. Returns the count held and
 * the refusals' codes, then releases the held ones and returns once every call has ended.
 */
async function burst(servers: RunningServer[], upstream: FakeOpenAIUpstream, keys: string[]) {
  upstream.setBehaviour({ kind: 'held', usage: { prompt_tokens: 8, completion_tokens: 10 } });
  const refusals: string[] = [];
  let answered = 0;
  const calls = Array.from({ length: CALLS }, (_, i) => {
    const client = new OpenAI({ apiKey: keys[i % keys.length]!, baseURL: `${servers[i % servers.length]!.url}/v1`, maxRetries: 0 });
    return client.chat.completions.create(request).then(
      () => answered++,
      (error: InstanceType<typeof OpenAI.APIError>) => refusals.push(`${error.status} ${error.code}`),
    );
  });
  await waitFor(() => upstream.held + refusals.length === CALLS, 'every call held upstream or refused', 20_000);
  const held = upstream.held;
  upstream.release();
  await Promise.all(calls);
  return { held, answered, refusals };
}

async function assertBooks(t: TestDb, userId: number) {
  const wallet = await walletSummary(t.db, userId);
  assert.equal([wallet.heldMc, wallet.heldCalls], [0, 0], 'every hold ended');
  assert.equal(await audit(t.db), []);
}

limits('a key limited to 4 calls in flight: of 15 sent to 3 servers at once exactly 4 run, 11 get 429', async ({ t, upstream, servers }) => {
  const user = await makeUser(t.db, t.clock);
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 100_000_000, reason: 'limits' });
  const { key, apiKey } = await createApiKey(t.db, t.clock, user.id, 'four');
  await setKeyLimits(t.db, user.id, apiKey.id, { monthlyLimitMc: null, maxInFlight: 4 });
  const result = await burst(servers, upstream, [key]);
  assert.is(result.held, 4);
  assert.is(result.answered, 4);
  assert.equal(result.refusals, Array(11).fill('429 too_many_calls_in_flight'));
  await assertBooks(t, user.id);
});

limits(`a user with 3 keys and MAX_IN_FLIGHT_PER_USER=${USER_IN_FLIGHT}: of 15 sent to 3 servers at once exactly 6 run`, async ({ t, upstream, servers }) => {
  const user = await makeUser(t.db, t.clock);
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 100_000_000, reason: 'limits' });
  const keys = await Promise.all(['a', 'b', 'c'].map(async (name) => (await createApiKey(t.db, t.clock, user.id, name)).key));
  const result = await burst(servers, upstream, keys);
  assert.is(result.held, USER_IN_FLIGHT);
  assert.is(result.answered, USER_IN_FLIGHT);
  assert.equal(result.refusals, Array(CALLS - USER_IN_FLIGHT).fill('429 too_many_calls_in_flight'));
  await assertBooks(t, user.id);
});

limits('a monthly cap that covers 5 holds and a half: of 15 sent to 3 servers at once exactly 5 run, 10 get 402 budget_exceeded', async ({ t, upstream, servers }) => {
  // One call first, to learn what a call of this shape holds (its hold row).
  const probe = await makeUser(t.db, t.clock);
  await grantCredits(t.db, t.clock, { userId: probe.id, amountMc: 100_000_000, reason: 'probe' });
  upstream.setBehaviour({ kind: 'ok', usage: { prompt_tokens: 8, completion_tokens: 10 } });
  await new OpenAI({ apiKey: (await createApiKey(t.db, t.clock, probe.id, 'probe')).key, baseURL: `${servers[0]!.url}/v1`, maxRetries: 0 }).chat.completions.create(request);
  const { amount_mc: holdMc } = await t.db.selectFrom('holds').select('amount_mc').where('user_id', '=', probe.id).executeTakeFirstOrThrow();

  const user = await makeUser(t.db, t.clock);
  await grantCredits(t.db, t.clock, { userId: user.id, amountMc: 100_000_000, reason: 'limits' });
  await saveBillingSettings(t.db, t.clock, user.id, { ...(await billingSettings(t.db, user.id)), monthlyCapMc: 5 * holdMc + Math.floor(holdMc / 2) });
  const keys = await Promise.all(['a', 'b', 'c'].map(async (name) => (await createApiKey(t.db, t.clock, user.id, name)).key));
  const result = await burst(servers, upstream, keys);
  assert.is(result.held, 5);
  assert.is(result.answered, 5);
  assert.equal(result.refusals, Array(CALLS - 5).fill('402 budget_exceeded'));
  await assertBooks(t, user.id);
});

limits.run();
