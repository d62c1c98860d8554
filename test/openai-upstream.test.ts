// The fake OpenAI upstream driven by the real openai SDK: each scripted behaviour looks to the SDK as the real thing would.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import OpenAI, { InternalServerError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { countChatInputTokens, countTextTokens } from '../src/gateway/tokens.ts';
import { hashedVector } from '../src/gateway/embedding-wire.ts';
import { FAKE_DEFAULT_TEXT, startFakeOpenAIUpstream, type FakeOpenAIUpstream } from './fakes/openai-upstream.ts';
import { rejects } from './helpers/assert.ts';

const upstream = suite<{ fake: FakeOpenAIUpstream; client: OpenAI }>('openai upstream fake');
upstream.before(async (context) => {
  context.fake = await startFakeOpenAIUpstream();
  context.client = new OpenAI({ apiKey: 'sk-test-upstream', baseURL: `${context.fake.url}/v1`, maxRetries: 0 });
});
upstream.before.each((context) => context.fake.reset());
upstream.after(async (context) => {
  await context.fake.close();
});

const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Say hello.' }];

async function collect(stream: AsyncIterable<ChatCompletionChunk>, seen: ChatCompletionChunk[] = []): Promise<ChatCompletionChunk[]> {
  for await (const chunk of stream) seen.push(chunk);
  return seen;
}

const contentOf = (chunks: ChatCompletionChunk[]) => chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');

upstream('ok, not streamed: the answer, usage from the tokenizer, and the request recorded with its headers', async ({ fake, client }) => {
  const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
  assert.is(completion.choices[0]?.message.content, FAKE_DEFAULT_TEXT);
  assert.match(completion.id, /^chatcmpl-[0-9a-f]{24}$/);
  assert.is(completion.usage?.prompt_tokens, await countChatInputTokens({ messages }));
  assert.is(completion.usage?.completion_tokens, countTextTokens(FAKE_DEFAULT_TEXT));
  assert.is(fake.requests.length, 1);
  assert.is(fake.lastRequest?.path, '/v1/chat/completions');
  assert.is(fake.lastRequest?.headers.authorization, 'Bearer sk-test-upstream');
  assert.equal(fake.lastRequest?.body.messages, messages);
  assert.is(fake.lastRequest?.body.stream, undefined);
});

upstream('ok, streamed: chunks of the text, and the usage chunk only when include_usage was asked', async ({ fake, client }) => {
  fake.setBehaviour({ kind: 'ok', text: 'One two three four five six seven eight.', usage: { prompt_tokens: 100, completion_tokens: 9, cached_tokens: 40 } });
  const withUsage = await collect(
    await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } }),
  );
  assert.is(contentOf(withUsage), 'One two three four five six seven eight.');
  assert.ok(withUsage.filter((chunk) => chunk.choices[0]?.delta.content).length >= 4, 'several content chunks');
  assert.equal(withUsage.at(-1)?.choices, []);
  assert.is(withUsage.at(-1)?.usage?.prompt_tokens, 100);
  assert.is(withUsage.at(-1)?.usage?.completion_tokens, 9);
  assert.is(withUsage.at(-1)?.usage?.prompt_tokens_details?.cached_tokens, 40);
  assert.equal(fake.lastRequest?.body.stream_options, { include_usage: true }, 'the fake records what was asked');

  const withoutUsage = await collect(await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true }));
  assert.ok(withoutUsage.every((chunk) => chunk.choices.length === 1 && !chunk.usage));
  assert.is(withoutUsage.at(-1)?.choices[0]?.finish_reason, 'stop');
  assert.is(fake.lastRequest?.body.stream_options, undefined);
});

upstream('ok with chunkDelayMs streams its chunks over time', async ({ fake, client }) => {
  fake.setBehaviour({ kind: 'ok', text: 'a b c d e f', chunkDelayMs: 15 });
  const startedMs = Date.now();
  const chunks = await collect(await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true }));
  assert.is(contentOf(chunks), 'a b c d e f');
  assert.ok(Date.now() - startedMs >= 15 * (chunks.length - 1), 'paced');
});

upstream('no-usage: a stream that ends with [DONE] and no usage chunk, even when asked', async ({ fake, client }) => {
  fake.setBehaviour({ kind: 'no-usage' });
  const chunks = await collect(
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } }),
  );
  assert.is(contentOf(chunks), FAKE_DEFAULT_TEXT);
  assert.ok(chunks.every((chunk) => chunk.choices.length === 1 && !chunk.usage));
  const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
  assert.is(completion.usage, undefined);
});

