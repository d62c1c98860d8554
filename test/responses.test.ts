// POST /v1/responses over real HTTP (official openai SDK → tokentab → fake upstream, and the demo
// model): exact charges with cached and reasoning tokens, events passed through in order, the input
// counted in the hold, the output limit, refusals, upstream failures, aborts; audit clean after each.
import * as assert from 'uvu/assert';
import OpenAI from 'openai';
import type { ResponseInputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { costMc } from '../src/pricing/cost.ts';
import { holdAmountMc } from '../src/pricing/output-limit.ts';
import { countResponsesInputTokens, countTextTokens, holdInputTokens, responsesInputOf } from '../src/gateway/tokens.ts';
import { demoReplyText } from '../src/gateway/demo-model.ts';
import { FAKE_DEFAULT_TEXT } from './fakes/openai-upstream.ts';
import { slowPieces } from './fakes/responses-answers.ts';
import { rejects, waitFor } from './helpers/assert.ts';
import { parse } from './helpers/app.ts';
import { rateOf } from './helpers/db.ts';
import { sessionCookie } from './helpers/signed-in.ts';
import { balanceOf, usageEntries, usageRow, gatewaySuite, type GatewayHarness } from './helpers/gateway.ts';

const HUNDRED_CREDITS_MC = 100_000_000;
const MODEL = 'gpt-4o-mini';
const QUESTION = 'What does a ledger do?';

type ApiError = InstanceType<typeof OpenAI.APIError> & { error: Record<string, unknown> };

async function collect(stream: AsyncIterable<ResponseStreamEvent>): Promise<ResponseStreamEvent[]> {
  const events: ResponseStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}
const textOf = (events: ResponseStreamEvent[]) => events.map((event) => (event.type === 'response.output_text.delta' ? event.delta : '')).join('');
/** The events the fake wrote, parsed back from its SSE frames. */
const sentEvents = (h: GatewayHarness) => h.fake.lastRequest!.sent.map((frame) => JSON.parse(frame.split('\ndata: ')[1]!) as ResponseStreamEvent);

/** The input tokens of a body as tokentab counts them (the SDK's types are wider than the counter's). */
const inputTokensOf = (body: object) => countResponsesInputTokens(responsesInputOf(body as Parameters<typeof responsesInputOf>[0]));

/** Nothing held, written or sent for a refused call. */
async function assertNothingCharged(h: GatewayHarness, userId: number) {
  assert.is(h.fake.requests.length, 0, 'nothing reached the upstream');
  assert.equal(await h.db.selectFrom('holds').select('id').where('user_id', '=', userId).execute(), [], 'no hold');
  assert.equal(await h.db.selectFrom('usage').select('id').where('user_id', '=', userId).execute(), [], 'no usage row');
  assert.equal(await balanceOf(h, userId), { balance_mc: HUNDRED_CREDITS_MC, held_mc: 0 });
}

/** An upstream failure before any output: voided, listed at 0, the balance untouched. */
async function assertVoided(h: GatewayHarness, requestId: string, userId: number) {
  const row = await usageRow(h, requestId);
  assert.is(row.status, 'upstream_error');
  assert.is(row.charged_mc, 0);
  assert.is(row.endpoint, 'responses');
  const hold = await h.db.selectFrom('holds').select('status').where('request_id', '=', requestId).executeTakeFirstOrThrow();
  assert.is(hold.status, 'voided');
  assert.equal(await usageEntries(h, userId), []);
  assert.equal(await balanceOf(h, userId), { balance_mc: HUNDRED_CREDITS_MC, held_mc: 0 });
}

const responses = gatewaySuite('POST /v1/responses');

responses('non-stream: charged exactly the reported usage, cached input at the cached rate and reasoning as output; the row says responses and its reasoning tokens', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  h.fake.setBehaviour({ kind: 'ok', usage: { prompt_tokens: 2_000, completion_tokens: 1_000, cached_tokens: 1_500, reasoning_tokens: 600 } });
  const { data, response } = await account.client.responses.create({ model: MODEL, input: QUESTION, max_output_tokens: 2_000, reasoning: { effort: 'low' } }).withResponse();
  assert.is(data.output_text, FAKE_DEFAULT_TEXT);
  assert.is(data.usage?.output_tokens_details.reasoning_tokens, 600);
  // 500 × 2,400 + 1,500 × 1,200 + 1,000 × 9,600 = 12,600,000 µc = 12,600 mc; the 600 reasoning tokens are within the 1,000.
  assert.is(response.headers.get('x-credits-charged'), '12.600');
  assert.is(response.headers.get('x-credits-balance'), ((HUNDRED_CREDITS_MC - 12_600) / 1000).toFixed(3));
  const requestId = response.headers.get('x-request-id')!;
  const row = await usageRow(h, requestId);
  assert.equal(
    [row.endpoint, row.status, row.estimated, row.input_tokens, row.cached_input_tokens, row.output_tokens, row.reasoning_tokens, row.charged_mc],
    ['responses', 'ok', 0, 2_000, 1_500, 1_000, 600, 12_600],
  );
  assert.is(row.charged_mc, costMc({ inputTokens: 2_000, cachedInputTokens: 1_500, outputTokens: 1_000 }, await rateOf(h.db, MODEL), 'exact'));
  assert.is(row.upstream_response_id, data.id);
  assert.match(data.id, /^resp_/);
  const entries = await usageEntries(h, account.userId);
  assert.equal(entries.map((entry) => [entry.amount_mc, entry.reference]), [[-12_600, requestId]]);

  // What the upstream got: the fields as sent, the limit, and never a stored response.
  const sent = h.fake.lastRequest!;
  assert.is(sent.path, '/v1/responses');
  assert.equal(sent.body, { model: MODEL, input: QUESTION, max_output_tokens: 2_000, reasoning: { effort: 'low' }, store: false });

  // /v1/usage/{id} and the detail page say the endpoint and the reasoning tokens.
  const record = (await (await fetch(`${h.url}/v1/usage/${requestId}`, { headers: { authorization: `Bearer ${account.key}` } })).json()) as Record<string, unknown>;
  assert.equal([record.endpoint, record.reasoningTokens, record.outputTokens, record.chargedMillicredits], ['responses', 600, 1_000, 12_600]);
  const page = parse(await (await fetch(`${h.url}/credits/usage/${requestId}`, { headers: { cookie: await sessionCookie(h, account.userId) } })).text());
  assert.is(page.querySelector('.usage-detail .endpoint')?.textContent, 'Responses (POST /v1/responses)');
  assert.match(page.querySelector('.usage-detail .reasoning-tokens')?.textContent ?? '', /Of the 1,000 output tokens, 600 were reasoning/);
});

