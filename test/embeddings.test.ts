// POST /v1/embeddings and GET /v1/models over real HTTP (official openai SDK → tokentab → the fake
// upstream, or the demo model): exact charges per input token, the hold counted from the input, every
// bound refused before any work, the 402, upstream failures voided, and the models with their prices.
import * as assert from 'uvu/assert';
import { APIError } from 'openai';
import { embeddingDimensions, hashedVector } from '../src/gateway/embedding-wire.ts';
import { countTextTokens, holdInputTokens } from '../src/gateway/tokens.ts';
import { setRate } from '../src/pricing/rates.ts';
import { parse } from './helpers/app.ts';
import { rejects } from './helpers/assert.ts';
import { rateOf } from './helpers/db.ts';
import { sessionCookie } from './helpers/signed-in.ts';
import { balanceOf, usageEntries, usageRow, gatewaySuite, type Account, type GatewayHarness } from './helpers/gateway.ts';
import { ENDPOINT_LABELS } from '../views/labels.ts';

const HUNDRED_CREDITS_MC = 100_000_000;
const SMALL = 'text-embedding-3-small';
const LARGE = 'text-embedding-3-large';
/** The seeded input rates, mc per 1k tokens, written out so a change to the seed is noticed here. */
const RATE_MC_PER_1K = { [SMALL]: 200, [LARGE]: 1_300 } as const;

const TEXTS = ['The ledger keeps every charge.', 'A hold reserves the worst case before the call.', 'Credits are integers: millicredits.'];

/** ⌈tokens × rate ÷ 1000⌉ mc: the exact-mode price of input tokens, computed apart from the code under test. */
const priceMc = (tokens: number, rateMcPer1k: number) => Math.ceil((tokens * rateMcPer1k) / 1000);
const holdMc = (countedTokens: number, rateMcPer1k: number) => priceMc(holdInputTokens(countedTokens), rateMcPer1k);
const creditsText = (mc: number) => (mc / 1000).toFixed(3);

/** Nothing of a refused call reached the books or the upstream. */
async function assertNothingHappened(h: GatewayHarness, account: Account, balanceMc: number) {
  assert.is((await h.db.selectFrom('holds').select('id').where('user_id', '=', account.userId).execute()).length, 0, 'no hold');
  assert.is((await h.db.selectFrom('usage').select('id').where('user_id', '=', account.userId).execute()).length, 0, 'no usage row');
  assert.is((await usageEntries(h, account.userId)).length, 0, 'no usage entry');
  assert.equal(await balanceOf(h, account.userId), { balance_mc: balanceMc, held_mc: 0 });
  assert.is(h.fake.requests.length, 0, 'nothing sent upstream');
}

const embeddings = gatewaySuite('embeddings');

embeddings('a string, a list of strings and token arrays on both models: charged exactly at the input rate, the hold counted from the input, the row says embeddings', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const ids = Array.from({ length: 500 }, (_, index) => (index * 397) % 200_019);
  const cases = [
    { input: TEXTS[0]!, counted: countTextTokens(TEXTS[0]!), items: [TEXTS[0]!] },
    { input: TEXTS, counted: TEXTS.reduce((sum, text) => sum + countTextTokens(text), 0), items: TEXTS },
    { input: ids, counted: 500, items: [ids] },
    { input: [ids, [0, 200_018], [42]], counted: 503, items: [ids, [0, 200_018], [42]] },
  ];
  let balanceMc = HUNDRED_CREDITS_MC;
  for (const model of [SMALL, LARGE] as const) {
    const rate = RATE_MC_PER_1K[model];
    assert.is((await rateOf(h.db, model)).input_mc_per_1k, rate);
    for (const each of cases) {
      const { data, response } = await account.client.embeddings.create({ model, input: each.input }).withResponse();
      const chargedMc = priceMc(each.counted, rate);
      balanceMc -= chargedMc;
      assert.is(response.headers.get('x-credits-charged'), creditsText(chargedMc));
      assert.is(response.headers.get('x-credits-balance'), creditsText(balanceMc));
      // The SDK asked for base64 and decoded it: the vectors are the fake's, whole and in order.
      assert.is(data.data.length, each.items.length);
      data.data.forEach((embedding, index) => {
        assert.is(embedding.index, index);
        assert.equal(embedding.embedding, Array.from(hashedVector(model, each.items[index]!, embeddingDimensions(model))));
      });
      assert.equal(data.usage, { prompt_tokens: each.counted, total_tokens: each.counted });
      assert.equal(h.fake.lastRequest?.body, { model, input: each.input, encoding_format: 'base64' }, 'exactly the checked fields are forwarded');

      const row = await usageRow(h, response.headers.get('x-request-id')!);
      assert.is(row.endpoint, 'embeddings');
      assert.is(row.status, 'ok');
      assert.is(row.estimated, 0);
      assert.is(row.input_tokens, each.counted);
      assert.is(row.output_tokens, 0);
      assert.is(row.charged_mc, chargedMc);
      assert.is(row.hold_mc, holdMc(each.counted, rate), 'the hold is the counted input with the margin, no output part');
      assert.ok(row.hold_mc >= row.charged_mc, 'the hold covers the reported usage');
      assert.is(row.shortfall_mc, 0);
      assert.is(row.input_mc_per_1k, rate);
      assert.is(row.output_mc_per_1k, 0);
    }
  }
  const entries = await usageEntries(h, account.userId);
  assert.is(entries.length, 8, 'one usage entry per call');
  assert.equal(await balanceOf(h, account.userId), { balance_mc: balanceMc, held_mc: 0 });
});