upstream('error 401: AuthenticationError with OpenAI’s error body', async ({ fake, client }) => {
  fake.setBehaviour({ kind: 'error', status: 401 });
  const error = await rejects(() => client.chat.completions.create({ model: 'gpt-4o-mini', messages }), OpenAI.AuthenticationError);
  const authentication = error as InstanceType<typeof OpenAI.AuthenticationError>;
  assert.is(authentication.status, 401);
  assert.is(authentication.code, 'invalid_api_key');
  assert.is(fake.requests.length, 1, 'maxRetries: 0 means one request');
});

upstream('error 429: RateLimitError with the Retry-After header', async ({ fake, client }) => {
  fake.setBehaviour({ kind: 'error', status: 429, retryAfterSeconds: 7, message: 'Slow down.' });
  const error = await rejects(() => client.chat.completions.create({ model: 'gpt-4o-mini', messages }), OpenAI.RateLimitError);
  const rateLimit = error as InstanceType<typeof OpenAI.RateLimitError>;
  assert.is(rateLimit.status, 429);
  assert.is(rateLimit.headers.get('retry-after'), '7');
  assert.is(rateLimit.code, 'rate_limit_exceeded');
  assert.match(rateLimit.message, /Slow down\./);
});

upstream('each error status maps to the SDK’s error class', async ({ fake, client }) => {
  const expected = [
    [400, OpenAI.BadRequestError],
    [403, OpenAI.PermissionDeniedError],
    [404, OpenAI.NotFoundError],
    [422, OpenAI.UnprocessableEntityError],
    [500, OpenAI.InternalServerError],
  ] as const;
  for (const [status, errorClass] of expected) {
    fake.setBehaviour({ kind: 'error', status });
    const error = await rejects(() => client.chat.completions.create({ model: 'gpt-4o-mini', messages }), errorClass);
    assert.is((error as InstanceType<typeof OpenAI.APIError>).status, status);
  }
});

upstream('a queue of behaviours is used in order, then the default again', async ({ fake, client }) => {
  fake.queueBehaviours({ kind: 'error', status: 500 }, { kind: 'ok', text: 'second' });
  await rejects(() => client.chat.completions.create({ model: 'gpt-4o-mini', messages }), OpenAI.InternalServerError);
  assert.is((await client.chat.completions.create({ model: 'gpt-4o-mini', messages })).choices[0]?.message.content, 'second');
  assert.is((await client.chat.completions.create({ model: 'gpt-4o-mini', messages })).choices[0]?.message.content, FAKE_DEFAULT_TEXT);
});

upstream('hang: the SDK’s timeout fires as APIConnectionTimeoutError, and the fake sees the call abandoned', async ({ fake }) => {
  fake.setBehaviour({ kind: 'hang' });
  const impatient = new OpenAI({ apiKey: 'sk-test-upstream', baseURL: `${fake.url}/v1`, maxRetries: 0, timeout: 300 });
  const startedMs = Date.now();
  await rejects(() => impatient.chat.completions.create({ model: 'gpt-4o-mini', messages }), OpenAI.APIConnectionTimeoutError);
  const elapsedMs = Date.now() - startedMs;
  assert.ok(elapsedMs >= 290 && elapsedMs < 2_000, `timed out after ${elapsedMs} ms`);
  await fake.waitForAborted(1);
  assert.is(fake.lastRequest?.abortedByClient, true);
});

upstream('partial-then-error: the iterator throws after the chunks that arrived', async ({ fake, client }) => {
  fake.setBehaviour({ kind: 'partial-then-error', chunks: 3 });
  const seen: ChatCompletionChunk[] = [];
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } });
  // Once the headers are in, openai v6 does not wrap body errors: undici's own TypeError ("terminated") comes through.
  const error = await rejects(() => collect(stream, seen), TypeError);
  assert.is(error.message, 'terminated');
  assert.is(seen.length, 1 + 3, 'the role chunk and three content chunks');
  assert.is(contentOf(seen), 'Piece 1. Piece 2. Piece 3. ');
  assert.is(fake.aborted, 0, 'the fake itself broke the connection: not a client abort');
});