responses('stream: every event passes through in order as the fake sent it, and response.completed’s usage is charged exactly', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  h.fake.setBehaviour({ kind: 'ok', usage: { prompt_tokens: 1_234, completion_tokens: 567, cached_tokens: 200, reasoning_tokens: 100 } });
  const { data, response } = await account.client.responses.create({ model: MODEL, input: QUESTION, max_output_tokens: 1_000, stream: true }).withResponse();
  assert.is(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const events = await collect(data);
  assert.equal(events, sentEvents(h), 'the same events, in the same order');
  assert.equal(
    events.map((event) => event.sequence_number),
    events.map((_, index) => index),
  );
  assert.is(events.at(-1)?.type, 'response.completed');
  assert.ok(events.some((event) => event.type === 'response.output_item.added' && event.item.type === 'reasoning'), 'the reasoning item passed through');
  assert.is(textOf(events), FAKE_DEFAULT_TEXT);
  const row = await usageRow(h, response.headers.get('x-request-id')!);
  // (1,234 − 200) × 2,400 + 200 × 1,200 + 567 × 9,600 = 2,481,600 + 240,000 + 5,443,200 = 8,164,800 µc.
  assert.equal([row.endpoint, row.status, row.estimated, row.output_tokens, row.reasoning_tokens, row.charged_mc], ['responses', 'ok', 0, 567, 100, 8_165]);
  assert.is(row.upstream_response_id, (events.at(-1) as { response: { id: string } }).response.id);
  assert.equal((await usageEntries(h, account.userId)).map((entry) => entry.amount_mc), [-8_165]);
});

