// Caps and calls in flight over real HTTP (the official openai SDK → tokentab → the fake upstream):
// exactly k of 20 concurrent calls fit a cap, per-model and per-key caps, an uncapped max_tokens
// lowered to what a cap allows, the month rolling over, 429 for too many calls in flight, notices.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { placeHold, settleHold, voidHold } from '../src/ledger/holds.ts';
import { holdAmountMc } from '../src/pricing/output-limit.ts';
import { affordableOutputTokens } from '../src/pricing/cost.ts';
import { countChatInputTokens, holdInputTokens } from '../src/gateway/tokens.ts';
import { rateOf } from './helpers/db.ts';
import { assertBooksClean, startGatewayHarness, type Account, type GatewayHarness } from './helpers/gateway.ts';

const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Count to three.' }];
const HOLD_INPUT = holdInputTokens(await countChatInputTokens({ messages }));
type ApiError = InstanceType<typeof OpenAI.APIError> & { error: Record<string, unknown> };

const caps = suite<{ h: GatewayHarness }>('caps and calls in flight');
caps.before.each(async (context) => {
  context.h = await startGatewayHarness();
});
caps.after.each(async ({ h }) => {
  await assertBooksClean(h);
  await h.closeAll();
});

async function drain(stream: AsyncIterable<ChatCompletionChunk>) {
  for await (const _ of stream);
}

async function setMonthlyCap(h: GatewayHarness, userId: number, capMc: number | null) {
  await h.db
    .insertInto('billing_settings')
    .values({ user_id: userId, auto_recharge_enabled: 0, auto_recharge_threshold_mc: 0, auto_recharge_package_id: null, auto_recharge_monthly_limit: 3, monthly_cap_mc: capMc, updated_at_ms: h.clock.now() })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ monthly_cap_mc: capMc }))
    .execute();
}

const call = (account: Account, model: string, maxTokens: number, stream = true) =>
  stream
    ? account.client.chat.completions.create({ model, messages, max_tokens: maxTokens, stream: true }).then(drain)
    : account.client.chat.completions.create({ model, messages, max_tokens: maxTokens });

caps('20 simultaneous calls against a monthly cap that covers 7 holds: exactly 7 succeed, the rest get 402 budget_exceeded', async ({ h }) => {
  const account = await h.account(1_000_000_000);
  await h.db.updateTable('api_keys').set({ max_in_flight: 50 }).execute();
  const holdMc = holdAmountMc(await rateOf(h.db, 'gpt-4o-mini'), 'exact', HOLD_INPUT, 1_000);
  const capMc = 7 * holdMc + Math.floor(holdMc / 2);
  await setMonthlyCap(h, account.userId, capMc);
  // The upstream keeps every admitted call open until all 20 are admitted or refused: caps count what is
  // held, not only what is settled (a timed slow answer let early calls settle first on a loaded machine).
  h.fake.setBehaviour({ kind: 'held', usage: { prompt_tokens: 20, completion_tokens: 30 } });
  let refusedSoFar = 0;
  const calls = Array.from({ length: 20 }, () => call(account, 'gpt-4o-mini', 1_000).catch((error: unknown) => {
    refusedSoFar++;
    throw error;
  }));
  const settled = Promise.allSettled(calls);
  while (h.fake.held + refusedSoFar < 20) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.is(h.fake.held, 7);
  h.fake.release();
  const results = await settled;
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as ApiError);
  assert.is(results.length - refused.length, 7);
  for (const error of refused) {
    assert.is(error.status, 402);
    assert.is(error.code, 'budget_exceeded');
  }
  const body = refused[0]!.error;
  assert.is(body.scope, 'user');
  assert.is(body.capMillicredits, capMc);
  assert.is(body.capCredits, capMc / 1000);
  assert.is(body.requiredMillicredits, holdMc);
  assert.is(body.requiredCredits, holdMc / 1000);
  assert.type(body.spentMillicredits, 'number');
  assert.ok((body.spentMillicredits as number) + holdMc > capMc, 'refused only because the cap would be passed');
  assert.is(body.spentCredits, (body.spentMillicredits as number) / 1000);
  assert.match(String(body.message), /would pass your monthly cap/);
});