upstream('partial-then-error, not streamed: the SDK gets a broken body', async ({ fake, client }) => {
  fake.setBehaviour({ kind: 'partial-then-error', chunks: 1 });
  await rejects(() => client.chat.completions.create({ model: 'gpt-4o-mini', messages }), TypeError);
});

upstream('slow-stream aborted by an AbortController: the fake notices the client went away', async ({ fake, client }) => {
  fake.setBehaviour({ kind: 'slow-stream', chunks: 50, chunkDelayMs: 20 });
  const controller = new AbortController();
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true }, { signal: controller.signal });
  let contentChunks = 0;
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta.content) contentChunks++;
    if (contentChunks === 2) controller.abort();
  }
  assert.is(contentChunks, 2);
  await fake.waitForAborted(1);
  assert.is(fake.aborted, 1);
  assert.is(fake.lastRequest?.abortedByClient, true);
});

upstream('slow-stream read to the end is not an abort', async ({ fake, client }) => {
  fake.setBehaviour({ kind: 'slow-stream', chunks: 3, chunkDelayMs: 5 });
  const chunks = await collect(
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } }),
  );
  assert.is(contentOf(chunks), 'Piece 1. Piece 2. Piece 3. ');
  assert.is(chunks.at(-1)?.usage?.completion_tokens, countTextTokens('Piece 1. Piece 2. Piece 3. '));
  assert.is(fake.aborted, 0);
});

upstream('embeddings: a unit vector per input of the dimensions asked, usage counted or as scripted, errors as for chat', async ({ fake, client }) => {
  const answer = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['one', 'two'], dimensions: 64 });
  assert.equal(answer.data.map((each) => [each.index, each.embedding.length]), [[0, 64], [1, 64]]);
  assert.equal(answer.data[1]!.embedding, Array.from(hashedVector('text-embedding-3-small', 'two', 64)));
  assert.ok(Math.abs(Math.hypot(...answer.data[0]!.embedding) - 1) < 1e-5);
  assert.equal(answer.usage, { prompt_tokens: countTextTokens('one') + countTextTokens('two'), total_tokens: countTextTokens('one') + countTextTokens('two') });
  assert.is((await client.embeddings.create({ model: 'text-embedding-3-large', input: [5, 6], encoding_format: 'float' })).data[0]!.embedding.length, 3_072);
  fake.setBehaviour({ kind: 'ok', usage: { prompt_tokens: 999 } });
  assert.is((await client.embeddings.create({ model: 'text-embedding-3-small', input: 'one' })).usage.prompt_tokens, 999);
  fake.setBehaviour({ kind: 'no-usage' });
  assert.is((await client.embeddings.create({ model: 'text-embedding-3-small', input: 'one' })).usage, undefined);
  fake.setBehaviour({ kind: 'error', status: 500 });
  await rejects(() => client.embeddings.create({ model: 'text-embedding-3-small', input: 'one' }), InternalServerError);
  fake.setBehaviour({ kind: 'ok' });
  const refused = await fetch(`${fake.url}/v1/embeddings`, { method: 'POST', body: JSON.stringify({ model: 'text-embedding-3-small', input: [1, -1] }) });
  assert.is(refused.status, 400);
  assert.is(((await refused.json()) as { error: { param: string } }).error.param, 'input[1]');
  assert.is(fake.requests.length, 6);
});

upstream('other paths answer 404 in OpenAI’s shape', async ({ fake }) => {
  const response = await fetch(`${fake.url}/v1/audio/speech`, { method: 'POST', body: '{}' });
  assert.is(response.status, 404);
  const body = (await response.json()) as { error: { type: string } };
  assert.is(body.error.type, 'invalid_request_error');
});

upstream('close() ends a hanging connection instead of waiting for it', async () => {
  const fake = await startFakeOpenAIUpstream();
  fake.setBehaviour({ kind: 'hang' });
  const client = new OpenAI({ apiKey: 'sk-test', baseURL: `${fake.url}/v1`, maxRetries: 0, timeout: 10_000 });
  const pending = client.chat.completions.create({ model: 'gpt-4o-mini', messages }).catch((error: unknown) => error);
  while (fake.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const startedMs = Date.now();
  await fake.close();
  assert.instance(await pending, OpenAI.APIConnectionError);
  assert.ok(Date.now() - startedMs < 1_000, 'closed promptly');
  assert.is(fake.aborted, 0, 'closing the fake is not a client abort');
});

upstream.run();
