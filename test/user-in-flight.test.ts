// Calls in flight per user over real HTTP (tokentab on a real port → the fake upstream holding calls
// open): one limit over all of a user's keys and the playground, counted from pending holds in the
// hold's own transaction; a refusal is a 429 naming the limit and writes nothing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { createApiKey } from '../src/keys/keys.ts';
import { costMc } from '../src/pricing/cost.ts';
import { parse } from './helpers/app.ts';
import { rateOf } from './helpers/db.ts';
import { sessionCookie } from './helpers/signed-in.ts';
import { assertBooksClean, balanceOf, startGatewayHarness, usageEntries, type GatewayHarness } from './helpers/gateway.ts';
import { waitFor } from './helpers/assert.ts';

const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Say something short.' }];
const USAGE = { prompt_tokens: 12, completion_tokens: 30 };
const THOUSAND_CREDITS_MC = 1_000_000_000;

interface ErrorAnswer {
  error: { message: string; type: string; code: string; scope: string; limit: number };
}

interface Answer {
  /** 0 when the connection failed (a failing test closing the server). */
  status: number;
  headers: Headers;
  text: string;
}

/** A request that never rejects, so calls left open by a failing assertion end quietly when the server closes. */
function answerOf(request: Promise<Response>): Promise<Answer> {
  return request.then(
    async (response) => ({ status: response.status, headers: response.headers, text: await response.text() }),
    (error: Error) => ({ status: 0, headers: new Headers(), text: error.message }),
  );
}

/** A signed-in browser's POST /playground against the harness's real server (session made directly, Origin as the CSRF check wants). */
async function playgroundPost(h: GatewayHarness, userId: number, prompt: string): Promise<Answer> {
  const cookie = await sessionCookie(h, userId);
  return answerOf(fetch(`${h.url}/playground`, {
    method: 'POST',
    headers: { cookie, origin: 'http://localhost:3000', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ model: 'gpt-4o-mini', prompt, max_tokens: '100' }).toString(),
    redirect: 'manual',
  }));
}

const callFrom = (h: GatewayHarness, key: string) => answerOf(h.post('/v1/chat/completions', key, { model: 'gpt-4o-mini', messages, max_tokens: 100 }));

const perUser = suite<{ h: GatewayHarness | null }>('calls in flight per user');
perUser.before.each((context) => {
  context.h = null;
});
perUser.after.each(async ({ h }) => {
  if (!h) return;
  h.fake.release();
  await h.closeAll();
});

perUser('four keys × 10 parallel calls: exactly the 8 past the user limit of 32 get 429, the playground too; the 32 are charged exactly', async (context) => {
  const h = (context.h = await startGatewayHarness());
  const account = await h.account(THOUSAND_CREDITS_MC);
  const keys = [account.key];
  for (const name of ['second', 'third', 'fourth']) keys.push((await createApiKey(h.db, h.clock, account.userId, name)).key);
  // Each key's own limit is 10: none of them is what refuses a call here.
  await h.db.updateTable('api_keys').set({ max_in_flight: 10 }).execute();
  h.fake.setBehaviour({ kind: 'held', usage: USAGE });

  let answered = 0;
  const calls = keys.flatMap((key) =>
    Array.from({ length: 10 }, () =>
      callFrom(h, key).then((answer) => {
        answered++;
        return answer;
      }),
    ),
  );
  // Every call is decided once it was either answered (refused) or is held open at the upstream.
  await waitFor(() => answered + h.fake.held === 40, 'all 40 calls to be refused or reach the upstream', 10_000);
  assert.is(h.fake.held, 32, 'exactly 32 calls reached the upstream');
  assert.is(answered, 8);
  const pending = await h.db.selectFrom('holds').select('id').where('status', '=', 'pending').execute();
  assert.is(pending.length, 32, 'the refused calls placed no hold');

  // The playground is the same user: refused too, in the page, with the same words.
  const page = await playgroundPost(h, account.userId, 'One more, from the browser.');
  assert.is(page.status, 429);
  assert.is(page.headers.get('retry-after'), '1');
  assert.match(parse(page.text).querySelector('#playground-result')?.textContent ?? '', /already has 32 calls in flight, the limit per user/);
  assert.is(h.fake.held, 32, 'the refused playground call never reached the upstream');

  assert.is(h.fake.release(), 32);
  const results = await Promise.all(calls);
  const refused = results.filter((r) => r.status !== 200);
  assert.is(refused.length, 8);
  for (const answer of refused) {
    assert.is(answer.status, 429);
    assert.is(answer.headers.get('retry-after'), '1');
    const { error } = JSON.parse(answer.text) as ErrorAnswer;
    assert.is(error.code, 'too_many_calls_in_flight');
    assert.is(error.type, 'rate_limit_error');
    assert.is(error.scope, 'user');
    assert.is(error.limit, 32);
    assert.match(error.message, /already has 32 calls in flight, the limit per user/);
  }

  const perCallMc = costMc({ inputTokens: USAGE.prompt_tokens, cachedInputTokens: 0, outputTokens: USAGE.completion_tokens }, await rateOf(h.db, 'gpt-4o-mini'), 'exact');
  const entries = await usageEntries(h, account.userId);
  assert.is(entries.length, 32);
  for (const entry of entries) assert.is(entry.amount_mc, -perCallMc);
  assert.equal(await balanceOf(h, account.userId), { balance_mc: THOUSAND_CREDITS_MC - 32 * perCallMc, held_mc: 0 });
  await assertBooksClean(h);
});

perUser('a playground call in flight counts against the user limit of an API key (MAX_IN_FLIGHT_PER_USER=2)', async (context) => {
  const h = (context.h = await startGatewayHarness({ env: { MAX_IN_FLIGHT_PER_USER: '2' } }));
  const account = await h.account(THOUSAND_CREDITS_MC);
  h.fake.setBehaviour({ kind: 'held', usage: USAGE });
  const fromPlayground = playgroundPost(h, account.userId, 'Held open upstream.');
  await waitFor(() => h.fake.held === 1, 'the playground call at the upstream', 10_000);
  const fromKey = callFrom(h, account.key);
  await waitFor(() => h.fake.held === 2, 'the first API call at the upstream', 10_000);

  let thirdAnswer: Answer | null = null;
  void callFrom(h, account.key).then((answer) => (thirdAnswer = answer));
  await waitFor(() => thirdAnswer !== null || h.fake.held === 3, 'the third call to be refused or reach the upstream', 10_000);
  assert.is(h.fake.held, 2, 'the third call never reached the upstream');
  const third = thirdAnswer as unknown as Answer;
  assert.is(third.status, 429);
  const body = JSON.parse(third.text) as ErrorAnswer;
  assert.is(body.error.code, 'too_many_calls_in_flight');
  assert.is(body.error.scope, 'user');
  assert.is(body.error.limit, 2);

  h.fake.release();
  assert.is((await fromPlayground).status, 303, 'the playground call ran (a plain form goes on by redirect to its answer)');
  assert.is((await fromKey).status, 200);
  // Room again once they have settled.
  h.fake.setBehaviour({ kind: 'ok', usage: USAGE });
  assert.is((await callFrom(h, account.key)).status, 200);
  assert.is((await usageEntries(h, account.userId)).length, 3);
  await assertBooksClean(h);
});

perUser.run();