caps('a per-model cap limits that model only; a per-key limit that key only', async ({ h }) => {
  const account = await h.account(1_000_000_000, 'limited');
  const mini = await rateOf(h.db, 'gpt-4o-mini');
  const full = await rateOf(h.db, 'gpt-4o');
  await h.db.insertInto('model_caps').values({ user_id: account.userId, model: 'gpt-4o', cap_mc: holdAmountMc(full, 'exact', HOLD_INPUT, 100) - 1 }).execute();
  h.fake.setBehaviour({ kind: 'ok', text: 'one two three' });
  const modelError = (await call(account, 'gpt-4o', 100, false).catch((e) => e)) as ApiError;
  assert.is(modelError.status, 402);
  assert.is(modelError.error.scope, 'model');
  assert.is(modelError.error.model, 'gpt-4o');
  await call(account, 'gpt-4o-mini', 100, false);
  // A second key of the same user, with a monthly limit below one call of 100 tokens.
  const { createApiKey } = await import('../src/keys/keys.ts');
  const { key, apiKey } = await createApiKey(h.db, h.clock, account.userId, 'tight');
  await h.db.updateTable('api_keys').set({ monthly_limit_mc: holdAmountMc(mini, 'exact', HOLD_INPUT, 100) - 1 }).where('id', '=', apiKey.id).execute();
  const tight = { ...account, apiKeyId: apiKey.id, key, client: new OpenAI({ apiKey: key, baseURL: `${h.url}/v1`, maxRetries: 0 }) };
  const keyError = (await call(tight, 'gpt-4o-mini', 100, false).catch((e) => e)) as ApiError;
  assert.is(keyError.status, 402);
  assert.is(keyError.error.scope, 'key');
  assert.is(keyError.error.key, apiKey.prefix);
  await call(account, 'gpt-4o-mini', 100, false);
});

caps('without max_tokens the output limit is lowered to what the cap still allows, and refused below 256', async ({ h }) => {
  const account = await h.account(1_000_000_000);
  const rate = await rateOf(h.db, 'gpt-4o-mini');
  const capMc = holdAmountMc(rate, 'exact', HOLD_INPUT, 1_000);
  await setMonthlyCap(h, account.userId, capMc);
  h.fake.setBehaviour({ kind: 'ok', text: 'short', usage: { prompt_tokens: 0, completion_tokens: 0 } });
  const answer = await h.post('/v1/chat/completions', account.key, { model: 'gpt-4o-mini', messages });
  assert.is(answer.status, 200);
  assert.is(answer.headers.get('x-max-tokens-capped'), String(affordableOutputTokens(capMc, HOLD_INPUT, rate, 'exact')));
  assert.is(h.fake.lastRequest?.body.max_completion_tokens ?? h.fake.lastRequest?.body.max_tokens, 1_000);
  await setMonthlyCap(h, account.userId, holdAmountMc(rate, 'exact', HOLD_INPUT, 255));
  const refused = await h.post('/v1/chat/completions', account.key, { model: 'gpt-4o-mini', messages });
  assert.is(refused.status, 402);
  assert.is(((await refused.json()) as { error: { code: string } }).error.code, 'budget_exceeded');
});

caps('the month rolls over: a cap reached in November allows calls again in December', async ({ h }) => {
  const account = await h.account(1_000_000_000);
  const rate = await rateOf(h.db, 'gpt-4o-mini');
  h.clock.set(Date.UTC(2026, 10, 30, 23, 50));
  await setMonthlyCap(h, account.userId, holdAmountMc(rate, 'exact', HOLD_INPUT, 500) + 10);
  h.fake.setBehaviour({ kind: 'ok', text: 'x', usage: { prompt_tokens: 400, completion_tokens: 400 } });
  await call(account, 'gpt-4o-mini', 500, false);
  const refused = (await call(account, 'gpt-4o-mini', 500, false).catch((e) => e)) as ApiError;
  assert.is(refused.status, 402);
  h.clock.set(Date.UTC(2026, 11, 1, 0, 1));
  await call(account, 'gpt-4o-mini', 500, false);
});