embeddings('reported usage is what is charged: 1,000 tokens on small = 0.200, 1,234 on large = 1.605 (above the hold, charged as chat does); 7 tokens = 0.002', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  for (const [model, promptTokens, charged] of [[SMALL, 1_000, '0.200'], [LARGE, 1_234, '1.605'], [SMALL, 7, '0.002']] as const) {
    h.fake.setBehaviour({ kind: 'ok', usage: { prompt_tokens: promptTokens } });
    const { response } = await account.client.embeddings.create({ model, input: 'one short text' }).withResponse();
    assert.is(response.headers.get('x-credits-charged'), charged);
    const row = await usageRow(h, response.headers.get('x-request-id')!);
    assert.is(row.input_tokens, promptTokens);
    assert.is(row.charged_mc, Number(charged.replace('.', '')));
    assert.is(row.hold_mc, holdMc(countTextTokens('one short text'), RATE_MC_PER_1K[model]));
    assert.is(row.shortfall_mc, 0, 'the balance covered what the hold did not');
  }
  // The Credits tab's usage detail says what the row metered; /v1/usage/{id} has the call as for chat.
  const requestId = (await usageEntries(h, account.userId)).at(-1)!.reference!;
  const page = await fetch(`${h.url}/credits/usage/${requestId}`, { headers: { cookie: await sessionCookie(h, account.userId) } });
  assert.is(page.status, 200);
  const facts = [...parse(await page.text()).querySelectorAll('.usage-detail .facts dd')].map((dd) => dd.textContent);
  assert.ok(facts.includes('Search (text-embedding-3-small)'), facts.join(' | '));
  assert.ok(facts.includes(ENDPOINT_LABELS.embeddings), facts.join(' | '));
  const record = (await (await fetch(`${h.url}/v1/usage/${requestId}`, { headers: { authorization: `Bearer ${account.key}` } })).json()) as Record<string, unknown>;
  assert.equal([record.model, record.inputTokens, record.outputTokens, record.chargedMillicredits], [SMALL, 7, 0, 2]);
});

embeddings('encoding_format, dimensions and user are forwarded; float vectors come back as lists of that many numbers', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const data = await account.client.embeddings.create({ model: LARGE, input: ['alpha', 'beta'], encoding_format: 'float', dimensions: 256, user: 'user-7' });
  assert.equal(h.fake.lastRequest?.body, { model: LARGE, input: ['alpha', 'beta'], encoding_format: 'float', dimensions: 256, user: 'user-7' });
  assert.is(data.data[1]!.embedding.length, 256);
  assert.equal(data.data[1]!.embedding, Array.from(hashedVector(LARGE, 'beta', 256)));
  const base64 = await account.client.embeddings.create({ model: SMALL, input: 'alpha', encoding_format: 'base64', dimensions: 1_536 });
  assert.type(base64.data[0]!.embedding, 'string', 'asked for base64, the client gets the string as sent');
  assert.is(Buffer.from(base64.data[0]!.embedding as unknown as string, 'base64').length, 1_536 * 4);
  // Null means "not given", as on chat completions.
  const answer = await h.post('/v1/embeddings', account.key, { model: SMALL, input: 'alpha', dimensions: null, user: null, encoding_format: null });
  assert.is(answer.status, 200);
  assert.equal(h.fake.lastRequest?.body, { model: SMALL, input: 'alpha', encoding_format: 'float' });
});

