// What reaches the upstream is what the hold counted: only the checked fields are forwarded, the
// predicted output is counted, what can't be priced is refused with its param, malformed bodies
// get a 400 (never a 500 or 502), and a body over the API's limit is an OpenAI-shaped 413.
import * as assert from 'uvu/assert';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { countChatInputTokens, holdInputTokens } from '../src/gateway/tokens.ts';
import { holdAmountMc } from '../src/pricing/output-limit.ts';
import { rejects } from './helpers/assert.ts';
import { rateOf } from './helpers/db.ts';
import { balanceOf, usageEntries, gatewaySuite, type Account, type GatewayHarness } from './helpers/gateway.ts';

const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Rewrite this function to use a ledger.' }];
const HUNDRED_CREDITS_MC = 100_000_000;

const wire = gatewaySuite('gateway wire');

interface ErrorAnswer {
  status: number;
  error: { message: string; type: string; code: string | null; param: string | null };
}

async function errorOf(response: Response): Promise<ErrorAnswer> {
  const text = await response.text();
  let body: { error?: ErrorAnswer['error'] };
  try {
    body = JSON.parse(text) as { error?: ErrorAnswer['error'] };
  } catch {
    throw new Error(`not JSON (status ${response.status}): ${text.slice(0, 200)}`);
  }
  if (!body.error) throw new Error(`no error in the answer (status ${response.status}): ${text.slice(0, 200)}`);
  return { status: response.status, error: body.error };
}

/** Nothing was reserved, charged, written or sent for this account. */
async function assertUntouched(h: GatewayHarness, account: Account, balanceMc: number) {
  assert.is(h.fake.requests.length, 0, 'nothing reached the upstream');
  assert.is((await h.db.selectFrom('holds').select('id').where('user_id', '=', account.userId).execute()).length, 0, 'no hold');
  assert.is((await h.db.selectFrom('usage').select('id').where('user_id', '=', account.userId).execute()).length, 0, 'no usage row');
  assert.is((await usageEntries(h, account.userId)).length, 0, 'no ledger entry');
  assert.equal(await balanceOf(h, account.userId), { balance_mc: balanceMc, held_mc: 0 });
}

wire('the upstream receives only the checked fields: nulls and reply annotations left out, the output limit and include_usage set here', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const body = {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'developer', content: 'Answer briefly.' },
      { role: 'user', content: [{ type: 'text', text: 'What is the weather in Paris?' }] },
      {
        role: 'assistant',
        content: null,
        refusal: null,
        annotations: [],
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'It is 18 °C.' },
    ],
    max_completion_tokens: 80,
    stream: true,
    stream_options: { include_usage: false, include_obfuscation: null },
    temperature: 0.2,
    top_p: null,
    stop: ['\n\n'],
    seed: 7,
    user: 'customer-42',
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    parallel_tool_calls: false,
    service_tier: 'default',
    store: false,
    metadata: { team: 'billing' },
  };
  const response = await h.post('/v1/chat/completions', account.key, body);
  assert.is(response.status, 200);
  await response.text();
  const sent = h.fake.lastRequest!.body;
  assert.equal(Object.keys(sent).sort(), [
    'max_completion_tokens', 'messages', 'metadata', 'model', 'parallel_tool_calls', 'seed', 'service_tier', 'stop', 'store', 'stream',
    'stream_options', 'temperature', 'tool_choice', 'tools', 'user',
  ]);
  assert.is(sent.max_completion_tokens, 80);
  assert.equal(sent.stream_options, { include_usage: true });
  assert.equal(sent.messages[2], { role: 'assistant', tool_calls: body.messages[2]!.tool_calls }, 'the reply annotations and nulls are not forwarded');
  assert.equal(sent.tools, body.tools);
});

wire('an embedding model is refused on chat completions with a 400 naming the model; nothing is sent or charged', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const refused = await errorOf(await h.post('/v1/chat/completions', account.key, { model: 'text-embedding-3-small', messages: [{ role: 'user', content: 'Hi' }] }));
  assert.is(refused.status, 400);
  assert.is(refused.error.param, 'model');
  assert.match(refused.error.message, /embedding model: call POST \/v1\/embeddings/);
  await assertUntouched(h, account, HUNDRED_CREDITS_MC);
});

