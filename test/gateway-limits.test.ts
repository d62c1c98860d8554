// Holds under concurrency and the output limit, over real HTTP: one of two, exactly k of 20, capped rather than refused, 402's fields.
import * as assert from 'uvu/assert';
import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { affordableOutputTokens } from '../src/pricing/cost.ts';
import { holdAmountMc } from '../src/pricing/output-limit.ts';
import { countChatInputTokens, holdInputTokens } from '../src/gateway/tokens.ts';
import { rejects } from './helpers/assert.ts';
import { rateOf } from './helpers/db.ts';
import { balanceOf, usageEntries, gatewaySuite } from './helpers/gateway.ts';

const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Write a short poem about double-entry bookkeeping.' }];
const HOLD_INPUT_TOKENS = holdInputTokens(await countChatInputTokens({ messages }));

async function drain(stream: AsyncIterable<ChatCompletionChunk>): Promise<number> {
  let chunks = 0;
  for await (const _ of stream) chunks++;
  return chunks;
}

type ErrorWithFields = InstanceType<typeof OpenAI.APIError> & { error: Record<string, unknown> };

const limits = gatewaySuite('holds and output limits');

limits('two simultaneous calls when the balance covers one: exactly one succeeds, the other gets 402 with every field', async ({ h }) => {
  const rate = await rateOf(h.db, 'gpt-4o-mini');
  const holdMc = holdAmountMc(rate, 'exact', HOLD_INPUT_TOKENS, 1_000);
  const balanceMc = holdMc + Math.floor(holdMc / 2);
  const account = await h.account(balanceMc);
  // Slow answers, so both holds are asked for while the first call is still running.
  h.fake.setBehaviour({ kind: 'slow-stream', chunks: 6, chunkDelayMs: 100 });
  const call = () => account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 1_000, stream: true }).then(drain);
  const results = await Promise.allSettled([call(), call()]);
  const fulfilled = results.filter((result) => result.status === 'fulfilled');
  const rejected = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
  assert.is(fulfilled.length, 1);
  assert.is(rejected.length, 1);
  const error = rejected[0]!.reason as ErrorWithFields;
  assert.instance(error, OpenAI.APIError);
  assert.is(error.status, 402);
  assert.is(error.code, 'insufficient_credits');
  const availableMc = balanceMc - holdMc;
  const affordable = affordableOutputTokens(availableMc, HOLD_INPUT_TOKENS, rate, 'exact');
  assert.equal(
    { ...error.error, message: undefined },
    {
      message: undefined,
      type: 'insufficient_credits',
      code: 'insufficient_credits',
      param: null,
      requiredCredits: holdMc / 1000,
      currentCredits: availableMc / 1000,
      requiredMillicredits: holdMc,
      currentMillicredits: availableMc,
      heldCredits: holdMc / 1000,
      maxAffordableOutputTokens: affordable,
      topUpUrl: 'http://localhost:3000/credits#packages',
    },
  );
  assert.match(String(error.error.message), new RegExp(`requested up to 1,000 output tokens; the available balance covers ${affordable.toLocaleString('en-US')}\\.`));
  assert.is(h.fake.requests.length, 1, 'the refused call never reached the upstream');
  assert.is((await usageEntries(h, account.userId)).length, 1);
});

limits('20 simultaneous calls against a balance that covers exactly 7 holds: exactly 7 succeed', async ({ h }) => {
  const rate = await rateOf(h.db, 'gpt-4o-mini');
  const holdMc = holdAmountMc(rate, 'exact', HOLD_INPUT_TOKENS, 500);
  const balanceMc = 7 * holdMc + holdMc - 1;
  const account = await h.account(balanceMc);
  h.fake.setBehaviour({ kind: 'slow-stream', chunks: 4, chunkDelayMs: 200 });
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, () => account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 500, stream: true }).then(drain)),
  );
  const succeeded = results.filter((result) => result.status === 'fulfilled').length;
  const refused = results.filter((result) => result.status === 'rejected' && (result.reason as ErrorWithFields).status === 402).length;
  assert.is(succeeded, 7);
  assert.is(refused, 13);
  const rows = await h.db.selectFrom('usage').select(['charged_mc', 'status']).where('user_id', '=', account.userId).execute();
  assert.is(rows.length, 7);
  const chargedMc = rows.reduce((sum, row) => sum + row.charged_mc, 0);
  assert.equal(await balanceOf(h, account.userId), { balance_mc: balanceMc - chargedMc, held_mc: 0 });
});

limits('without max_tokens a small balance caps the output limit (x-max-tokens-capped), stream and non-stream', async ({ h }) => {
  const rate = await rateOf(h.db, 'gpt-4o-mini');
  const balanceMc = holdAmountMc(rate, 'exact', HOLD_INPUT_TOKENS, 1_000) + 5;
  const account = await h.account(balanceMc);
  const expected = affordableOutputTokens(balanceMc, HOLD_INPUT_TOKENS, rate, 'exact');
  assert.is(expected, 1_000);
  const { response } = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
  assert.is(response.headers.get('x-max-tokens-capped'), '1000');
  assert.is(h.fake.lastRequest?.body.max_tokens, 1_000, 'the lowered limit is what the upstream is asked for');

  // A rich account is not capped, but the upstream is still told the model's maximum (the hold's bound).
  const rich = await h.account(1_000_000_000);
  const plain = await rich.client.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
  assert.is(plain.response.headers.get('x-max-tokens-capped'), null);
  assert.is(h.fake.lastRequest?.body.max_tokens, 16_384);

  const small = await h.account(holdAmountMc(rate, 'exact', HOLD_INPUT_TOKENS, 300));
  const stream = await small.client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true }).withResponse();
  await drain(stream.data);
  assert.is(stream.response.headers.get('x-max-tokens-capped'), '300');
  // max_completion_tokens is honoured as the client's own limit field.
  await rich.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_completion_tokens: 77 });
  assert.is(h.fake.lastRequest?.body.max_completion_tokens, 77);
  assert.is(h.fake.lastRequest?.body.max_tokens, undefined);
});

limits('below 256 affordable output tokens a call without max_tokens is refused; at 256 it is capped', async ({ h }) => {
  const rate = await rateOf(h.db, 'gpt-4o');
  const poor = await h.account(holdAmountMc(rate, 'exact', HOLD_INPUT_TOKENS, 255));
  const error = (await rejects(() => poor.client.chat.completions.create({ model: 'gpt-4o', messages }), OpenAI.APIError)) as ErrorWithFields;
  assert.is(error.status, 402);
  assert.is(error.error.maxAffordableOutputTokens, 255);
  assert.match(String(error.error.message), /requested up to 256 output tokens; the available balance covers 255\./);
  assert.is(h.fake.requests.length, 0);

  const enough = await h.account(holdAmountMc(rate, 'exact', HOLD_INPUT_TOKENS, 256));
  const { response } = await enough.client.chat.completions.create({ model: 'gpt-4o', messages }).withResponse();
  assert.is(response.headers.get('x-max-tokens-capped'), '256');
});

limits('a balance that does not cover even the prompt says so; an empty wallet gets 402 too', async ({ h }) => {
  const empty = await h.account(0);
  const error = (await rejects(() => empty.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 10 }), OpenAI.APIError)) as ErrorWithFields;
  assert.is(error.status, 402);
  assert.is(error.error.currentMillicredits, 0);
  assert.is(error.error.maxAffordableOutputTokens, 0);
  assert.match(String(error.error.message), /does not cover even the prompt/);
});

limits.run();
