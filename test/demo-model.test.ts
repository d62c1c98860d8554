// The demo model through the real openai SDK: chat completions and Responses answers, usage counted with the tokenizer, streams, limits, errors, aborts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { createDemoFetch, demoFetch, demoReplyText } from '../src/gateway/demo-model.ts';
import { countChatInputTokens, countResponsesInputTokens, countTextTokens, responsesInputOf } from '../src/gateway/tokens.ts';
import { rejects } from './helpers/assert.ts';

const client = new OpenAI({ apiKey: 'demo', baseURL: 'http://demo.invalid/v1', fetch: demoFetch, maxRetries: 0 });
const messages: ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'What is the capital of France?' },
];

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const contentOf = (chunks: ChatCompletionChunk[]) => chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');

test('a non-streamed answer is a chat.completion with usage counted by the tokenizer', async () => {
  const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
  const text = demoReplyText('gpt-4o-mini', messages);
  assert.match(text, /^Demo reply from gpt-4o-mini: you said “What is the capital of France\?”\. /);
  assert.is(completion.object, 'chat.completion');
  assert.match(completion.id, /^chatcmpl-demo-[0-9a-f]{24}$/);
  assert.is(completion.model, 'gpt-4o-mini');
  assert.ok(Number.isInteger(completion.created) && completion.created > 1_600_000_000, 'created is epoch seconds');
  assert.is(completion.choices.length, 1);
  assert.is(completion.choices[0]?.message.role, 'assistant');
  assert.is(completion.choices[0]?.message.content, text);
  assert.is(completion.choices[0]?.finish_reason, 'stop');
  const promptTokens = await countChatInputTokens({ messages });
  const completionTokens = countTextTokens(text);
  assert.is(completion.usage?.prompt_tokens, promptTokens);
  assert.is(completion.usage?.completion_tokens, completionTokens);
  assert.is(completion.usage?.total_tokens, promptTokens + completionTokens);
  assert.is(completion.usage?.prompt_tokens_details?.cached_tokens, 0);
});

test('the same prompt always gets the same reply, on either model', async () => {
  const first = await client.chat.completions.create({ model: 'gpt-4o', messages });
  const second = await client.chat.completions.create({ model: 'gpt-4o', messages });
  assert.is(first.choices[0]?.message.content, second.choices[0]?.message.content);
  assert.match(first.choices[0]?.message.content ?? '', /^Demo reply from gpt-4o: /);
  assert.is.not(first.id, second.id);
});

test('a stream comes in several chunks whose text is the non-streamed text, with no usage chunk unless asked', async () => {
  const chunks = await collect(await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true }));
  const contentChunks = chunks.filter((chunk) => chunk.choices[0]?.delta.content);
  assert.ok(contentChunks.length >= 5, `several content chunks, got ${contentChunks.length}`);
  assert.is(chunks[0]?.choices[0]?.delta.role, 'assistant');
  assert.is(contentOf(chunks), demoReplyText('gpt-4o-mini', messages));
  assert.is(chunks.at(-1)?.choices[0]?.finish_reason, 'stop');
  assert.ok(chunks.every((chunk) => chunk.object === 'chat.completion.chunk' && chunk.choices.length === 1 && chunk.usage == null));
  assert.ok(chunks.every((chunk) => chunk.id === chunks[0]?.id), 'one id for the whole stream');
});

test('with include_usage the stream ends with a usage chunk with no choices', async () => {
  const chunks = await collect(
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } }),
  );
  const last = chunks.at(-1);
  assert.equal(last?.choices, []);
  const text = demoReplyText('gpt-4o-mini', messages);
  assert.is(last?.usage?.prompt_tokens, await countChatInputTokens({ messages }));
  assert.is(last?.usage?.completion_tokens, countTextTokens(text));
  assert.is(last?.usage?.prompt_tokens_details?.cached_tokens, 0);
  assert.is(contentOf(chunks.slice(0, -1)), text);
  assert.is(chunks.at(-2)?.choices[0]?.finish_reason, 'stop');
  assert.ok(chunks.slice(0, -1).every((chunk) => chunk.usage === null), 'earlier chunks carry usage: null, as OpenAI sends');
});