embeddings('the limits themselves are accepted: 2,048 inputs, an input of 8,192 ids, a string of 8,192 tokens', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const inputs = Array.from({ length: 2_048 }, (_, index) => `text ${index}`);
  const many = await account.client.embeddings.create({ model: SMALL, input: inputs, dimensions: 1 }).withResponse();
  const counted = inputs.reduce((sum, text) => sum + countTextTokens(text), 0);
  assert.is(many.data.data.length, 2_048);
  assert.is(many.response.headers.get('x-credits-charged'), creditsText(priceMc(counted, 200)));

  const ids = Array.from({ length: 8_192 }, (_, index) => index);
  const long = await account.client.embeddings.create({ model: SMALL, input: ids }).withResponse();
  assert.is(long.response.headers.get('x-credits-charged'), creditsText(priceMc(8_192, 200)));

  const text = 'a' + ' a'.repeat(8_191);
  assert.is(countTextTokens(text), 8_192);
  const longText = await account.client.embeddings.create({ model: SMALL, input: text }).withResponse();
  assert.is(longText.response.headers.get('x-credits-charged'), creditsText(priceMc(8_192, 200)));
});

embeddings('past a bound, or malformed: 400 naming the param, answered at once, nothing held, charged or sent', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const ids = (length: number) => Array.from({ length }, (_, index) => index % 1000);
  let deep: unknown = [1];
  for (let level = 0; level < 100; level++) deep = [deep];
  const cases: { what: string; body: Record<string, unknown>; param: string | null; code?: string }[] = [
    { what: '2,049 inputs', body: { model: SMALL, input: Array.from({ length: 2_049 }, () => 'x') }, param: 'input' },
    { what: '2,049 token arrays', body: { model: SMALL, input: Array.from({ length: 2_049 }, () => [1]) }, param: 'input' },
    { what: 'an input of 8,193 ids', body: { model: SMALL, input: ids(8_193) }, param: 'input' },
    { what: 'the second of two token arrays has 8,193 ids', body: { model: SMALL, input: [ids(3), ids(8_193)] }, param: 'input[1]' },
    { what: 'two million ids in one list', body: { model: SMALL, input: new Array(1_900_000).fill(1) }, param: 'input' },
    { what: '37 × 8,192 ids: over 300,000 in all', body: { model: SMALL, input: Array.from({ length: 37 }, () => ids(8_192)) }, param: 'input' },
    { what: 'an id of 200,019', body: { model: SMALL, input: [1, 2, 200_019] }, param: 'input[2]' },
    { what: 'a negative id', body: { model: SMALL, input: [[5], [1, -1]] }, param: 'input[1][1]' },
    { what: 'a fractional id', body: { model: SMALL, input: [1.5] }, param: 'input[0]' },
    { what: 'a string among ids', body: { model: SMALL, input: [1, '2'] }, param: 'input[1]' },
    { what: 'an id among strings', body: { model: SMALL, input: ['a', 2] }, param: 'input[1]' },
    { what: 'a list among token arrays… of lists', body: { model: SMALL, input: [[[1]]] }, param: 'input[0][0]' },
    { what: 'a number among token arrays', body: { model: SMALL, input: [[1], 2] }, param: 'input[1]' },
    { what: 'nested 100 deep', body: { model: SMALL, input: deep }, param: 'input', code: 'nesting_too_deep' },
    { what: 'an object', body: { model: SMALL, input: { text: 'a' } }, param: 'input' },
    { what: 'no input', body: { model: SMALL }, param: 'input' },
    { what: 'an empty string', body: { model: SMALL, input: '' }, param: 'input' },
    { what: 'an empty string in a list', body: { model: SMALL, input: ['a', ''] }, param: 'input[1]' },
    { what: 'an empty list', body: { model: SMALL, input: [] }, param: 'input' },
    { what: 'an empty token array', body: { model: SMALL, input: [[1], []] }, param: 'input[1]' },
    { what: 'a string of 8,193 tokens', body: { model: SMALL, input: 'a' + ' a'.repeat(8_192) }, param: 'input' },
    { what: 'the third string has 8,193 tokens', body: { model: LARGE, input: ['a', 'b', 'a' + ' a'.repeat(8_192)] }, param: 'input[2]' },
    { what: 'a 3.9 MB unbroken string', body: { model: SMALL, input: 'a'.repeat(3_900_000) }, param: 'input' },
    { what: '60 strings of 5,000 tokens (300,000 in all, then more)', body: { model: SMALL, input: Array.from({ length: 61 }, () => 'a' + ' a'.repeat(4_999)) }, param: 'input' },
    { what: 'dimensions 0', body: { model: SMALL, input: 'a', dimensions: 0 }, param: 'dimensions' },
    { what: 'dimensions past the small model’s 1,536', body: { model: SMALL, input: 'a', dimensions: 1_537 }, param: 'dimensions' },
    { what: 'dimensions past the large model’s 3,072', body: { model: LARGE, input: 'a', dimensions: 3_073 }, param: 'dimensions' },
    { what: 'fractional dimensions', body: { model: SMALL, input: 'a', dimensions: 2.5 }, param: 'dimensions' },
    { what: 'another encoding', body: { model: SMALL, input: 'a', encoding_format: 'hex' }, param: 'encoding_format' },
    { what: 'a long user', body: { model: SMALL, input: 'a', user: 'u'.repeat(257) }, param: 'user' },
    { what: 'an unknown field', body: { model: SMALL, input: 'a', truncate: true }, param: 'truncate', code: 'unknown_parameter' },
    { what: 'no model', body: { input: 'a' }, param: 'model' },
    { what: 'a chat model', body: { model: 'gpt-4o-mini', input: 'a' }, param: 'model', code: 'model_not_found' },
    { what: 'a model not on the card', body: { model: 'text-embedding-ada-002', input: 'a' }, param: 'model', code: 'model_not_found' },
  ];
  for (const each of cases) {
    const startedMs = performance.now();
    const answer = await h.post('/v1/embeddings', account.key, each.body);
    const elapsedMs = performance.now() - startedMs;
    const body = (await answer.json()) as { error: { param: string | null; code: string | null; message: string } };
    assert.is(answer.status, 400, `${each.what}: ${JSON.stringify(body)}`);
    assert.is(body.error.param, each.param, `${each.what}: ${body.error.message}`);
    if (each.code) assert.is(body.error.code, each.code, each.what);
    assert.match(answer.headers.get('x-request-id') ?? '', /^req_/);
    assert.ok(elapsedMs < 2_000, `${each.what} answered in ${Math.round(elapsedMs)} ms`);
  }
  const chatModel = await h.post('/v1/embeddings', account.key, { model: 'gpt-4o', input: 'a' });
  assert.match(((await chatModel.json()) as { error: { message: string } }).error.message, /'gpt-4o' is a chat model/);
  // And the other way round: chat completions refuse an embedding model.
  const onChat = await rejects(() => account.client.chat.completions.create({ model: SMALL, messages: [{ role: 'user', content: 'hi' }] }), APIError);
  assert.is((onChat as APIError).status, 400);
  assert.match(onChat.message, /embedding model: call POST \/v1\/embeddings/);
  // Through the SDK too: its error is a 400 naming the param.
  const sdk = await rejects(() => account.client.embeddings.create({ model: SMALL, input: Array.from({ length: 2_049 }, () => 'x') }), APIError);
  assert.is((sdk as APIError).status, 400);
  assert.match(sdk.message, /'input' must have at most 2,048 items/);
  await assertNothingHappened(h, account, HUNDRED_CREDITS_MC);
});

