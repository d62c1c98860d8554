// The metered gateway over real HTTP (official openai SDK → tokentab → fake upstream): exact charges,
// headers, rates kept, the usage endpoint, streaming, upstream errors and bad bodies.
import * as assert from 'uvu/assert';
import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { expireHolds } from '../src/ledger/holds.ts';
import { costMc } from '../src/pricing/cost.ts';
import { holdAmountMc } from '../src/pricing/output-limit.ts';
import { setRate } from '../src/pricing/rates.ts';
import { runCli } from '../src/cli/run.ts';
import { countChatInputTokens, countTextTokens, holdInputTokens } from '../src/gateway/tokens.ts';
import { demoReplyText } from '../src/gateway/demo-model.ts';
import { FAKE_DEFAULT_TEXT } from './fakes/openai-upstream.ts';
import { rejects, waitFor } from './helpers/assert.ts';
import { rateOf } from './helpers/db.ts';
import { OPERATOR_KEY, assertBooksClean, balanceOf, startGatewayHarness, usageEntries, usageRow, gatewaySuite, type GatewayHarness } from './helpers/gateway.ts';

const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'What does a ledger do?' }];
const HUNDRED_CREDITS_MC = 100_000_000;

async function collect(stream: AsyncIterable<ChatCompletionChunk>, seen: ChatCompletionChunk[] = []): Promise<ChatCompletionChunk[]> {
  for await (const chunk of stream) seen.push(chunk);
  return seen;
}
const contentOf = (chunks: ChatCompletionChunk[]) => chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');

const SEED_CASES = [
  { model: 'gpt-4o-mini', input: 1_000, output: 1_000, exact: '12.000', ceil: '12.000' },
  { model: 'gpt-4o', input: 10_000, output: 2_000, exact: '360.000', ceil: '360.000' },
  { model: 'gpt-4o-mini', input: 750, output: 200, exact: '3.720', ceil: '4.000' },
  { model: 'gpt-4o', input: 1_234, output: 567, exact: '70.040', ceil: '71.000' },
] as const;

const toMc = (text: string) => Math.round(Number(text) * 1000);

for (const mode of ['exact', 'ceil'] as const) {
  const seeds = gatewaySuite(`seed charges, ${mode}`, { env: { ROUNDING_MODE: mode } });

  for (const stream of [false, true]) {
    seeds(`the four seed cases charge exactly (${stream ? 'stream' : 'non-stream'}); one usage entry each, of the same amount`, async ({ h }) => {
      const account = await h.account(1_000_000_000);
      let expectedBalanceMc = 1_000_000_000;
      for (const seed of SEED_CASES) {
        h.fake.setBehaviour({ kind: 'ok', usage: { prompt_tokens: seed.input, completion_tokens: seed.output } });
        let requestId: string;
        if (stream) {
          const { data, response } = await account.client.chat.completions.create({ model: seed.model, messages, max_tokens: 3_000, stream: true }).withResponse();
          const chunks = await collect(data);
          assert.is(contentOf(chunks), FAKE_DEFAULT_TEXT);
          assert.ok(chunks.every((chunk) => chunk.usage === undefined), 'no usage chunk or field when the client did not ask');
          assert.is(h.fake.lastRequest?.body.stream_options?.include_usage, true, 'include_usage is always asked upstream');
          requestId = response.headers.get('x-request-id')!;
          assert.is(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
          assert.is(response.headers.get('content-encoding'), null, 'SSE is never compressed');
        } else {
          const { data, response } = await account.client.chat.completions.create({ model: seed.model, messages, max_tokens: 3_000 }).withResponse();
          assert.is(data.choices[0]?.message.content, FAKE_DEFAULT_TEXT);
          requestId = response.headers.get('x-request-id')!;
          assert.is(response.headers.get('x-credits-charged'), mode === 'exact' ? seed.exact : seed.ceil);
          expectedBalanceMc -= toMc(mode === 'exact' ? seed.exact : seed.ceil);
          assert.is(response.headers.get('x-credits-balance'), (expectedBalanceMc / 1000).toFixed(3));
          assert.is(response.headers.get('x-max-tokens-capped'), null);
        }
        if (stream) expectedBalanceMc -= toMc(mode === 'exact' ? seed.exact : seed.ceil);
        assert.match(requestId, /^req_[0-9a-f]{32}$/);
        const usage = await usageRow(h, requestId);
        assert.is(usage.charged_mc, toMc(mode === 'exact' ? seed.exact : seed.ceil), `${seed.model} ${seed.input}/${seed.output}`);
        assert.is(usage.input_tokens, seed.input);
        assert.is(usage.output_tokens, seed.output);
        assert.is(usage.status, 'ok');
        assert.is(usage.estimated, 0);
        assert.is(usage.rounding_mode, mode);
        assert.is(usage.api_key_id, account.apiKeyId);
        assert.match(usage.upstream_response_id ?? '', /^chatcmpl-/);
        assert.is(h.fake.lastRequest?.headers.authorization, `Bearer ${OPERATOR_KEY}`, 'the upstream gets the operator key, not the caller’s');
      }
      const entries = await usageEntries(h, account.userId);
      assert.is(entries.length, 4, 'one usage ledger entry per call');
      const rows = await h.db.selectFrom('usage').selectAll().where('user_id', '=', account.userId).orderBy('id').execute();
      rows.forEach((row, index) => {
        assert.is(entries[index]!.amount_mc, -row.charged_mc);
        assert.is(entries[index]!.reference, row.request_id);
        assert.is(entries[index]!.created_at_ms, row.created_at_ms);
      });
      assert.is((await balanceOf(h, account.userId)).balance_mc, expectedBalanceMc);
      assert.is((await balanceOf(h, account.userId)).held_mc, 0);
    });
  }
  seeds.run();
}

const gateway = gatewaySuite('gateway', { env: { HOLD_TTL_SECONDS: '600' } });

gateway('cached input tokens from the upstream are charged at the cached rate', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  h.fake.setBehaviour({ kind: 'ok', usage: { prompt_tokens: 2_000, completion_tokens: 100, cached_tokens: 1_500 } });
  const { response } = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 200 }).withResponse();
  // 500 × 2.4 + 1,500 × 1.2 + 100 × 9.6 = 1,200 + 1,800 + 960 µ-credits·k = 3.960 credits
  assert.is(response.headers.get('x-credits-charged'), '3.960');
  const usage = await usageRow(h, response.headers.get('x-request-id')!);
  assert.is(usage.cached_input_tokens, 1_500);
});