responses('the wire bytes are the upstream’s: a whole answer’s JSON, a stream’s events with their event lines; client.responses.stream() gets the final response', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const whole = await h.post('/v1/responses', account.key, { model: MODEL, input: QUESTION, max_output_tokens: 500 });
  assert.is(await whole.text(), h.fake.lastRequest!.sent[0], 'the answer as the upstream sent it (no output_text added)');

  const raw = await h.post('/v1/responses', account.key, { model: MODEL, input: QUESTION, stream: true, max_output_tokens: 500 });
  assert.is(raw.status, 200);
  assert.is(raw.headers.get('x-accel-buffering'), 'no');
  const text = await raw.text();
  assert.is(text, h.fake.lastRequest!.sent.join(''));
  assert.match(text, /^event: response\.created\ndata: \{"type":"response\.created"/);

  const runner = account.client.responses.stream({ model: MODEL, input: QUESTION, max_output_tokens: 500 });
  const deltas: string[] = [];
  runner.on('response.output_text.delta', (event) => deltas.push(event.delta));
  const final = await runner.finalResponse();
  const finalText = final.output.flatMap((item) => (item.type === 'message' ? item.content.map((part) => (part.type === 'output_text' ? part.text : '')) : [])).join('');
  assert.is(finalText, FAKE_DEFAULT_TEXT);
  assert.is(deltas.join(''), FAKE_DEFAULT_TEXT);
  const rows = await h.db.selectFrom('usage').selectAll().where('user_id', '=', account.userId).orderBy('id').execute();
  assert.is(rows.length, 3);
  const inputTokens = await inputTokensOf({ input: QUESTION });
  for (const row of rows) assert.equal([row.status, row.estimated, row.input_tokens, row.output_tokens], ['ok', 0, inputTokens, countTextTokens(FAKE_DEFAULT_TEXT)]);
});

const CITATION = { type: 'url_citation' as const, url: 'https://example.com/ledger', title: 'Ledger', start_index: 0, end_index: 9 };
const CONVERSATION: ResponseInputItem[] = [
  { role: 'developer', content: 'Answer in one sentence.' },
  { role: 'user', content: [{ type: 'input_text', text: 'What is the balance of account 7?' }] },
  { type: 'function_call', call_id: 'call_1', name: 'balance', arguments: '{"account":7}' },
  { type: 'function_call_output', call_id: 'call_1', output: '{"balance_mc":12500}' },
  {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    status: 'completed',
    // An earlier answer sent back as the SDK returned it: its citations and logprobs are not forwarded.
    content: [{ type: 'output_text', text: 'Account 7 holds 12.5 credits.', annotations: [CITATION], logprobs: [] }],
  },
  { role: 'user', content: 'And in dollars?' },
];
const TOOLS = [{ type: 'function' as const, name: 'balance', description: 'An account’s balance', parameters: { type: 'object', properties: { account: { type: 'number' } } }, strict: true }];

responses('a string input and an item list with instructions, tools and a text format: all counted, the hold covers the reported input', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const rate = await rateOf(h.db, MODEL);
  const format = { type: 'json_schema' as const, name: 'answer', schema: { type: 'object', properties: { usd: { type: 'number' } } }, strict: true };
  const cases = [
    { body: { model: MODEL, input: QUESTION, max_output_tokens: 300 } },
    {
      body: {
        model: MODEL,
        instructions: 'You are the bookkeeper of a small credits ledger. Be exact.',
        input: CONVERSATION,
        tools: TOOLS,
        tool_choice: { type: 'function' as const, name: 'balance' },
        parallel_tool_calls: false,
        text: { format, verbosity: 'low' as const },
        temperature: 0.2,
        top_p: 0.9,
        metadata: { ticket: '42' },
        user: 'customer-7',
        truncation: 'disabled' as const,
        max_output_tokens: 300,
      },
    },
  ];
  for (const { body } of cases) {
    // The fake reports the input as the tokenizer counts it: the hold must cover it.
    const { response } = await account.client.responses.create(body).withResponse();
    const row = await usageRow(h, response.headers.get('x-request-id')!);
    const counted = await inputTokensOf(body);
    assert.is(row.input_tokens, counted);
    assert.is(row.hold_mc, holdAmountMc(rate, 'exact', holdInputTokens(counted), 300), 'the hold is the counted input with its margin plus the limit');
    assert.ok(row.hold_mc >= costMc({ inputTokens: row.input_tokens, cachedInputTokens: 0, outputTokens: 300 }, rate, 'exact'));
    assert.is(row.shortfall_mc, 0);
    // Forwarded as checked: the fields as sent, an earlier answer without its citations, store: false.
    const forwarded = typeof body.input === 'string' ? body.input : JSON.parse(JSON.stringify(body.input).replace(`,"annotations":[${JSON.stringify(CITATION)}],"logprobs":[]`, ',"annotations":[]'));
    assert.equal(h.fake.lastRequest!.body, { ...body, input: forwarded, store: false });
  }
  const withInstructions = await inputTokensOf(cases[1]!.body);
  const withoutInstructions = await inputTokensOf({ ...cases[1]!.body, instructions: null });
  assert.ok(withInstructions > withoutInstructions + 10, 'the instructions are counted');
});

