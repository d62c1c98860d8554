// Token counting for holds: o200k_base counts pinned by hand, chat and Responses framing, tools, the margin rule.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decode, encode } from 'gpt-tokenizer/encoding/o200k_base';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { countChatInputTokens, countResponsesInputTokens, countTextTokens, holdInputTokens, responsesInputOf, splitTextByTokens, truncateTextToTokens } from '../src/gateway/tokens.ts';

const user = (content: string) => ({ role: 'user', content });

test('simple strings have the o200k_base counts pinned from the encoder', () => {
  assert.is(countTextTokens(''), 0);
  assert.is(countTextTokens('Hello'), 1);
  assert.is(countTextTokens('Hello, world!'), 4); // Hello | , | world | !
  assert.is(countTextTokens('The quick brown fox jumps over the lazy dog.'), 10);
  assert.is(countTextTokens('You are a helpful assistant.'), 6);
  assert.is(countTextTokens('What is 2 + 2?'), 8);
  assert.equal(encode('Hello, world!'), [13225, 11, 2375, 0], 'the encoding really is o200k_base');
});

test('text that spells a special token is counted as plain text, not refused', async () => {
  // gpt-tokenizer throws "Disallowed special token" by default; a user's text is only text.
  assert.is(countTextTokens('<|endoftext|>'), 7);
  assert.is(await countChatInputTokens({ messages: [user('<|im_start|>')] }), 3 + 1 + countTextTokens('<|im_start|>') + 3);
});

test('each message adds 3 tokens of framing plus its role and content; the reply is primed with 3', async () => {
  // The cookbook's known case: one user message "Hello" is 3 + 1 (user) + 1 (Hello) + 3 = 8.
  assert.is(await countChatInputTokens({ messages: [user('Hello')] }), 8);
  // system "You are a helpful assistant." (3 + 1 + 6) + user "What is 2 + 2?" (3 + 1 + 8) + 3 = 25.
  const two = { messages: [{ role: 'system', content: 'You are a helpful assistant.' }, user('What is 2 + 2?')] };
  assert.is(await countChatInputTokens(two), 25);
  // Every further message adds at least its framing.
  const three = { messages: [...two.messages, { role: 'assistant', content: '4' }] };
  assert.is((await countChatInputTokens(three)) - (await countChatInputTokens(two)), 3 + countTextTokens('assistant') + countTextTokens('4'));
  // An empty message still costs its framing and role.
  assert.is(await countChatInputTokens({ messages: [user('')] }), 3 + 1 + 0 + 3);
});

test('a Responses input is framed as chat messages: a string input is one user message, instructions a system message', async () => {
  // "Hello": 3 + 1 (user) + 1 (Hello) + 3 = 8, as the same chat message.
  assert.is(await countResponsesInputTokens(responsesInputOf({ input: 'Hello' })), 8);
  assert.is(await countResponsesInputTokens(responsesInputOf({ input: [{ role: 'user', content: [{ type: 'input_text', text: 'Hello' }] }] })), 8);
  // Instructions "You are a helpful assistant." (3 + 1 + 6) + user "What is 2 + 2?" (3 + 1 + 8) + 3 = 25, as chat's system message.
  assert.is(await countResponsesInputTokens(responsesInputOf({ instructions: 'You are a helpful assistant.', input: 'What is 2 + 2?' })), 25);
});

test('a Responses tool call counts its id, name and arguments; its output its id and text; tools and the text format as JSON', async () => {
  const base = await countResponsesInputTokens(responsesInputOf({ input: 'Hello' }));
  const call = { type: 'function_call', call_id: 'call_1', name: 'balance', arguments: '{"account":7}' };
  const output = { type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: '{"balance_mc":12500}' }] };
  const custom = { type: 'custom_tool_call', call_id: 'call_2', name: 'sql', input: 'select 1' };
  const withItems = await countResponsesInputTokens(responsesInputOf({ input: [{ role: 'user', content: 'Hello' }, call, output, custom] }));
  const expected = [call.call_id, call.name, call.arguments, output.call_id, output.output[0]!.text, custom.call_id, custom.name, custom.input].map(countTextTokens);
  assert.is(withItems - base, 3 * 3 + expected.reduce((sum, tokens) => sum + tokens, 0));
  const tools = [{ type: 'function', name: 'balance', parameters: { type: 'object' } }];
  const format = { type: 'json_schema', name: 'answer', schema: { type: 'object' } };
  const withTools = await countResponsesInputTokens(responsesInputOf({ input: 'Hello', tools, text: { format } }));
  assert.is(withTools - base, countTextTokens(JSON.stringify(tools)) + countTextTokens(JSON.stringify(format)));
});

test('a name costs its tokens plus 1', async () => {
  const named = await countChatInputTokens({ messages: [{ role: 'user', content: 'What is 2 + 2?', name: 'ada' }] });
  const anonymous = await countChatInputTokens({ messages: [user('What is 2 + 2?')] });
  assert.is(named - anonymous, countTextTokens('ada') + 1);
});