gateway('request ids sort in the order the calls came in (their first digits are the time)', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const { response } = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 50 }).withResponse();
    ids.push(response.headers.get('x-request-id')!);
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
  assert.equal([...ids].sort(), ids);
  assert.is(new Set(ids).size, 3);
  for (const id of ids) assert.match(id, /^req_[0-9a-f]{32}$/);
});

gateway('the usage row keeps the hold’s rates when rates:set changes the card between hold and settle, and later calls use the new card', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const before = await rateOf(h.db, 'gpt-4o-mini');
  h.fake.setBehaviour({ kind: 'ok', usage: { prompt_tokens: 750, completion_tokens: 200 }, chunkDelayMs: 30 });
  const { data, response } = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 300, stream: true }).withResponse();
  const reading = collect(data);
  await waitFor(() => h.fake.requests.length === 1, 'the upstream call');
  // The hold is placed; now the operator changes the card with the CLI, on the same database file.
  const cliLines: string[] = [];
  const code = await runCli(['rates:set', '--model', 'gpt-4o-mini', '--input', '5', '--output', '20'], {
    env: { DATABASE_URL: h.databaseUrl, SQLITE_SYNCHRONOUS: 'normal' },
    clock: h.clock,
    out: (line) => cliLines.push(line),
    err: (line) => cliLines.push(line),
  });
  assert.is(code, 0, cliLines.join('\n'));
  const after = await rateOf(h.db, 'gpt-4o-mini');
  assert.is(after.input_mc_per_1k, 5_000);
  await reading;
  const first = await usageRow(h, response.headers.get('x-request-id')!);
  assert.is(first.input_mc_per_1k, before.input_mc_per_1k);
  assert.is(first.output_mc_per_1k, before.output_mc_per_1k);
  assert.is(first.charged_mc, 3_720, 'charged at the rates of hold time');

  h.fake.setBehaviour({ kind: 'ok', usage: { prompt_tokens: 750, completion_tokens: 200 } });
  const second = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 300 }).withResponse();
  assert.is(second.response.headers.get('x-credits-charged'), '7.750', '750 × 5 + 200 × 20');
  const secondRow = await usageRow(h, second.response.headers.get('x-request-id')!);
  assert.is(secondRow.input_mc_per_1k, after.input_mc_per_1k);
  // A later rate change does not touch either row.
  await setRate(h.db, h.clock, { model: 'gpt-4o-mini', inputMcPer1k: before.input_mc_per_1k, outputMcPer1k: before.output_mc_per_1k });
  assert.is((await usageRow(h, first.request_id)).input_mc_per_1k, before.input_mc_per_1k);
  assert.is((await usageRow(h, secondRow.request_id)).charged_mc, 7_750);
});