responses('a prompt the balance cannot cover is refused with 402 in chat’s shape, naming max_output_tokens; nothing sent', async ({ h }) => {
  const rate = await rateOf(h.db, MODEL);
  const instructions = 'Keep every ledger entry exact. '.repeat(2_000);
  const counted = await inputTokensOf({ input: QUESTION, instructions });
  const withoutInstructions = await inputTokensOf({ input: QUESTION });
  // Enough for the question and its answer, not for the instructions.
  const balanceMc = holdAmountMc(rate, 'exact', holdInputTokens(withoutInstructions), 500);
  const account = await h.account(balanceMc);
  const error = (await rejects(() => account.client.responses.create({ model: MODEL, input: QUESTION, instructions, max_output_tokens: 500 }), OpenAI.APIError)) as ApiError;
  assert.is(error.status, 402);
  assert.equal(Object.keys(error.error).sort(), [
    'code', 'currentCredits', 'currentMillicredits', 'heldCredits', 'maxAffordableOutputTokens', 'message', 'param', 'requiredCredits', 'requiredMillicredits', 'topUpUrl', 'type',
  ]);
  assert.is(error.error.code, 'insufficient_credits');
  assert.is(error.error.requiredMillicredits, holdAmountMc(rate, 'exact', holdInputTokens(counted), 500));
  assert.is(error.error.currentMillicredits, balanceMc);
  assert.match(String(error.error.message), /does not cover even the prompt .*Lower max_output_tokens or top up\./);
  assert.is(h.fake.requests.length, 0);
  assert.equal(await h.db.selectFrom('holds').select('id').where('user_id', '=', account.userId).execute(), []);
});

responses('max_output_tokens is the limit; without it a small balance caps it (x-max-tokens-capped), sent upstream as max_output_tokens, stream and non-stream', async ({ h }) => {
  const rate = await rateOf(h.db, MODEL);
  const holdInput = holdInputTokens(await inputTokensOf({ input: QUESTION }));
  const rich = await h.account(HUNDRED_CREDITS_MC);
  const given = await rich.client.responses.create({ model: MODEL, input: QUESTION, max_output_tokens: 700 }).withResponse();
  assert.is(given.response.headers.get('x-max-tokens-capped'), null);
  assert.is(h.fake.lastRequest!.body.max_output_tokens, 700);
  const unasked = await rich.client.responses.create({ model: MODEL, input: QUESTION }).withResponse();
  assert.is(unasked.response.headers.get('x-max-tokens-capped'), null, 'a rich account is not capped');
  assert.is(h.fake.lastRequest!.body.max_output_tokens, rate.max_output_tokens, 'the model’s maximum is sent: the hold’s bound');

  const small = await h.account(holdAmountMc(rate, 'exact', holdInput, 1_000) + 5);
  const capped = await small.client.responses.create({ model: MODEL, input: QUESTION }).withResponse();
  assert.is(capped.response.headers.get('x-max-tokens-capped'), '1000');
  assert.is(h.fake.lastRequest!.body.max_output_tokens, 1_000);
  const smaller = await h.account(holdAmountMc(rate, 'exact', holdInput, 300));
  const stream = await smaller.client.responses.create({ model: MODEL, input: QUESTION, stream: true }).withResponse();
  assert.is(stream.response.headers.get('x-max-tokens-capped'), '300');
  await collect(stream.data);
  assert.is(h.fake.lastRequest!.body.max_output_tokens, 300);
  const tooMuch = (await rejects(() => smaller.client.responses.create({ model: MODEL, input: QUESTION, max_output_tokens: 100_000 }), OpenAI.BadRequestError)) as ApiError;
  assert.is(tooMuch.param, 'max_output_tokens', 'above the model’s maximum');
});