caps('a November hold settled in December counts against November only: December\'s pending holds raise no November notice', async ({ h }) => {
  const account = await h.account(1_000_000_000);
  const rate = await rateOf(h.db, 'gpt-4o-mini');
  await setMonthlyCap(h, account.userId, 100_000);
  const hold = (requestId: string, amountMc: number) =>
    placeHold(h.db, h.clock, { userId: account.userId, apiKeyId: account.apiKeyId, requestId, rate, roundingMode: 'exact', amountMc, ttlMs: 60 * 60_000 });
  h.clock.set(Date.UTC(2026, 10, 30, 23, 50));
  const november = await hold('req_november', 5_000);
  h.clock.set(Date.UTC(2026, 11, 1, 0, 1));
  // 90% of the cap held in December: it is December's spending, not November's.
  const december = await hold('req_december', 90_000);
  await settleHold(h.db, h.clock, november.id, { tokens: { inputTokens: 100, cachedInputTokens: 0, outputTokens: 100 }, status: 'ok', estimated: false, latencyMs: 1 });
  const raised = await h.db.selectFrom('notices').select('dedupe_key').execute();
  await voidHold(h.db, h.clock, december.id);
  assert.equal(raised, []);
});

caps('notices at 80% and at 100% of a cap: once each per month, with an email and a banner', async ({ h }) => {
  const account = await h.account(1_000_000_000);
  const rate = await rateOf(h.db, 'gpt-4o-mini');
  const perCallMc = Math.ceil((100 * rate.input_mc_per_1k + 100 * rate.output_mc_per_1k) / 1000); // 1,200 mc
  await setMonthlyCap(h, account.userId, perCallMc * 10);
  h.fake.setBehaviour({ kind: 'ok', text: 'x', usage: { prompt_tokens: 100, completion_tokens: 100 } });
  const notices = () => h.db.selectFrom('notices').select(['dedupe_key', 'message']).orderBy('id').execute();
  for (let i = 0; i < 8; i++) await call(account, 'gpt-4o-mini', 50, false);
  assert.equal((await notices()).map((n) => n.dedupe_key.split(':').at(-1)), ['80']);
  for (let i = 0; i < 2; i++) await call(account, 'gpt-4o-mini', 50, false).catch(() => {});
  const raised = await notices();
  assert.equal(raised.map((n) => n.dedupe_key.split(':').at(-1)), ['80', '100']);
  assert.match(raised[1]!.message, /reached your monthly cap/);
  const mails = await h.db.selectFrom('mail_outbox').select('subject').execute();
  assert.equal(mails.map((m) => m.subject), ['You have used 80% of your monthly cap on tokentab', 'You have reached your monthly cap on tokentab']);
});

caps('at 99% of a cap with calls refused the notice says the cap is reached (not 80%), names a model cap by its label, and the 80% banner goes', async ({ h }) => {
  const account = await h.account(1_000_000_000);
  const rate = await rateOf(h.db, 'gpt-4o-mini');
  const perCallMc = Math.ceil((100 * rate.input_mc_per_1k + 100 * rate.output_mc_per_1k) / 1000); // 1,200 mc
  // 10 calls spend 12,000 of 12,100 mc (99.2%): the next call's hold does not fit in the 100 mc left.
  await setMonthlyCap(h, account.userId, perCallMc * 10 + 100);
  await h.db.insertInto('model_caps').values({ user_id: account.userId, model: 'gpt-4o-mini', cap_mc: perCallMc * 10 + 100 }).execute();
  h.fake.setBehaviour({ kind: 'ok', text: 'x', usage: { prompt_tokens: 100, completion_tokens: 100 } });
  for (let i = 0; i < 10; i++) await call(account, 'gpt-4o-mini', 50, false);
  const refused = (await call(account, 'gpt-4o-mini', 50, false).catch((error: unknown) => error)) as ApiError;
  assert.is(refused.code, 'budget_exceeded');
  const notices = await h.db.selectFrom('notices').select(['dedupe_key', 'message', 'dismissed_at_ms']).orderBy('id').execute();
  const active = notices.filter((n) => n.dismissed_at_ms === null);
  const month = new Date(h.clock.now()).toISOString().slice(0, 7);
  assert.equal(
    active.map((n) => n.message),
    [
      `You have reached your monthly cap (12.00 of 12.100 credits in ${month}). Calls that would pass it are refused until next month or until you raise it in your billing settings.`,
      `You have reached your monthly cap for Eco (gpt-4o-mini) (12.00 of 12.100 credits in ${month}). Calls that would pass it are refused until next month or until you raise it in your billing settings.`,
    ],
  );
  assert.equal(notices.filter((n) => n.dismissed_at_ms !== null).map((n) => n.dedupe_key.split(':').at(-1)), ['80', '80'], 'the 80% banners are gone once the cap is reached');
  const mails = await h.db.selectFrom('mail_outbox').select('subject').orderBy('id').execute();
  assert.equal(mails.map((m) => m.subject), [
    'You have used 80% of your monthly cap on tokentab',
    'You have used 80% of your monthly cap for Eco (gpt-4o-mini) on tokentab',
    'You have reached your monthly cap on tokentab',
    'You have reached your monthly cap for Eco (gpt-4o-mini) on tokentab',
  ]);
});