test('max_tokens cuts the reply to that many tokens and finishes with "length"', async () => {
  const full = demoReplyText('gpt-4o-mini', messages);
  const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 12 });
  const text = completion.choices[0]?.message.content ?? '';
  assert.is(completion.choices[0]?.finish_reason, 'length');
  assert.ok(full.startsWith(text) && text.length < full.length, 'a prefix of the full reply');
  assert.is(completion.usage?.completion_tokens, countTextTokens(text));
  assert.ok(countTextTokens(text) <= 12 && countTextTokens(text) >= 10, `about 12 tokens, got ${countTextTokens(text)}`);

  const roomy = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 1_000 });
  assert.is(roomy.choices[0]?.finish_reason, 'stop', 'a limit above the reply changes nothing');
  assert.is(roomy.choices[0]?.message.content, full);
});

test('max_completion_tokens cuts a stream the same way', async () => {
  const chunks = await collect(
    await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
      stream_options: { include_usage: true },
      max_completion_tokens: 7,
    }),
  );
  const text = contentOf(chunks);
  assert.ok(demoReplyText('gpt-4o-mini', messages).startsWith(text));
  assert.is(chunks.at(-2)?.choices[0]?.finish_reason, 'length');
  assert.is(chunks.at(-1)?.usage?.completion_tokens, countTextTokens(text));
  assert.ok(countTextTokens(text) <= 7);
});

test('n = 2 answers two choices and counts both in usage', async () => {
  const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, n: 2 });
  assert.is(completion.choices.length, 2);
  assert.equal(completion.choices.map((choice) => choice.index), [0, 1]);
  assert.is(completion.usage?.completion_tokens, 2 * countTextTokens(demoReplyText('gpt-4o-mini', messages)));
});

test('an unknown model is a 404 NotFoundError in OpenAI’s error shape', async () => {
  const error = await rejects(() => client.chat.completions.create({ model: 'gpt-9', messages }), OpenAI.NotFoundError);
  const notFound = error as InstanceType<typeof OpenAI.NotFoundError>;
  assert.is(notFound.status, 404);
  assert.is(notFound.code, 'model_not_found');
  assert.is(notFound.type, 'invalid_request_error');
  assert.match(notFound.message, /gpt-9/);
});

test('malformed requests are 400s naming the parameter', async () => {
  const noMessages = await rejects(() => client.chat.completions.create({ model: 'gpt-4o-mini', messages: [] }), OpenAI.BadRequestError);
  assert.is((noMessages as InstanceType<typeof OpenAI.BadRequestError>).param, 'messages');
  const zero = await rejects(() => client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 0 }), OpenAI.BadRequestError);
  assert.is((zero as InstanceType<typeof OpenAI.BadRequestError>).param, 'max_tokens');
  const options = await rejects(
    () => client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream_options: { include_usage: true } }),
    OpenAI.BadRequestError,
  );
  assert.is((options as InstanceType<typeof OpenAI.BadRequestError>).param, 'stream_options');
});

test('embeddings: a deterministic unit vector per input, as floats or base64, usage counted by the tokenizer; bad requests refused as OpenAI does', async () => {
  const floats = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['Paris', 'France'], encoding_format: 'float' });
  assert.is(floats.object, 'list');
  assert.is(floats.model, 'text-embedding-3-small');
  assert.equal(floats.data.map((each) => [each.object, each.index, each.embedding.length]), [['embedding', 0, 1_536], ['embedding', 1, 1_536]]);
  assert.ok(Math.abs(Math.hypot(...floats.data[0]!.embedding) - 1) < 1e-5, 'a unit vector');
  assert.equal(floats.usage, { prompt_tokens: countTextTokens('Paris') + countTextTokens('France'), total_tokens: countTextTokens('Paris') + countTextTokens('France') });
  // The SDK's default asks for base64 and decodes it into the same numbers.
  const decoded = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['Paris', 'France'] });
  assert.equal(decoded.data[1]!.embedding, floats.data[1]!.embedding);
  const shorter = await client.embeddings.create({ model: 'text-embedding-3-large', input: [[1, 2, 3]], dimensions: 3, encoding_format: 'float' });
  assert.is(shorter.data[0]!.embedding.length, 3);
  assert.is(shorter.usage.prompt_tokens, 3);

  await rejects(() => client.embeddings.create({ model: 'text-embedding-ada-002', input: 'x' }), OpenAI.NotFoundError);
  for (const [body, param] of [
    [{ model: 'text-embedding-3-small', input: 'x', dimensions: 1_537 }, 'dimensions'],
    [{ model: 'text-embedding-3-small', input: [] }, 'input'],
    [{ model: 'text-embedding-3-small', input: [1, -1] }, 'input[1]'],
  ] as const) {
    const error = await rejects(() => client.embeddings.create(body as never), OpenAI.BadRequestError);
    assert.is((error as InstanceType<typeof OpenAI.BadRequestError>).param, param);
  }
});