embeddings('a balance that can’t cover the input: 402 with chat’s body, what it needs and what is available', async ({ h }) => {
  const text = TEXTS[1]!;
  const requiredMc = holdMc(countTextTokens(text), 1_300);
  const account = await h.account(requiredMc - 1);
  const answer = await h.post('/v1/embeddings', account.key, { model: LARGE, input: text });
  assert.is(answer.status, 402);
  const { error } = (await answer.json()) as { error: Record<string, unknown> };
  assert.is(error.code, 'insufficient_credits');
  assert.is(error.requiredMillicredits, requiredMc);
  assert.is(error.currentMillicredits, requiredMc - 1);
  assert.is(error.maxAffordableOutputTokens, 0);
  assert.match(String(error.message), new RegExp(`the input \\(${holdInputTokens(countTextTokens(text))} tokens with the hold's margin\\) needs ${creditsText(requiredMc).replace('.', '\\.')} credits`));
  // The same fields, in the same order, as chat's 402 on the same balance.
  const chat = await h.post('/v1/chat/completions', account.key, { model: 'gpt-4o', messages: [{ role: 'user', content: text }] });
  assert.is(chat.status, 402);
  const chatError = ((await chat.json()) as { error: Record<string, unknown> }).error;
  assert.equal(Object.keys(error), Object.keys(chatError));
  assert.is(error.topUpUrl, chatError.topUpUrl);
  await assertNothingHappened(h, account, requiredMc - 1);
  // Exactly enough is enough.
  const exact = await h.account(requiredMc);
  const { response } = await exact.client.embeddings.create({ model: LARGE, input: text }).withResponse();
  assert.is(response.headers.get('x-credits-charged'), creditsText(priceMc(countTextTokens(text), 1_300)));
});