gateway('the usage chunk reaches the client only when it asked; the hold covers n choices', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  h.fake.setBehaviour({ kind: 'ok', usage: { prompt_tokens: 40, completion_tokens: 30 } });
  const chunks = await collect(await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true }, max_tokens: 50 }));
  assert.equal(chunks.at(-1)?.choices, []);
  assert.is(chunks.at(-1)?.usage?.prompt_tokens, 40);
  assert.is(chunks.at(-1)?.usage?.completion_tokens, 30);

  const { response } = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, n: 3, max_tokens: 100 }).withResponse();
  const row = await usageRow(h, response.headers.get('x-request-id')!);
  const rate = await rateOf(h.db, 'gpt-4o-mini');
  assert.is(row.hold_mc, holdAmountMc(rate, 'exact', holdInputTokens(await countChatInputTokens({ messages })), 100, 3), 'the output hold is multiplied by n');
  assert.is(h.fake.lastRequest?.body.n, 3);
});

gateway('GET /v1/usage/{id}: exactly the documented fields, chargedFor, endpoint, reasoningTokens, the key and the upstream included; another user’s id and an unknown id are 404', async ({ h }) => {
  const owner = await h.account(HUNDRED_CREDITS_MC, 'usage owner');
  const other = await h.account(HUNDRED_CREDITS_MC);
  h.fake.setBehaviour({ kind: 'ok', usage: { prompt_tokens: 750, completion_tokens: 200 } });
  const { response } = await owner.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 300 }).withResponse();
  const requestId = response.headers.get('x-request-id')!;
  const answer = await fetch(`${h.url}/v1/usage/${requestId}`, { headers: { authorization: `Bearer ${owner.key}` } });
  assert.is(answer.status, 200);
  const record = (await answer.json()) as Record<string, unknown>;
  assert.equal(Object.keys(record).sort(), [
    'apiKey', 'apiKeyId', 'apiKeyName', 'cachedInputTokens', 'chargedCredits', 'chargedFor', 'chargedMillicredits', 'createdAt', 'endpoint', 'estimated', 'heldCredits', 'inputTokens', 'latencyMs',
    'model', 'outputTokens', 'rates', 'reasoningTokens', 'requestId', 'roundingMode', 'shortfallCredits', 'status', 'upstream', 'upstreamAttempts',
  ]);
  const row = await usageRow(h, requestId);
  assert.equal(record, {
    requestId,
    createdAt: new Date(row.created_at_ms).toISOString(),
    model: 'gpt-4o-mini',
    endpoint: 'chat',
    status: 'ok',
    estimated: false,
    chargedFor: 'Completed; charged the tokens the upstream reported.',
    inputTokens: 750,
    cachedInputTokens: 0,
    outputTokens: 200,
    reasoningTokens: 0,
    rates: { inputCreditsPer1k: 2.4, cachedInputCreditsPer1k: 1.2, outputCreditsPer1k: 9.6 },
    roundingMode: 'exact',
    heldCredits: row.hold_mc / 1000,
    chargedCredits: 3.72,
    chargedMillicredits: 3_720,
    shortfallCredits: 0,
    latencyMs: row.latency_ms,
    apiKey: owner.key.slice(0, 11),
    apiKeyId: owner.apiKeyId,
    apiKeyName: 'usage owner',
    upstream: 'default',
    upstreamAttempts: 'default: ok',
  });
  const foreign = await fetch(`${h.url}/v1/usage/${requestId}`, { headers: { authorization: `Bearer ${other.key}` } });
  assert.is(foreign.status, 404);
  assert.is(((await foreign.json()) as { error: { code: string } }).error.code, 'not_found');
  assert.is((await fetch(`${h.url}/v1/usage/req_unknown`, { headers: { authorization: `Bearer ${owner.key}` } })).status, 404);
  assert.is((await fetch(`${h.url}/v1/usage/${requestId}`)).status, 401);
});