test('an aborted stream stops producing: the body errors with AbortError', async () => {
  const controller = new AbortController();
  const response = await createDemoFetch({ chunkDelayMs: 5 })('http://demo.invalid/v1/chat/completions', {
    method: 'POST',
    body: JSON.stringify({ model: 'gpt-4o-mini', messages, stream: true }),
    signal: controller.signal,
  });
  assert.is(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const reader = response.body!.getReader();
  const first = await reader.read();
  assert.is(first.done, false);
  controller.abort();
  const error = await rejects(async () => {
    for (;;) if ((await reader.read()).done) return;
  }, Error);
  assert.is(error.name, 'AbortError');
});

test('aborting through the SDK ends the iteration early', async () => {
  const slowClient = new OpenAI({ apiKey: 'demo', baseURL: 'http://demo.invalid/v1', fetch: createDemoFetch({ chunkDelayMs: 10 }), maxRetries: 0 });
  const controller = new AbortController();
  const stream = await slowClient.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true }, { signal: controller.signal });
  const chunks: ChatCompletionChunk[] = [];
  const startedMs = Date.now();
  // openai v6 ends the iteration quietly on abort (it swallows the AbortError) rather than throwing.
  for await (const chunk of stream) {
    chunks.push(chunk);
    if (chunks.length === 3) controller.abort();
  }
  assert.is(chunks.length, 3);
  assert.ok(Date.now() - startedMs < 500, 'no waiting for the rest of the stream');
});

test('a request already aborted never gets an answer', async () => {
  const controller = new AbortController();
  controller.abort();
  await rejects(() => client.chat.completions.create({ model: 'gpt-4o-mini', messages }, { signal: controller.signal }), OpenAI.APIUserAbortError);
});

test('Responses: a response with its usage counted, its stream of events in order, incomplete when cut, 400s naming the parameter', async () => {
  const input = 'What is the capital of France?';
  const text = demoReplyText('gpt-4o-mini', [{ role: 'user', content: input }]);
  const response = await client.responses.create({ model: 'gpt-4o-mini', instructions: 'Be brief.', input });
  assert.is(response.object, 'response');
  assert.is(response.status, 'completed');
  assert.is(response.output_text, text);
  assert.is(response.usage?.input_tokens, await countResponsesInputTokens(responsesInputOf({ instructions: 'Be brief.', input })));
  assert.is(response.usage?.output_tokens, countTextTokens(text));

  const events = [];
  for await (const event of await client.responses.create({ model: 'gpt-4o-mini', input, stream: true })) events.push(event);
  assert.equal(
    events.map((event) => event.sequence_number),
    events.map((_, index) => index),
  );
  assert.is(events[0]?.type, 'response.created');
  assert.is(events.at(-1)?.type, 'response.completed');
  assert.ok(events.filter((event) => event.type === 'response.output_text.delta').length >= 5, 'several text deltas');
  assert.is(events.map((event) => (event.type === 'response.output_text.delta' ? event.delta : '')).join(''), text);

  const cut = await client.responses.create({ model: 'gpt-4o-mini', input, max_output_tokens: 16 });
  assert.equal([cut.status, cut.incomplete_details?.reason, cut.usage?.output_tokens], ['incomplete', 'max_output_tokens', 16]);

  const noInput = await rejects(() => client.responses.create({ model: 'gpt-4o-mini', input: [] }), OpenAI.BadRequestError);
  assert.is((noInput as InstanceType<typeof OpenAI.BadRequestError>).param, 'input');
  const small = await rejects(() => client.responses.create({ model: 'gpt-4o-mini', input, max_output_tokens: 8 }), OpenAI.BadRequestError);
  assert.is((small as InstanceType<typeof OpenAI.BadRequestError>).param, 'max_output_tokens');
  await rejects(() => client.responses.create({ model: 'gpt-5-unknown', input }), OpenAI.NotFoundError);
});

test.run();