embeddings('upstream 500 and 429: voided, nothing charged, listed at 0; the 429 passes Retry-After on', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  for (const [status, answered, code] of [[500, 502, 'upstream_error'], [429, 429, 'upstream_rate_limited']] as const) {
    h.fake.setBehaviour({ kind: 'error', status, retryAfterSeconds: status === 429 ? 7 : undefined });
    const answer = await h.post('/v1/embeddings', account.key, { model: SMALL, input: TEXTS });
    assert.is(answer.status, answered);
    assert.is(((await answer.json()) as { error: { code: string } }).error.code, code);
    if (status === 429) assert.is(answer.headers.get('retry-after'), '7');
    const row = await usageRow(h, answer.headers.get('x-request-id')!);
    assert.is(row.status, 'upstream_error');
    assert.is(row.charged_mc, 0);
    assert.is(row.endpoint, 'embeddings');
    const hold = await h.db.selectFrom('holds').select('status').where('request_id', '=', row.request_id).executeTakeFirstOrThrow();
    assert.is(hold.status, 'voided');
  }
  assert.is((await usageEntries(h, account.userId)).length, 0);
  assert.equal(await balanceOf(h, account.userId), { balance_mc: HUNDRED_CREDITS_MC, held_mc: 0 });
  const sdk = await rejects(() => account.client.embeddings.create({ model: SMALL, input: 'a' }), APIError);
  assert.is((sdk as APIError).status, 429);
});

embeddings('an upstream that reports no usage: the input counted here is charged, marked estimated', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  h.fake.setBehaviour({ kind: 'no-usage' });
  const { response } = await account.client.embeddings.create({ model: LARGE, input: TEXTS }).withResponse();
  const counted = TEXTS.reduce((sum, text) => sum + countTextTokens(text), 0);
  const row = await usageRow(h, response.headers.get('x-request-id')!);
  assert.is(row.estimated, 1);
  assert.is(row.input_tokens, counted);
  assert.is(row.charged_mc, priceMc(counted, 1_300));
});