responses('an answer cut at max_output_tokens (response.incomplete) is charged as reported, stream and non-stream', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  h.fake.setBehaviour({ kind: 'ok', ending: 'incomplete', usage: { prompt_tokens: 100, completion_tokens: 64 } });
  const whole = await account.client.responses.create({ model: MODEL, input: QUESTION, max_output_tokens: 64 }).withResponse();
  assert.is(whole.data.status, 'incomplete');
  const stream = await account.client.responses.create({ model: MODEL, input: QUESTION, max_output_tokens: 64, stream: true }).withResponse();
  const events = await collect(stream.data);
  assert.is(events.at(-1)?.type, 'response.incomplete');
  for (const { response } of [whole, stream]) {
    const row = await usageRow(h, response.headers.get('x-request-id')!);
    assert.equal([row.status, row.estimated, row.input_tokens, row.output_tokens], ['ok', 0, 100, 64]);
  }
});

responses('previous_response_id, conversation, store: true, background, prompt, an unknown field, an image by file_id, a hosted tool, a reasoning item: 400 naming the param, nothing charged', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const base = { model: MODEL, input: QUESTION } as const;
  const refusals: [Record<string, unknown>, string, string | null][] = [
    [{ ...base, previous_response_id: 'resp_123' }, 'previous_response_id', 'unsupported_parameter'],
    [{ ...base, conversation: 'conv_123' }, 'conversation', 'unsupported_parameter'],
    [{ ...base, store: true }, 'store', 'unsupported_parameter'],
    [{ ...base, background: true }, 'background', 'unsupported_parameter'],
    [{ ...base, prompt: { id: 'pmpt_1' } }, 'prompt', 'unsupported_parameter'],
    [{ ...base, frequency_penalty: 1 }, 'frequency_penalty', 'unknown_parameter'],
    [{ ...base, input: [{ role: 'user', content: 'hi', cache_control: {} }] }, 'input[0].cache_control', 'unknown_parameter'],
    [{ ...base, input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file_1', detail: 'auto' }] }] }, 'input[0].content[0].file_id', 'unsupported_content'],
    [{ ...base, input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file_1' }] }] }, 'input[0].content[0]', 'unsupported_content'],
    [{ ...base, input: [{ type: 'reasoning', id: 'rs_1', summary: [] }] }, 'input[0]', 'unsupported_content'],
    [{ ...base, input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0]', 'unsupported_content'],
    [{ ...base, tools: [{ type: 'web_search' }] }, 'tools[0]', 'unsupported_parameter'],
    [{ ...base, include: ['file_search_call.results'] }, 'include[0]', 'unsupported_parameter'],
    [{ ...base, service_tier: 'priority' }, 'service_tier', 'unsupported_parameter'],
    [{ ...base, tools: TOOLS, tool_choice: { type: 'function', name: 'transfer' } }, 'tool_choice', null],
    [{ ...base, input: [] }, 'input', null],
    [{ ...base, input: 5 }, 'input', null],
    [{ ...base, temperature: 3 }, 'temperature', null],
    [{ ...base, max_output_tokens: 0 }, 'max_output_tokens', null],
    [{ ...base, stream_options: { include_obfuscation: false } }, 'stream_options', null],
    [{ ...base, model: 'text-embedding-3-small' }, 'model', 'model_not_found'],
  ];
  for (const [body, param, code] of refusals) {
    const error = (await rejects(() => account.client.responses.create(body as never), OpenAI.BadRequestError)) as ApiError;
    assert.is(error.param, param, JSON.stringify(body));
    assert.is(error.code ?? null, code, param);
  }
  const storeError = (await rejects(() => account.client.responses.create({ ...base, store: true }), OpenAI.BadRequestError)) as ApiError;
  assert.match(storeError.message, /responses are not stored/);
  await assertNothingCharged(h, account.userId);
});

responses('upstream 500 before any output: voided, nothing charged, stream and non-stream; a whole answer reported failed likewise', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  for (const stream of [false, true]) {
    h.fake.setBehaviour({ kind: 'error', status: 500 });
    const response = await h.post('/v1/responses', account.key, { model: MODEL, input: QUESTION, stream });
    assert.is(response.status, 502);
    assert.is(((await response.json()) as { error: { code: string } }).error.code, 'upstream_error');
    await assertVoided(h, response.headers.get('x-request-id')!, account.userId);
  }
  h.fake.setBehaviour({ kind: 'ok', ending: 'failed', usage: { prompt_tokens: 100, completion_tokens: 10 } });
  const failed = await h.post('/v1/responses', account.key, { model: MODEL, input: QUESTION });
  assert.is(failed.status, 502);
  assert.is(((await failed.json()) as { error: { code: string } }).error.code, 'upstream_failed');
  await assertVoided(h, failed.headers.get('x-request-id')!, account.userId);
});

responses('a stream the upstream fails after some text (response.failed, an error event, a broken connection): charged input + the text received, estimated; the client is told once', async ({ h }) => {
  const rate = await rateOf(h.db, MODEL);
  const inputTokens = await inputTokensOf({ input: QUESTION });
  const cases = [
    { behaviour: { kind: 'ok', ending: 'failed' } as const, text: FAKE_DEFAULT_TEXT, last: 'response.failed' },
    { behaviour: { kind: 'ok', ending: 'error' } as const, text: FAKE_DEFAULT_TEXT, last: 'error' },
    { behaviour: { kind: 'partial-then-error', chunks: 3 } as const, text: slowPieces(3).join(''), last: 'error' },
  ];
  for (const { behaviour, text, last } of cases) {
    const account = await h.account(HUNDRED_CREDITS_MC);
    h.fake.setBehaviour(behaviour);
    const raw = await h.post('/v1/responses', account.key, { model: MODEL, input: QUESTION, stream: true, max_output_tokens: 500 });
    const body = await raw.text();
    const events = body.split('\n\n').filter(Boolean).map((frame) => JSON.parse(frame.split('\ndata: ')[1]!) as ResponseStreamEvent);
    assert.is(events.at(-1)?.type, last);
    assert.is(events.filter((event) => event.type === 'error' || event.type === 'response.failed').length, 1, 'one failure event, no second one from tokentab');
    if (behaviour.kind === 'partial-then-error') {
      // tokentab's own error event, numbered after the last one that came, in OpenAI's shape.
      const lastEvent = events.at(-1) as { code: string; sequence_number: number; message: string; param: null };
      assert.is(lastEvent.code, 'upstream_connection_lost');
      assert.is(lastEvent.sequence_number, events.at(-2)!.sequence_number + 1);
    } else {
      assert.is(body, h.fake.lastRequest!.sent.join(''), 'the upstream’s own failure event, as it was');
    }
    const row = await usageRow(h, raw.headers.get('x-request-id')!);
    const outputTokens = countTextTokens(text);
    assert.equal([row.endpoint, row.status, row.estimated, row.input_tokens, row.cached_input_tokens, row.output_tokens], ['responses', 'upstream_error', 1, inputTokens, 0, outputTokens]);
    assert.is(row.charged_mc, costMc({ inputTokens, cachedInputTokens: 0, outputTokens }, rate, 'exact'));
  }
});

responses('a client that leaves mid-stream: upstream aborted, charged input in full + the output delivered, estimated, aborted', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const rate = await rateOf(h.db, MODEL);
  h.fake.setBehaviour({ kind: 'slow-stream', chunks: 12, chunkDelayMs: 60 });
  const { data, response } = await account.client.responses.create({ model: MODEL, input: QUESTION, stream: true, max_output_tokens: 500 }).withResponse();
  let deltas = 0;
  for await (const event of data) {
    if (event.type === 'response.output_text.delta' && ++deltas === 3) data.controller.abort();
  }
  await h.fake.waitForAborted(1);
  const row = await usageRow(h, response.headers.get('x-request-id')!);
  const inputTokens = await inputTokensOf({ input: QUESTION });
  const possible = [3, 4, 5, 6].map((count) => countTextTokens(slowPieces(count).join('')));
  assert.equal([row.status, row.estimated, row.input_tokens, row.cached_input_tokens], ['aborted', 1, inputTokens, 0]);
  assert.ok(possible.includes(row.output_tokens), `output ${row.output_tokens} is what was delivered (${possible.join(', ')})`);
  assert.is(row.charged_mc, costMc({ inputTokens, cachedInputTokens: 0, outputTokens: row.output_tokens }, rate, 'exact'));
  await waitFor(() => h.gateway.inFlight.size === 0, 'the call to end');
});

responses('a client that leaves a non-streamed call: it runs to its end upstream and is charged the reported usage, not estimated', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  h.fake.setBehaviour({ kind: 'held', usage: { prompt_tokens: 1_234, completion_tokens: 3_210, cached_tokens: 200, reasoning_tokens: 3_000 } });
  const controller = new AbortController();
  const pending = h.post('/v1/responses', account.key, { model: MODEL, input: QUESTION, max_output_tokens: 4_000 }, { signal: controller.signal }).catch((error: Error) => error);
  await waitFor(() => h.fake.held === 1, 'the upstream call');
  const goneBefore = h.clientsGone();
  controller.abort();
  assert.is(((await pending) as Error).name, 'AbortError');
  await waitFor(() => h.clientsGone() === goneBefore + 1, 'tokentab to see the client leave');
  assert.is(h.fake.release(), 1);
  await waitFor(() => h.gateway.inFlight.size === 0, 'the call to settle');
  assert.is(h.fake.aborted, 0, 'the upstream finished its answer');
  const row = (await h.db.selectFrom('usage').selectAll().where('user_id', '=', account.userId).executeTakeFirstOrThrow());
  assert.equal([row.status, row.estimated, row.input_tokens, row.cached_input_tokens, row.output_tokens, row.reasoning_tokens], ['aborted', 0, 1_234, 200, 3_210, 3_000]);
  // (1,234 − 200) × 2,400 + 200 × 1,200 + 3,210 × 9,600 = 33,537,600 µc → 33,538 mc.
  assert.is(row.charged_mc, 33_538);
});

responses.run();

// No OPENAI_API_KEY: the built-in demo model answers, through the same metering path.
const demo = gatewaySuite('POST /v1/responses, demo model', { env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: '' } });