gateway('an upstream stream without a usage chunk is charged from what was received, status ok, estimated', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  h.fake.setBehaviour({ kind: 'no-usage' });
  const { data, response } = await account.client.chat.completions.create({ model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true }, max_tokens: 100 }).withResponse();
  const chunks = await collect(data);
  assert.is(contentOf(chunks), FAKE_DEFAULT_TEXT);
  const row = await usageRow(h, response.headers.get('x-request-id')!);
  const inputTokens = await countChatInputTokens({ messages });
  const outputTokens = countTextTokens(FAKE_DEFAULT_TEXT);
  assert.is(row.status, 'ok');
  assert.is(row.estimated, 1);
  assert.is(row.input_tokens, inputTokens);
  assert.is(row.output_tokens, outputTokens);
  assert.is(row.charged_mc, costMc({ inputTokens, cachedInputTokens: 0, outputTokens }, await rateOf(h.db, 'gpt-4o'), 'exact'));

  // The same without streaming: no usage field, counted here.
  const plain = await account.client.chat.completions.create({ model: 'gpt-4o', messages, max_tokens: 100 }).withResponse();
  const plainRow = await usageRow(h, plain.response.headers.get('x-request-id')!);
  assert.is(plainRow.estimated, 1);
  assert.is(plainRow.output_tokens, outputTokens);
  assert.is(plain.response.headers.get('x-credits-charged'), (plainRow.charged_mc / 1000).toFixed(3));
});

gateway('an upstream that breaks mid-stream after some output: charged for what arrived, estimated, and the client sees an error', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  h.fake.setBehaviour({ kind: 'partial-then-error', chunks: 3 });
  const seen: ChatCompletionChunk[] = [];
  const { data, response } = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, max_tokens: 100 }).withResponse();
  const error = await rejects(() => collect(data, seen), OpenAI.APIError);
  assert.is((error as InstanceType<typeof OpenAI.APIError>).code, 'upstream_connection_lost');
  assert.is(contentOf(seen), 'Piece 1. Piece 2. Piece 3. ');
  const row = await usageRow(h, response.headers.get('x-request-id')!);
  assert.is(row.status, 'upstream_error');
  assert.is(row.estimated, 1);
  assert.is(row.output_tokens, countTextTokens('Piece 1. Piece 2. Piece 3. '));
  assert.ok(row.charged_mc > 0);
  const hold = await h.db.selectFrom('holds').select('status').where('request_id', '=', row.request_id).executeTakeFirstOrThrow();
  assert.is(hold.status, 'settled');
});

gateway('a hold that expires while its call is still running is still charged at settle', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  h.fake.setBehaviour({ kind: 'ok', usage: { prompt_tokens: 750, completion_tokens: 200 }, chunkDelayMs: 40 });
  const { data, response } = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, max_tokens: 300 }).withResponse();
  const reading = collect(data);
  await waitFor(() => h.fake.requests.length === 1, 'the upstream call');
  h.clock.advance(600_001);
  assert.is(await expireHolds(h.db, h.clock), 1, 'the sweeper expired the running call’s hold');
  assert.is((await balanceOf(h, account.userId)).held_mc, 0);
  await reading;
  const row = await usageRow(h, response.headers.get('x-request-id')!);
  assert.is(row.status, 'ok');
  assert.is(row.charged_mc, 3_720);
  assert.is((await balanceOf(h, account.userId)).balance_mc, HUNDRED_CREDITS_MC - 3_720);
  const hold = await h.db.selectFrom('holds').select('status').where('request_id', '=', row.request_id).executeTakeFirstOrThrow();
  assert.is(hold.status, 'settled');
});