embeddings('GET /v1/models: the four models of the rate card with labels, kinds and prices (client.models.list()); a new rate shows at once', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const page = await account.client.models.list();
  const byId = Object.fromEntries(page.data.map((model) => [model.id, model as unknown as Record<string, unknown>]));
  assert.equal(Object.keys(byId).sort(), ['gpt-4o', 'gpt-4o-mini', LARGE, SMALL]);
  for (const model of page.data) {
    assert.is(model.object, 'model');
    assert.is(model.owned_by, 'tokentab');
    assert.type(model.created, 'number');
  }
  const { created: _created, ...mini } = byId['gpt-4o-mini']!;
  assert.equal(mini, {
    id: 'gpt-4o-mini',
    object: 'model',
    owned_by: 'tokentab',
    label: 'Eco',
    kind: 'chat',
    maxOutputTokens: 16_384,
    pricing: { input: { creditsPer1k: 2.4, usdPer1M: 2.4 }, cachedInput: { creditsPer1k: 1.2, usdPer1M: 1.2 }, output: { creditsPer1k: 9.6, usdPer1M: 9.6 } },
  });
  assert.equal(byId['gpt-4o']!.pricing, { input: { creditsPer1k: 20, usdPer1M: 20 }, cachedInput: { creditsPer1k: 10, usdPer1M: 10 }, output: { creditsPer1k: 80, usdPer1M: 80 } });
  assert.is(byId['gpt-4o']!.label, 'Advanced');
  const { created: _smallCreated, ...small } = byId[SMALL]!;
  assert.equal(small, {
    id: SMALL,
    object: 'model',
    owned_by: 'tokentab',
    label: 'Search',
    kind: 'embeddings',
    maxOutputTokens: null,
    pricing: { input: { creditsPer1k: 0.2, usdPer1M: 0.2 }, cachedInput: null, output: null },
  });
  assert.is(byId[LARGE]!.label, 'Search Plus');
  assert.equal(byId[LARGE]!.pricing, { input: { creditsPer1k: 1.3, usdPer1M: 1.3 }, cachedInput: null, output: null });

  h.clock.advance(60_000);
  await setRate(h.db, h.clock, { model: SMALL, inputMcPer1k: 250, outputMcPer1k: 0 });
  await setRate(h.db, h.clock, { model: 'gpt-4o-mini', inputMcPer1k: 3_000, outputMcPer1k: 12_500, label: 'Eco 2' });
  const after = Object.fromEntries((await account.client.models.list()).data.map((model) => [model.id, model as unknown as Record<string, unknown>]));
  assert.equal(after[SMALL]!.pricing, { input: { creditsPer1k: 0.25, usdPer1M: 0.25 }, cachedInput: null, output: null });
  assert.is(after[SMALL]!.kind, 'embeddings', 'a new version keeps its kind');
  assert.is(after[SMALL]!.created, Math.floor(h.clock.now() / 1000));
  assert.is(after['gpt-4o-mini']!.label, 'Eco 2');
  assert.equal(after['gpt-4o-mini']!.pricing, { input: { creditsPer1k: 3, usdPer1M: 3 }, cachedInput: { creditsPer1k: 1.2, usdPer1M: 1.2 }, output: { creditsPer1k: 12.5, usdPer1M: 12.5 } });
  // The new embedding rate is charged from the next call.
  const { response } = await account.client.embeddings.create({ model: SMALL, input: 'x' }).withResponse();
  assert.is(response.headers.get('x-credits-charged'), creditsText(priceMc(countTextTokens('x'), 250)));
});

embeddings.run();

// No OPENAI_API_KEY, as `npm start` without keys: the built-in demo model answers.
const demo = gatewaySuite('embeddings from the demo model', { env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: '' } });

demo('the demo model answers embeddings through the same path: deterministic unit vectors, usage counted as the hold counts, charged exactly', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const counted = TEXTS.reduce((sum, text) => sum + countTextTokens(text), 0);
  const { data, response } = await account.client.embeddings.create({ model: LARGE, input: TEXTS }).withResponse();
  assert.is(data.model, LARGE);
  assert.equal(data.usage, { prompt_tokens: counted, total_tokens: counted });
  assert.is(data.data.length, 3);
  const first = data.data[0]!.embedding;
  assert.is(first.length, 3_072);
  assert.ok(Math.abs(Math.hypot(...first) - 1) < 1e-5, 'a unit vector');
  assert.equal(first, Array.from(hashedVector(LARGE, TEXTS[0]!, 3_072)));
  assert.is(response.headers.get('x-credits-charged'), creditsText(priceMc(counted, 1_300)));
  const row = await usageRow(h, response.headers.get('x-request-id')!);
  assert.is(row.endpoint, 'embeddings');
  assert.is(row.estimated, 0);
  assert.is(row.input_tokens, counted);
  assert.ok(row.hold_mc >= row.charged_mc);

  // The same text always gets the same vector; dimensions shorten it; token ids are counted by their number.
  const again = await account.client.embeddings.create({ model: SMALL, input: TEXTS[0]!, dimensions: 8, encoding_format: 'float' });
  assert.equal(again.data[0]!.embedding, Array.from(hashedVector(SMALL, TEXTS[0]!, 8)));
  const tokens = await account.client.embeddings.create({ model: SMALL, input: [[1, 2, 3], [4]] }).withResponse();
  assert.is(tokens.data.usage.prompt_tokens, 4);
  assert.is(tokens.response.headers.get('x-credits-charged'), creditsText(priceMc(4, 200)));
  // Refused before the demo is reached, as for any upstream.
  const refused = await h.post('/v1/embeddings', account.key, { model: SMALL, input: [1, 200_019] });
  assert.is(refused.status, 400);
  assert.is(h.fake.requests.length, 0, 'nothing left the server');
});

demo.run();