demo('the demo model answers /v1/responses, streamed or not, charged for the usage it reports; a limit cuts it (incomplete)', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const input = [{ role: 'user' as const, content: QUESTION }];
  const reply = demoReplyText('gpt-4o', input);
  const whole = await account.client.responses.create({ model: 'gpt-4o', instructions: 'Be brief.', input }).withResponse();
  assert.is(whole.data.output_text, reply);
  assert.match(whole.data.id, /^resp_demo_/);
  const row = await usageRow(h, whole.response.headers.get('x-request-id')!);
  assert.equal(
    [row.endpoint, row.status, row.estimated, row.input_tokens, row.output_tokens],
    ['responses', 'ok', 0, await inputTokensOf({ instructions: 'Be brief.', input }), countTextTokens(reply)],
  );
  assert.is(whole.response.headers.get('x-credits-charged'), (row.charged_mc / 1000).toFixed(3));

  const stream = await account.client.responses.create({ model: 'gpt-4o-mini', input: QUESTION, stream: true }).withResponse();
  const events = await collect(stream.data);
  assert.is(textOf(events), demoReplyText('gpt-4o-mini', input));
  const completed = events.at(-1);
  assert.is(completed?.type, 'response.completed');
  const streamRow = await usageRow(h, stream.response.headers.get('x-request-id')!);
  assert.is(completed?.type === 'response.completed' ? completed.response.usage?.output_tokens : -1, streamRow.output_tokens);
  assert.equal([streamRow.status, streamRow.estimated], ['ok', 0]);

  const cut = await account.client.responses.create({ model: 'gpt-4o-mini', input: QUESTION, max_output_tokens: 16 });
  assert.is(cut.status, 'incomplete');
  assert.is(cut.usage?.output_tokens, 16);
  assert.is(h.fake.requests.length, 0, 'nothing left the server');
});

demo.run();