test('content given as text parts counts the same as the joined text', async () => {
  const parts = await countChatInputTokens({ messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }, { type: 'text', text: ', world!' }] }] });
  assert.is(parts, 3 + 1 + countTextTokens('Hello') + countTextTokens(', world!') + 3);
  assert.is(parts, 3 + 1 + countTextTokens('Hello, world!') + 3);
  assert.is(parts, 11);
});

test('assistant tool calls count their function name and arguments; tool results their content', async () => {
  const messages = [
    user('Weather in Paris?'),
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: 'It is 18 °C.' },
  ];
  const expected =
    3 + 1 + countTextTokens('Weather in Paris?') +
    3 + countTextTokens('assistant') + countTextTokens('get_weather') + countTextTokens('{"city":"Paris"}') +
    3 + countTextTokens('tool') + countTextTokens('It is 18 °C.') +
    3;
  assert.is(await countChatInputTokens({ messages }), expected);
  assert.is(countTextTokens('get_weather') + countTextTokens('{"city":"Paris"}'), 2 + 5);
});

test('tools and response_format are counted as their JSON', async () => {
  const messages = [user('Weather in Paris?')];
  const base = await countChatInputTokens({ messages });
  const tools = [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Weather for a city',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    },
  ];
  assert.is(await countChatInputTokens({ messages, tools }), base + 41);
  assert.is(countTextTokens(JSON.stringify(tools)), 41);
  const responseFormat = { type: 'json_object' };
  assert.is(await countChatInputTokens({ messages, response_format: responseFormat }), base + 6);
  assert.is(await countChatInputTokens({ messages, tools, response_format: responseFormat }), base + 41 + 6);
  assert.is(await countChatInputTokens({ messages, tools: [] }), base, 'an empty tools list adds nothing');
});

test("the openai SDK's own request type is accepted as it is", async () => {
  const request: ChatCompletionCreateParams = {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'developer', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Hello' }] },
    ],
    response_format: { type: 'text' },
  };
  assert.ok((await countChatInputTokens(request)) > 8);
});

test('a long message resent with one word changed is counted anew, not taken from the count of the first', async () => {
  // Long message texts are remembered by their whole text; a near-copy must not share the count.
  const base = 'Please answer briefly and cite the rule you rely on. '.repeat(12);
  const first = await countChatInputTokens({ messages: [user(base + 'What is a hold?')] });
  const again = await countChatInputTokens({ messages: [user(base + 'What is a hold?')] });
  const changed = await countChatInputTokens({ messages: [user(base + 'What is a hold, and who releases it when the call fails?')] });
  assert.is(again, first);
  assert.is(first, 3 + 1 + encode(base + 'What is a hold?').length + 3);
  assert.is(changed, 3 + 1 + encode(base + 'What is a hold, and who releases it when the call fails?').length + 3);
  assert.ok(changed > first);
});

test('the hold margin is max(16 tokens, ⌈2%⌉)', () => {
  assert.is(holdInputTokens(0), 16);
  assert.is(holdInputTokens(8), 24);
  assert.is(holdInputTokens(800), 816, '2% of 800 is exactly 16');
  assert.is(holdInputTokens(801), 801 + 17, '2% of 801 is 16.02, rounded up');
  assert.is(holdInputTokens(10_000), 10_200);
  assert.is(holdInputTokens(123_457), 123_457 + 2_470);
  assert.throws(() => holdInputTokens(-1), /whole number/);
  assert.throws(() => holdInputTokens(1.5), /whole number/);
});

test('splitting text by tokens keeps every character and concatenates back exactly', () => {
  const text = 'Tell me 🎉 about “quotes” and 日本語のテキスト, please!';
  const pieces = splitTextByTokens(text, 2);
  assert.is(pieces.join(''), text);
  assert.ok(pieces.length > 3, 'several pieces');
  for (const piece of pieces) assert.not.match(piece, /\uFFFD/, 'no half characters');
  assert.equal(splitTextByTokens('', 3), []);
});

test('truncating to N tokens keeps a prefix of at most N tokens, never half a character', () => {
  const text = 'Demo reply: you said “Tell me 🎉 about quotes”. This is a longer sentence.';
  for (const limit of [1, 5, 8, 9, 10, 11, 12, 20]) {
    const prefix = truncateTextToTokens(text, limit);
    assert.ok(text.startsWith(prefix), `limit ${limit}: a prefix`);
    assert.ok(countTextTokens(prefix) <= limit, `limit ${limit}: within the limit`);
    assert.not.match(prefix, /\uFFFD/);
  }
  assert.is(truncateTextToTokens('Hello, world!', 2), 'Hello,');
  assert.is(truncateTextToTokens('Hello, world!', 100), 'Hello, world!');
});

test('splitting an emoji does not leave bytes behind in the tokenizer (its decode() shares one streaming decoder)', () => {
  splitTextByTokens('🎉🎉🎉 and “more”', 1);
  truncateTextToTokens('🎉🎉🎉', 2);
  // decode([71344]) alone (half of 🎉) would make this "\uFFFD🎉".
  assert.is(decode(encode('🎉')), '🎉', 'a later decode is not prefixed by leftover bytes');
});

test.run();