caps('too many calls in flight on one key: 429 with Retry-After', async ({ h }) => {
  const account = await h.account(1_000_000_000);
  await h.db.updateTable('api_keys').set({ max_in_flight: 2 }).execute();
  h.fake.setBehaviour({ kind: 'slow-stream', chunks: 4, chunkDelayMs: 150 });
  const results = await Promise.allSettled([0, 1, 2].map(() => call(account, 'gpt-4o-mini', 100)));
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as ApiError);
  assert.is(refused.length, 1);
  assert.is(refused[0]!.status, 429);
  assert.is(refused[0]!.code, 'too_many_calls_in_flight');
  assert.is(refused[0]!.headers?.get('retry-after'), '1');
  await call(account, 'gpt-4o-mini', 100);
});

caps('a monthly cap refusal advises what the call can change: embeddings less input (no output limit to lower), Responses its max_output_tokens, chat its max_tokens', async ({ h }) => {
  const account = await h.account(1_000_000_000);
  await setMonthlyCap(h, account.userId, 1);
  const refusal = async (work: Promise<unknown>) => {
    const error = (await work.then(
      () => null,
      (reason: unknown) => reason,
    )) as ApiError | null;
    assert.ok(error, 'refused');
    assert.is(error.status, 402);
    assert.is(error.code, 'budget_exceeded');
    return error.message;
  };
  const embedding = await refusal(account.client.embeddings.create({ model: 'text-embedding-3-small', input: 'The ledger keeps every charge.' }));
  assert.match(embedding, /Send less input, or raise the cap/);
  assert.not.match(embedding, /max_tokens/);
  assert.match(await refusal(account.client.responses.create({ model: 'gpt-4o-mini', input: 'Hello', max_output_tokens: 100 })), /Lower max_output_tokens, or raise the cap/);
  assert.match(await refusal(call(account, 'gpt-4o-mini', 100, false)), /Lower max_tokens, or raise the cap/);
  assert.is(h.fake.requests.length, 0, 'nothing reached the upstream');
});

caps("a key's monthly limit refusal points to the API keys page, a user cap's to billing settings", async ({ h }) => {
  const account = await h.account(1_000_000_000);
  await h.db.updateTable('api_keys').set({ monthly_limit_mc: 1 }).where('id', '=', account.apiKeyId).execute();
  const error = (await call(account, 'gpt-4o-mini', 100, false).then(
    () => null,
    (reason: unknown) => reason,
  )) as ApiError | null;
  assert.is(error?.code, 'budget_exceeded', String(error?.message));
  assert.match(error!.message, /this API key's monthly limit.*raise the key's limit on the API keys page \(http:\/\/\S+\/keys\)\.$/);
  assert.not.match(error!.message, /billing settings/);
  await h.db.updateTable('api_keys').set({ monthly_limit_mc: null }).where('id', '=', account.apiKeyId).execute();
  await setMonthlyCap(h, account.userId, 1);
  const capped = (await call(account, 'gpt-4o-mini', 100, false).then(
    () => null,
    (reason: unknown) => reason,
  )) as ApiError;
  assert.match(capped.message, /raise the cap in billing settings \(http:\/\/\S+\/settings\/billing\)\.$/);
});

caps.run();