/** Bodies the gateway refuses before anything is reserved: [body, param, message pattern]. */
const BAD_BODIES: [unknown, string | null, RegExp][] = [
  [{ messages }, 'model', /model/],
  [{ model: 'gpt-4o-mini' }, 'messages', /messages/],
  [{ model: 'gpt-4o-mini', messages: [] }, 'messages', /non-empty/],
  [{ model: 'gpt-4o-mini', messages: ['hello'] }, 'messages[0]', /object/],
  [{ model: 'gpt-4o-mini', messages: [{ role: 'wizard', content: 'hi' }] }, 'messages[0].role', /role/],
  [{ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 42 }] }, 'messages[0].content', /string/],
  [{ model: 'gpt-4o-mini', messages: [{ role: 'user' }] }, 'messages[0].content', /required/],
  [{ model: 'gpt-4o-mini', messages, max_tokens: 0 }, 'max_tokens', /whole number/],
  [{ model: 'gpt-4o-mini', messages, max_tokens: 2.5 }, 'max_tokens', /whole number/],
  [{ model: 'gpt-4o-mini', messages, max_tokens: 100_000 }, 'max_tokens', /maximum of 16384/],
  [{ model: 'gpt-4o-mini', messages, n: 0 }, 'n', /whole number/],
  [{ model: 'gpt-4o-mini', messages, stream: 'yes' }, 'stream', /true or false/],
  [{ model: 'gpt-4o-mini', messages, stream_options: { include_usage: true } }, 'stream_options', /only allowed/],
  [{ model: 'gpt-4o-mini', messages, tools: 'all of them' }, 'tools', /list/],
  [{ model: 'gpt-5-imaginary', messages }, 'model', /not on the rate card/],
  [
    { model: 'gpt-4o-mini', messages: [{ role: 'user', content: [{ type: 'text', text: 'What is in this file?' }, { type: 'file', file: { file_id: 'file-1' } }] }] },
    'messages[0].content[1]',
    /not supported yet/,
  ],
  [{ model: 'gpt-4o-mini', messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }] }, 'messages[0].content[0]', /not supported yet/],
  [{ model: 'gpt-4o-mini', messages, modalities: ['text', 'audio'] }, 'modalities', /not supported yet/],
];

gateway('malformed bodies, unknown models and file or audio parts: 400 with param, and nothing is written or sent upstream', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  for (const [body, param, message] of BAD_BODIES) {
    const response = await h.post('/v1/chat/completions', account.key, body);
    assert.is(response.status, 400, JSON.stringify(body));
    assert.match(response.headers.get('x-request-id') ?? '', /^req_/);
    const error = ((await response.json()) as { error: { param: string | null; message: string; type: string } }).error;
    assert.is(error.param, param, JSON.stringify(body));
    assert.match(error.message, message);
    assert.is(error.type, 'invalid_request_error');
  }
  const notJson = await h.post('/v1/chat/completions', account.key, '{"model": "gpt-4o-mini", "messages": [');
  assert.is(notJson.status, 400);
  assert.is(((await notJson.json()) as { error: { code: string } }).error.code, 'invalid_json');
  // Through the SDK too: a 400 is a BadRequestError with the param.
  const error = await rejects(
    () => account.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-1' } }] }] }),
    OpenAI.BadRequestError,
  );
  assert.is((error as InstanceType<typeof OpenAI.BadRequestError>).param, 'messages[0].content[0]');
  assert.is(h.fake.requests.length, 0, 'nothing reached the upstream');
  assert.is((await h.db.selectFrom('holds').select('id').where('user_id', '=', account.userId).execute()).length, 0, 'no hold');
  assert.is((await h.db.selectFrom('usage').select('id').where('user_id', '=', account.userId).execute()).length, 0, 'no usage row');
  assert.is((await usageEntries(h, account.userId)).length, 0, 'no ledger entry');
  assert.equal(await balanceOf(h, account.userId), { balance_mc: HUNDRED_CREDITS_MC, held_mc: 0 });
});

gateway('a missing or wrong key is 401 before anything else', async ({ h }) => {
  const response = await h.post('/v1/chat/completions', 'tt_not_a_key', { model: 'gpt-4o-mini', messages });
  assert.is(response.status, 401);
  const bare = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', body: '{}' });
  assert.is(bare.status, 401);
  assert.is(h.fake.requests.length, 0);
});

gateway('/v1 answers carry nosniff and none of the pages’ headers (CSP, frame rules); a page keeps them', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const answered = await h.post('/v1/chat/completions', account.key, { model: 'gpt-4o-mini', messages });
  const refused = await h.post('/v1/chat/completions', 'tt_not_a_key', { model: 'gpt-4o-mini', messages });
  const unknown = await fetch(`${h.url}/v1/nothing-here`);
  for (const [what, response] of [['200', answered], ['401', refused], ['404', unknown]] as const) {
    assert.is(response.headers.get('x-content-type-options'), 'nosniff', what);
    assert.is(response.headers.get('content-security-policy'), null, what);
    assert.is(response.headers.get('x-frame-options'), null, what);
  }
  assert.is(answered.status, 200);
  const page = await fetch(`${h.url}/login`);
  assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  assert.is(page.headers.get('x-frame-options'), 'SAMEORIGIN');
  assert.is(page.headers.get('x-content-type-options'), 'nosniff');
  await assertBooksClean(h);
});