wire('an unknown field is a 400 unknown_parameter naming it, at the top or inside a message; nothing is sent or charged', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const cases: [unknown, string][] = [
    [{ model: 'gpt-4o-mini', messages, max_tokens: 50, frequency_penalty_x: 1 }, 'frequency_penalty_x'],
    [{ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi', cache_control: { type: 'ephemeral' } }], max_tokens: 50 }, 'messages[0].cache_control'],
    [{ model: 'gpt-4o-mini', messages, max_tokens: 50, extra_body: JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`) }, 'extra_body'],
  ];
  for (const [body, param] of cases) {
    const answer = await errorOf(await h.post('/v1/chat/completions', account.key, body));
    assert.is(answer.status, 400);
    assert.is(answer.error.code, 'unknown_parameter');
    assert.is(answer.error.param, param);
    assert.match(answer.error.message, new RegExp(`Unknown parameter '${param.replace(/[[\].]/g, '\\$&')}'`));
  }
  await assertUntouched(h, account, HUNDRED_CREDITS_MC);
});

wire('what can’t be priced yet is refused with its param: service tiers other than auto/default, web search, audio, stored completions', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const cases: [Record<string, unknown>, string, string][] = [
    [{ service_tier: 'priority' }, 'service_tier', 'unsupported_parameter'],
    [{ service_tier: 'flex' }, 'service_tier', 'unsupported_parameter'],
    [{ web_search_options: { search_context_size: 'low' } }, 'web_search_options', 'unsupported_parameter'],
    [{ audio: { voice: 'alloy', format: 'mp3' } }, 'audio', 'unsupported_content'],
    [{ store: true }, 'store', 'unsupported_parameter'],
    [{ prompt_cache_retention: '24h' }, 'prompt_cache_retention', 'unsupported_parameter'],
  ];
  for (const [extra, param, code] of cases) {
    const answer = await errorOf(await h.post('/v1/chat/completions', account.key, { model: 'gpt-4o-mini', messages, max_tokens: 50, ...extra }));
    assert.is(answer.status, 400, param);
    assert.is(answer.error.param, param);
    assert.is(answer.error.code, code);
    assert.match(answer.error.message, /not supported|only be false/);
  }
  // Through the SDK: a BadRequestError naming the field.
  const error = await rejects(() => account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 50, service_tier: 'priority' }), OpenAI.BadRequestError);
  assert.is((error as InstanceType<typeof OpenAI.BadRequestError>).param, 'service_tier');
  await assertUntouched(h, account, HUNDRED_CREDITS_MC);

  // auto and default are forwarded as given.
  for (const tier of ['auto', 'default'] as const) {
    await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 50, service_tier: tier });
    assert.is(h.fake.lastRequest!.body.service_tier, tier);
  }
});

wire('a 900 KB prediction is counted as input: a balance that covers the messages alone is refused with 402, and a paid call leaves no shortfall', async ({ h }) => {
  const rate = await rateOf(h.db, 'gpt-4o-mini');
  const predicted = 'const total = ledger.entries.reduce((sum, entry) => sum + entry.amount_mc, 0);\n'.repeat(12_000);
  assert.ok(predicted.length > 900_000);
  const prediction = { type: 'content' as const, content: predicted };
  const withoutPredictionMc = holdAmountMc(rate, 'exact', holdInputTokens(await countChatInputTokens({ messages })), 100);
  const countedTokens = await countChatInputTokens({ messages, prediction });
  const withPredictionMc = holdAmountMc(rate, 'exact', holdInputTokens(countedTokens), 100);
  assert.ok(withPredictionMc > withoutPredictionMc + 100_000, 'the prediction is a large part of the hold');

  const short = await h.account(withoutPredictionMc + 1_000);
  const refused = await errorOf(await h.post('/v1/chat/completions', short.key, { model: 'gpt-4o-mini', messages, max_tokens: 100, prediction }));
  assert.is(refused.status, 402);
  assert.is(refused.error.code, 'insufficient_credits');
  await assertUntouched(h, short, withoutPredictionMc + 1_000);

  // The upstream reports the prediction's tokens among the prompt's: the hold covered them.
  const paying = await h.account(withPredictionMc);
  h.fake.setBehaviour({ kind: 'ok', usage: { prompt_tokens: countedTokens, completion_tokens: 100 } });
  const { response } = await paying.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 100, prediction }).withResponse();
  assert.equal(h.fake.lastRequest!.body.prediction, prediction);
  const hold = await h.db.selectFrom('holds').select('amount_mc').where('request_id', '=', response.headers.get('x-request-id')!).executeTakeFirstOrThrow();
  assert.is(hold.amount_mc, withPredictionMc);
  const usage = await h.db.selectFrom('usage').select(['shortfall_mc', 'charged_mc']).where('request_id', '=', response.headers.get('x-request-id')!).executeTakeFirstOrThrow();
  assert.is(usage.shortfall_mc, 0);
  assert.ok(usage.charged_mc <= withPredictionMc);
});

/** A body as JSON text: a small call plus `field` holding `json`. */
function withRawField(field: string, json: string): string {
  return `{"model":"gpt-4o-mini","messages":${JSON.stringify(messages)},"${field}":${json}}`;
}

/** The bodies that answered 500 or 502: each is a 400 naming the field. */
const NAMED_CASES: [string, unknown, string][] = [
  ['refusal: 123', { model: 'gpt-4o-mini', messages: [...messages, { role: 'assistant', content: 'No.', refusal: 123 }] }, 'messages[1].refusal'],
  ["a message's function_call: \"zz\"", { model: 'gpt-4o-mini', messages: [...messages, { role: 'assistant', function_call: 'zz' }] }, 'messages[1].function_call'],
  ['function_call: "zz"', { model: 'gpt-4o-mini', messages, functions: [{ name: 'lookup' }], function_call: 'zz' }, 'function_call'],
  ["function_call without 'arguments'", { model: 'gpt-4o-mini', messages: [...messages, { role: 'assistant', function_call: { name: 'lookup' } }] }, 'messages[1].function_call.arguments'],
  [
    'a custom tool call with function fields',
    { model: 'gpt-4o-mini', messages: [...messages, { role: 'assistant', tool_calls: [{ id: 'call_1', type: 'custom', function: { name: 'f', arguments: '{}' } }] }] },
    'messages[1].tool_calls[0].custom',
  ],
  [
    'a custom tool call whose input is not text',
    { model: 'gpt-4o-mini', messages: [...messages, { role: 'assistant', tool_calls: [{ id: 'call_1', type: 'custom', custom: { name: 'f', input: { sql: 1 } } }] }] },
    'messages[1].tool_calls[0].custom.input',
  ],
  ['a tool call of another type', { model: 'gpt-4o-mini', messages: [...messages, { role: 'assistant', tool_calls: [{ id: 'call_1', type: 'mcp', server: 'x' }] }] }, 'messages[1].tool_calls[0].type'],
  ['a function tool call with numeric arguments', { model: 'gpt-4o-mini', messages: [...messages, { role: 'assistant', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: 5 } }] }] }, 'messages[1].tool_calls[0].function.arguments'],
  ['a tool without a function', { model: 'gpt-4o-mini', messages, tools: [{ type: 'function' }] }, 'tools[0].function'],
  ['a tool whose parameters are a string', { model: 'gpt-4o-mini', messages, tools: [{ type: 'function', function: { name: 'f', parameters: 'none' } }] }, 'tools[0].function.parameters'],
  // Sent as JSON text: JSON.stringify itself overflows on them.
  ['50,000-deep nested tools', withRawField('tools', `${'['.repeat(50_000)}${']'.repeat(50_000)}`), 'tools'],
  ['50,000-deep tool parameters', withRawField('tools', `[{"type":"function","function":{"name":"f","parameters":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}}]`), 'tools'],
  ['a deeply nested unknown field', withRawField('zz', `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`), 'zz'],
  ['a deeply nested message content', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: JSON.parse(`${'['.repeat(70)}${']'.repeat(70)}`) }] }, 'messages'],
  ['3,000 messages', { model: 'gpt-4o-mini', messages: Array.from({ length: 3_000 }, () => messages[0]) }, 'messages'],
  ['200 tools', { model: 'gpt-4o-mini', messages, tools: Array.from({ length: 200 }, (_, index) => ({ type: 'function', function: { name: `f${index}` } })) }, 'tools'],
  ['5 stop sequences', { model: 'gpt-4o-mini', messages, stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
  ['2,000 logit_bias entries', { model: 'gpt-4o-mini', messages, logit_bias: Object.fromEntries(Array.from({ length: 2_000 }, (_, index) => [String(index), 1])) }, 'logit_bias'],
  ['tool_choice naming a tool not given', { model: 'gpt-4o-mini', messages, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function', function: { name: 'g' } } }, 'tool_choice'],
];

wire('malformed bodies the issue names answer 400 with param, never 500 or 502; nothing reserved, charged or sent', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  for (const [name, body, param] of NAMED_CASES) {
    const answer = await errorOf(await h.post('/v1/chat/completions', account.key, body));
    assert.is(answer.status, 400, name);
    assert.is(answer.error.type, 'invalid_request_error', name);
    assert.is(answer.error.param, param, name);
    assert.ok(answer.error.message.includes(`'${param}'`), `${name}: the message names the field`);
  }
  for (const line of h.logLines) assert.not.match(line, /RangeError|stack/i, 'no error reached the log');
  await assertUntouched(h, account, HUNDRED_CREDITS_MC);
});

wire('a body over 4 MB is an OpenAI-shaped 413 that the official SDK raises as an APIError with its message', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const raw = await h.post('/v1/chat/completions', account.key, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(4 * 1024 * 1024) }] });
  assert.is(raw.status, 413);
  assert.match(raw.headers.get('content-type') ?? '', /^application\/json/);
  // The rest of the body is not read: the connection is not kept for a next request.
  assert.is(raw.headers.get('connection'), 'close');
  const answer = await errorOf(raw);
  assert.equal(answer.error, { message: 'The request body is too large: the API takes at most 4 MB.', type: 'invalid_request_error', code: 'request_too_large', param: null });

  const error = await rejects(
    () => account.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'y'.repeat(4 * 1024 * 1024 + 1) }] }),
    OpenAI.APIError,
  );
  const apiError = error as InstanceType<typeof OpenAI.APIError>;
  assert.is(apiError.status, 413);
  assert.is(apiError.code, 'request_too_large');
  assert.is(apiError.type, 'invalid_request_error');
  assert.match(apiError.message, /^413 The request body is too large: the API takes at most 4 MB\.$/);
  await assertUntouched(h, account, HUNDRED_CREDITS_MC);

  // Just under the limit is accepted (and metered) like any call, right after the refusals.
  const underLimit = 'word '.repeat(700_000);
  const { data } = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: underLimit }], max_tokens: 20 }).withResponse();
  assert.ok(data.choices[0]?.message.content);
});

/** A body sent in chunks with no Content-Length (Transfer-Encoding: chunked), as a streaming client sends it. */
function chunkedBody(text: string): RequestInit {
  const bytes = new TextEncoder().encode(text);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < bytes.length; at += 64 * 1024) controller.enqueue(bytes.subarray(at, at + 64 * 1024));
      controller.close();
    },
  });
  return { body, duplex: 'half' } as RequestInit;
}

wire('a body with no Content-Length (chunked) is counted as it comes: over 4 MB a 413, under it metered like any call', async ({ h }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const over = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(4 * 1024 * 1024) }] });
  const refused = await h.post('/v1/chat/completions', account.key, null, chunkedBody(over));
  assert.is(refused.status, 413);
  assert.is((await errorOf(refused)).error.code, 'request_too_large');
  await assertUntouched(h, account, HUNDRED_CREDITS_MC);

  const under = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 20 });
  const answered = await h.post('/v1/chat/completions', account.key, null, chunkedBody(under));
  assert.is(answered.status, 200);
  assert.ok(((await answered.json()) as { choices: unknown[] }).choices.length > 0);
  assert.ok((await balanceOf(h, account.userId)).balance_mc < HUNDRED_CREDITS_MC, 'the chunked call was charged');
});

wire.run();