async function assertVoided(h: GatewayHarness, requestId: string, userId: number) {
  const row = await usageRow(h, requestId);
  assert.is(row.status, 'upstream_error');
  assert.is(row.charged_mc, 0);
  const hold = await h.db.selectFrom('holds').select('status').where('request_id', '=', requestId).executeTakeFirstOrThrow();
  assert.is(hold.status, 'voided');
  assert.is((await usageEntries(h, userId)).length, 0, 'a voided call writes no ledger entry');
  assert.equal(await balanceOf(h, userId), { balance_mc: HUNDRED_CREDITS_MC, held_mc: 0 });
}

gateway('upstream 401 and 403 → 502 upstream_auth_error, never echoing the operator’s key; nothing charged, hold voided', async ({ h }) => {
  for (const status of [401, 403] as const) {
    const account = await h.account(HUNDRED_CREDITS_MC);
    h.fake.setBehaviour({ kind: 'error', status, message: `Incorrect API key provided: ${OPERATOR_KEY}. You can find your API key at https://platform.openai.com.` });
    const response = await h.post('/v1/chat/completions', account.key, { model: 'gpt-4o-mini', messages, max_tokens: 50 });
    assert.is(response.status, 502);
    const text = await response.text();
    assert.not.ok(text.includes(OPERATOR_KEY), 'the operator key is never echoed');
    assert.not.ok(text.includes('sk-'), 'nor any part of it');
    assert.is((JSON.parse(text) as { error: { code: string } }).error.code, 'upstream_auth_error');
    await assertVoided(h, response.headers.get('x-request-id')!, account.userId);
  }
  for (const line of h.logLines) assert.not.ok(line.includes(OPERATOR_KEY));
});

gateway('upstream 429 → 429 with Retry-After; 500 → 502; 400/404/422 passed through; all uncharged with the hold voided', async ({ h }) => {
  const cases = [
    { behaviour: { kind: 'error', status: 429, retryAfterSeconds: 7 } as const, status: 429, code: 'upstream_rate_limited' },
    { behaviour: { kind: 'error', status: 500 } as const, status: 502, code: 'upstream_error' },
    { behaviour: { kind: 'error', status: 400, message: 'Invalid value for temperature.' } as const, status: 400, code: null },
    { behaviour: { kind: 'error', status: 404 } as const, status: 404, code: 'model_not_found' },
    { behaviour: { kind: 'error', status: 422 } as const, status: 422, code: null },
  ];
  for (const each of cases) {
    const account = await h.account(HUNDRED_CREDITS_MC);
    h.fake.setBehaviour(each.behaviour);
    const response = await h.post('/v1/chat/completions', account.key, { model: 'gpt-4o-mini', messages, max_tokens: 50 });
    assert.is(response.status, each.status, `upstream ${each.behaviour.status}`);
    const error = ((await response.json()) as { error: { code: string | null; message: string } }).error;
    assert.is(error.code, each.code);
    if (each.behaviour.status === 429) assert.is(response.headers.get('retry-after'), '7');
    if (each.behaviour.status === 400) assert.is(error.message, 'Invalid value for temperature.');
    await assertVoided(h, response.headers.get('x-request-id')!, account.userId);
  }
  // The SDK sees the mapped statuses as its own error classes.
  const account = await h.account(HUNDRED_CREDITS_MC);
  h.fake.setBehaviour({ kind: 'error', status: 429 });
  await rejects(() => account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 50 }), OpenAI.RateLimitError);
  h.fake.setBehaviour({ kind: 'error', status: 401 });
  await rejects(() => account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 50, stream: true }), OpenAI.InternalServerError);
});

gateway('a body that breaks before any output (non-stream) → 502, nothing charged', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  h.fake.setBehaviour({ kind: 'partial-then-error', chunks: 1 });
  const response = await h.post('/v1/chat/completions', account.key, { model: 'gpt-4o-mini', messages, max_tokens: 50 });
  assert.is(response.status, 502);
  await assertVoided(h, response.headers.get('x-request-id')!, account.userId);
});

gateway.run();

// No OPENAI_API_KEY: the built-in demo model answers, through the same metering path.
const demo = gatewaySuite('demo model', { env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: '' } });

demo('without OPENAI_API_KEY the demo model answers, streamed or not, charged for the usage it reports', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const { data, response } = await account.client.chat.completions.create({ model: 'gpt-4o', messages, max_tokens: 100 }).withResponse();
  assert.is(data.choices[0]?.message.content, demoReplyText('gpt-4o', messages));
  const row = await usageRow(h, response.headers.get('x-request-id')!);
  assert.is(row.estimated, 0);
  assert.is(row.input_tokens, await countChatInputTokens({ messages }));
  assert.is(row.output_tokens, countTextTokens(demoReplyText('gpt-4o', messages)));
  assert.match(row.upstream_response_id ?? '', /^chatcmpl-demo-/);
  assert.is(response.headers.get('x-credits-charged'), (row.charged_mc / 1000).toFixed(3));

  const stream = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } }).withResponse();
  const chunks = await collect(stream.data);
  assert.is(contentOf(chunks), demoReplyText('gpt-4o-mini', messages));
  const streamRow = await usageRow(h, stream.response.headers.get('x-request-id')!);
  assert.is(chunks.at(-1)?.usage?.completion_tokens, streamRow.output_tokens);
  assert.is(streamRow.status, 'ok');
  assert.is(h.fake.requests.length, 0, 'nothing left the server');
});

demo.run();

const timeouts = gatewaySuite('upstream timeout and refused connection', { env: { UPSTREAM_TIMEOUT_SECONDS: '1' } });

timeouts('an upstream that does not answer in UPSTREAM_TIMEOUT_SECONDS → 504, hold voided, the upstream call abandoned', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  for (const stream of [false, true]) {
    h.fake.setBehaviour({ kind: 'hang' });
    const startedMs = Date.now();
    const response = await h.post('/v1/chat/completions', account.key, { model: 'gpt-4o-mini', messages, max_tokens: 50, stream });
    const elapsedMs = Date.now() - startedMs;
    assert.is(response.status, 504);
    assert.ok(elapsedMs >= 950 && elapsedMs < 3_000, `timed out after ${elapsedMs} ms`);
    assert.is(((await response.json()) as { error: { code: string } }).error.code, 'upstream_timeout');
    await assertVoided(h, response.headers.get('x-request-id')!, account.userId);
  }
  await h.fake.waitForAborted(2);
});

timeouts('a stream still running at the deadline (headers came, the body is slow) is cut: charged for what arrived, and the client gets an error event', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  h.fake.setBehaviour({ kind: 'slow-stream', chunks: 10, chunkDelayMs: 300 });
  const seen: ChatCompletionChunk[] = [];
  const { data, response } = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, max_tokens: 100 }).withResponse();
  const error = await rejects(() => collect(data, seen), OpenAI.APIError);
  assert.is((error as InstanceType<typeof OpenAI.APIError>).code, 'upstream_timeout');
  const row = await usageRow(h, response.headers.get('x-request-id')!);
  assert.is(row.status, 'upstream_error');
  assert.is(row.estimated, 1);
  assert.ok(row.output_tokens >= countTextTokens(contentOf(seen)) && row.output_tokens > 0);
  assert.ok(row.charged_mc > 0);
  await h.fake.waitForAborted(1);
});

timeouts('a refused connection → 502 upstream_unavailable, nothing charged', async ({ h }) => {
  const closed = await startGatewayHarness({ env: { OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' } });
  try {
    const account = await closed.account(HUNDRED_CREDITS_MC);
    const response = await closed.post('/v1/chat/completions', account.key, { model: 'gpt-4o-mini', messages, max_tokens: 50 });
    assert.is(response.status, 502);
    assert.is(((await response.json()) as { error: { code: string } }).error.code, 'upstream_unavailable');
    await assertVoided(closed, response.headers.get('x-request-id')!, account.userId);
    const stream = await closed.post('/v1/chat/completions', account.key, { model: 'gpt-4o-mini', messages, max_tokens: 50, stream: true });
    assert.is(stream.status, 502);
    await assertBooksClean(closed);
  } finally {
    await closed.closeAll();
  }
});

timeouts.run();
