// Several named upstreams (UPSTREAMS_FILE) with failover, over real HTTP: the official openai SDK →
// tokentab → two fake upstreams (and a closed port). Failover on 500, 429, a refused or reset
// connection and a slow answer before any output, for chat, Responses and embeddings, streamed and
// not; never after output went out; 4xx passed on without failover; all failing → the last failure,
// nothing charged; each call charged exactly at the answering upstream's usage, the row naming every
// attempt; the model name each upstream gets is its own.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { countTextTokens } from '../src/gateway/tokens.ts';
import { closedPortUrl, FAKE_DEFAULT_TEXT, startFakeOpenAIUpstream, type FakeOpenAIUpstream } from './fakes/openai-upstream.ts';
import { parse } from './helpers/app.ts';
import { rejects, waitFor } from './helpers/assert.ts';
import { assertBooksClean, balanceOf, startGatewayHarness, usageEntries, usageRow, type GatewayHarness } from './helpers/gateway.ts';
import { sessionCookie } from './helpers/signed-in.ts';
import { DEMO_ENV } from './helpers/server.ts';
import { spawn } from 'node:child_process';

const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'What does a ledger do?' }];
const HUNDRED_CREDITS_MC = 100_000_000;
const PRIMARY_KEY = 'sk-primary-upstream-key-0123456789';

interface Context {
  h: GatewayHarness;
  primary: FakeOpenAIUpstream;
  secondary: FakeOpenAIUpstream;
}

/**
 * primary (keyed, with a header) and secondary (keyless) serve gpt-4o-mini under their own names,
 * tried in that order; gpt-4o and the small embedding model go first to an upstream whose port is
 * closed. The large embedding model is routed nowhere.
 */
function upstreamsFile(primary: string, secondary: string, gone: string): object {
  return {
    upstreams: [
      { name: 'gone', base_url: `${gone}/v1`, models: ['gpt-4o', 'text-embedding-3-small'] },
      {
        name: 'primary',
        base_url: `${primary}/v1`,
        api_key_env: 'PRIMARY_UPSTREAM_KEY',
        headers: { 'x-upstream-tenant': 'tokentab-test' },
        models: { 'gpt-4o-mini': 'primary-mini', 'text-embedding-3-small': 'primary-embed' },
        headers_timeout_seconds: 1,
      },
      { name: 'secondary', base_url: `${secondary}/v1`, models: { 'gpt-4o-mini': 'secondary-mini', 'gpt-4o': 'secondary-4o' } },
    ],
    routes: { 'gpt-4o-mini': ['primary', 'secondary'], 'gpt-4o': ['gone', 'secondary'], 'text-embedding-3-small': ['gone', 'primary'] },
  };
}

const failover = suite<Context>('failover between named upstreams');

failover.before(async (context) => {
  context.primary = await startFakeOpenAIUpstream();
  context.secondary = await startFakeOpenAIUpstream();
  const file = join(mkdtempSync(join(tmpdir(), 'tokentab-upstreams-')), 'upstreams.json');
  writeFileSync(file, JSON.stringify(upstreamsFile(context.primary.url, context.secondary.url, await closedPortUrl())));
  context.h = await startGatewayHarness({
    fake: context.primary,
    env: { UPSTREAMS_FILE: file, OPENAI_BASE_URL: '', PRIMARY_UPSTREAM_KEY: PRIMARY_KEY },
  });
});
failover.before.each(({ primary, secondary }) => {
  primary.reset();
  secondary.reset();
});
failover.after.each(async ({ h }) => assertBooksClean(h));
failover.after(async ({ h, secondary }) => {
  await h.closeAll();
  await h.fake.close();
  await secondary.close();
});

async function collect<T>(stream: AsyncIterable<T>, seen: T[] = []): Promise<T[]> {
  for await (const chunk of stream) seen.push(chunk);
  return seen;
}
const contentOf = (chunks: ChatCompletionChunk[]) => chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');

/** The call's usage row: charged exactly `chargedMc`, one ledger entry of that amount, the upstreams named. */
async function assertCharged(h: GatewayHarness, requestId: string, chargedMc: number, upstream: string, attempts: string) {
  const row = await usageRow(h, requestId);
  assert.equal(
    [row.status, row.estimated, row.charged_mc, row.shortfall_mc, row.upstream, row.upstream_attempts],
    ['ok', 0, chargedMc, 0, upstream, attempts],
  );
  const entries = (await usageEntries(h)).filter((entry) => entry.reference === requestId);
  assert.equal(entries.map((entry) => entry.amount_mc), [-chargedMc]);
  return row;
}

failover('a 500 before any output (non-stream chat) → the next upstream answers; charged exactly its reported usage; each upstream gets its own model name, key and headers', async ({ h, primary, secondary }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  primary.setBehaviour({ kind: 'error', status: 500 });
  secondary.setBehaviour({ kind: 'ok', usage: { prompt_tokens: 750, completion_tokens: 200 } });
  const { data, response } = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 300 }).withResponse();
  assert.is(data.choices[0]?.message.content, FAKE_DEFAULT_TEXT);
  assert.is(response.headers.get('x-credits-charged'), '3.720');
  const requestId = response.headers.get('x-request-id')!;
  const row = await assertCharged(h, requestId, 3_720, 'secondary', 'primary: 500; secondary: ok');
  assert.is(row.model, 'gpt-4o-mini', 'the usage row keeps the rate card’s model');
  assert.equal([primary.requestCount, secondary.requestCount], [1, 1]);
  assert.is(primary.lastRequest?.body.model, 'primary-mini');
  assert.is(secondary.lastRequest?.body.model, 'secondary-mini');
  assert.is(primary.lastRequest?.headers.authorization, `Bearer ${PRIMARY_KEY}`);
  assert.is(primary.lastRequest?.headers['x-upstream-tenant'], 'tokentab-test');
  assert.is(secondary.lastRequest?.headers.authorization, undefined, 'a keyless upstream gets no Authorization header');
  // The same body otherwise: the checked fields and the decided limit, to each.
  const { model: _p, ...sentToPrimary } = primary.lastRequest!.body;
  const { model: _s, ...sentToSecondary } = secondary.lastRequest!.body;
  assert.equal(sentToSecondary, sentToPrimary);
  assert.equal(await balanceOf(h, account.userId), { balance_mc: HUNDRED_CREDITS_MC - 3_720, held_mc: 0 });

  // Shown on the usage detail page and at /v1/usage/{id}.
  const page = await fetch(`${h.url}/credits/usage/${requestId}`, { headers: { cookie: await sessionCookie(h, account.userId) } });
  const upstreamFact = parse(await page.text()).querySelector('.usage-detail .facts dd.upstream')?.textContent ?? '';
  assert.match(upstreamFact, /^secondary · attempts in order: primary: 500; secondary: ok$/);
  const record = (await (await fetch(`${h.url}/v1/usage/${requestId}`, { headers: { authorization: `Bearer ${account.key}` } })).json()) as Record<string, unknown>;
  assert.equal([record.model, record.upstream, record.upstreamAttempts, record.chargedMillicredits], ['gpt-4o-mini', 'secondary', 'primary: 500; secondary: ok', 3_720]);
  assert.not.match(JSON.stringify(record) + upstreamFact, /sk-primary/, 'the key is never shown');
  assert.ok(h.logLines.includes(`upstream primary server 500 on ${requestId}; trying secondary`), h.logLines.join('\n'));
  assert.not.match(h.logLines.join('\n'), /sk-primary/, 'nor logged');
});

failover('a 429 before the stream started → the next upstream streams; charged exactly its usage chunk', async ({ h, primary, secondary }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  primary.setBehaviour({ kind: 'error', status: 429, retryAfterSeconds: 7 });
  secondary.setBehaviour({ kind: 'ok', usage: { prompt_tokens: 1_000, completion_tokens: 1_000 } });
  const { data, response } = await account.client.chat.completions
    .create({ model: 'gpt-4o-mini', messages, max_tokens: 2_000, stream: true, stream_options: { include_usage: true } })
    .withResponse();
  const chunks = await collect(data);
  assert.is(contentOf(chunks), FAKE_DEFAULT_TEXT);
  assert.is(chunks.at(-1)?.usage?.completion_tokens, 1_000);
  await assertCharged(h, response.headers.get('x-request-id')!, 12_000, 'secondary', 'primary: 429; secondary: ok');
  assert.equal([primary.requestCount, secondary.requestCount], [1, 1]);
  assert.is(secondary.lastRequest?.body.model, 'secondary-mini');
});

failover('a refused connection (a closed port) → the next upstream: chat, Responses (stream and not) and embeddings', async ({ h, primary, secondary }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  secondary.setBehaviour({ kind: 'ok', usage: { prompt_tokens: 1_234, completion_tokens: 567 } });
  const chat = await account.client.chat.completions.create({ model: 'gpt-4o', messages, max_tokens: 1_000 }).withResponse();
  await assertCharged(h, chat.response.headers.get('x-request-id')!, 70_040, 'secondary', 'gone: unreachable; secondary: ok');
  assert.is(secondary.lastRequest?.body.model, 'secondary-4o');

  const responses = await account.client.responses.create({ model: 'gpt-4o', input: 'What does a ledger do?', max_output_tokens: 1_000 }).withResponse();
  assert.is(responses.data.output_text, FAKE_DEFAULT_TEXT);
  await assertCharged(h, responses.response.headers.get('x-request-id')!, 70_040, 'secondary', 'gone: unreachable; secondary: ok');
  assert.equal([secondary.lastRequest?.path, secondary.lastRequest?.body.model], ['/v1/responses', 'secondary-4o']);

  const stream = await account.client.responses.create({ model: 'gpt-4o', input: 'What does a ledger do?', max_output_tokens: 1_000, stream: true }).withResponse();
  const events: ResponseStreamEvent[] = await collect(stream.data);
  assert.is(events.at(-1)?.type, 'response.completed');
  await assertCharged(h, stream.response.headers.get('x-request-id')!, 70_040, 'secondary', 'gone: unreachable; secondary: ok');

  primary.setBehaviour({ kind: 'ok', usage: { prompt_tokens: 1_000, completion_tokens: 0 } });
  const embedding = await account.client.embeddings.create({ model: 'text-embedding-3-small', input: ['The ledger keeps every charge.'] }).withResponse();
  assert.is(embedding.data.data.length, 1);
  // 1,000 tokens × 200 mc per 1k.
  const row = await assertCharged(h, embedding.response.headers.get('x-request-id')!, 200, 'primary', 'gone: unreachable; primary: ok');
  assert.is(row.endpoint, 'embeddings');
  assert.equal([primary.lastRequest?.path, primary.lastRequest?.body.model], ['/v1/embeddings', 'primary-embed']);
  assert.equal([primary.requestCount, secondary.requestCount], [1, 3]);
});

failover('a reset connection, a whole answer cut mid-body, and a stream reset after its headers but before any event → the next upstream', async ({ h, primary, secondary }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  secondary.setBehaviour({ kind: 'ok', usage: { prompt_tokens: 750, completion_tokens: 200 } });
  primary.setBehaviour({ kind: 'reset' });
  const plain = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 300 }).withResponse();
  await assertCharged(h, plain.response.headers.get('x-request-id')!, 3_720, 'secondary', 'primary: unreachable; secondary: ok');

  // A whole answer whose body breaks off has reached nobody either.
  primary.setBehaviour({ kind: 'partial-then-error', chunks: 1 });
  const cut = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 300 }).withResponse();
  await assertCharged(h, cut.response.headers.get('x-request-id')!, 3_720, 'secondary', 'primary: broken; secondary: ok');

  primary.setBehaviour({ kind: 'headers-then-reset' });
  const stream = await account.client.responses.create({ model: 'gpt-4o-mini', input: 'What does a ledger do?', max_output_tokens: 300, stream: true }).withResponse();
  const events: ResponseStreamEvent[] = await collect(stream.data);
  assert.is(events[0]?.type, 'response.created', 'the client saw the answering upstream’s stream from its start');
  assert.is(events.filter((event) => event.type === 'response.created').length, 1);
  await assertCharged(h, stream.response.headers.get('x-request-id')!, 3_720, 'secondary', 'primary: broken; secondary: ok');
  assert.equal([primary.requestCount, secondary.requestCount], [3, 3]);
});

failover('an upstream that redirects is not followed (the key and the prompt stay where the operator sent them) → the next upstream', async ({ h, primary, secondary }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  primary.setBehaviour({ kind: 'redirect' });
  secondary.setBehaviour({ kind: 'ok', usage: { prompt_tokens: 750, completion_tokens: 200 } });
  const plain = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 300 }).withResponse();
  await assertCharged(h, plain.response.headers.get('x-request-id')!, 3_720, 'secondary', 'primary: unreachable; secondary: ok');
  // Followed, the redirect would have been a second request to the primary, answered 'ok' there.
  assert.equal([primary.requestCount, secondary.requestCount], [1, 1]);
});

failover('an upstream slower than its headers_timeout_seconds → the next upstream, within the call’s deadline', async ({ h, primary, secondary }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  primary.setBehaviour({ kind: 'hang' });
  secondary.setBehaviour({ kind: 'ok', usage: { prompt_tokens: 750, completion_tokens: 200 } });
  const startedMs = Date.now();
  const { response } = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, max_tokens: 300 }).withResponse();
  const elapsedMs = Date.now() - startedMs;
  assert.ok(elapsedMs >= 950 && elapsedMs < 3_000, `answered after ${elapsedMs} ms`);
  await assertCharged(h, response.headers.get('x-request-id')!, 3_720, 'secondary', 'primary: timeout; secondary: ok');
  await primary.waitForAborted(1);
});

failover('24 calls at once, chat and Responses, streamed and not, all failing over on a 500: each charged exactly once at the answering upstream’s usage', async ({ h, primary, secondary }) => {
  // Three users, 8 calls each: within a key's default 10 calls in flight.
  const accounts = [await h.account(HUNDRED_CREDITS_MC), await h.account(HUNDRED_CREDITS_MC), await h.account(HUNDRED_CREDITS_MC)];
  primary.setBehaviour({ kind: 'error', status: 500 });
  secondary.setBehaviour({ kind: 'ok', usage: { prompt_tokens: 750, completion_tokens: 200 } });
  const calls = Array.from({ length: 24 }, async (_, index) => {
    const account = accounts[index % 3]!;
    const stream = index % 2 === 1;
    if (index % 4 < 2) {
      const { data, response } = await account.client.chat.completions
        .create({ model: 'gpt-4o-mini', messages, max_tokens: 300, stream, ...(stream ? { stream_options: { include_usage: true } } : {}) })
        .withResponse();
      if (stream) await collect(data as AsyncIterable<ChatCompletionChunk>);
      return response.headers.get('x-request-id')!;
    }
    const { data, response } = await account.client.responses.create({ model: 'gpt-4o-mini', input: 'What does a ledger do?', max_output_tokens: 300, stream }).withResponse();
    if (stream) await collect(data as AsyncIterable<ResponseStreamEvent>);
    return response.headers.get('x-request-id')!;
  });
  const requestIds = await Promise.all(calls);
  for (const requestId of requestIds) await assertCharged(h, requestId, 3_720, 'secondary', 'primary: 500; secondary: ok');
  assert.equal([primary.requestCount, secondary.requestCount], [24, 24]);
  for (const account of accounts) assert.equal(await balanceOf(h, account.userId), { balance_mc: HUNDRED_CREDITS_MC - 8 * 3_720, held_mc: 0 });
});

failover('a stream that breaks after output went out is not retried: the next upstream never sees it; charged the input and what arrived', async ({ h, primary, secondary }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  primary.setBehaviour({ kind: 'partial-then-error', chunks: 3 });
  const seen: ChatCompletionChunk[] = [];
  const { data, response } = await account.client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, max_tokens: 100 }).withResponse();
  const error = await rejects(() => collect(data, seen), OpenAI.APIError);
  assert.is((error as InstanceType<typeof OpenAI.APIError>).code, 'upstream_connection_lost');
  assert.is(contentOf(seen), 'Piece 1. Piece 2. Piece 3. ');
  assert.is(secondary.requestCount, 0, 'no other upstream was tried once output went out');
  const row = await usageRow(h, response.headers.get('x-request-id')!);
  assert.equal([row.status, row.estimated, row.upstream, row.upstream_attempts], ['upstream_error', 1, 'primary', 'primary: broken']);
  assert.is(row.output_tokens, countTextTokens('Piece 1. Piece 2. Piece 3. '));
  assert.ok(row.charged_mc > 0);
  const entries = (await usageEntries(h, account.userId)).map((entry) => entry.amount_mc);
  assert.equal(entries, [-row.charged_mc]);
});

failover('a client that leaves a stream while the first upstream is still silent stops the call: no other upstream is tried; charged as a stream left before its first byte', async ({ h, primary, secondary }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  primary.setBehaviour({ kind: 'hang' });
  const leaving = new AbortController();
  const answer = h.post('/v1/chat/completions', account.key, { model: 'gpt-4o-mini', messages, max_tokens: 50, stream: true }, { signal: leaving.signal });
  await waitFor(() => primary.requestCount === 1, 'the first upstream has the call');
  leaving.abort();
  await answer.catch(() => null);
  await waitFor(async () => (await usageEntries(h, account.userId)).length === 1, 'the aborted call is settled');
  const settled = await h.db.selectFrom('usage').selectAll().where('user_id', '=', account.userId).executeTakeFirstOrThrow();
  assert.equal([settled.status, settled.estimated, settled.output_tokens, settled.upstream_attempts], ['aborted', 1, 0, 'primary: stopped']);
  assert.ok(settled.charged_mc > 0, 'the input is charged, as for any stream left before its first byte');
  await primary.waitForAborted(1);
  assert.is(secondary.requestCount, 0);
});

failover('4xx other than 429 is the caller’s: passed on, no failover, nothing charged', async ({ h, primary, secondary }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  for (const status of [400, 401, 404] as const) {
    primary.setBehaviour({ kind: 'error', status });
    const response = await h.post('/v1/chat/completions', account.key, { model: 'gpt-4o-mini', messages, max_tokens: 50 });
    assert.is(response.status, status === 401 ? 502 : status);
    const row = await usageRow(h, response.headers.get('x-request-id')!);
    assert.equal([row.status, row.charged_mc, row.upstream_attempts], ['upstream_error', 0, `primary: ${status}`]);
  }
  assert.is(secondary.requestCount, 0);
  assert.equal(await balanceOf(h, account.userId), { balance_mc: HUNDRED_CREDITS_MC, held_mc: 0 });
});

failover('every upstream failing → the error the last failure gives today, nothing charged, every attempt on the row', async ({ h, primary, secondary }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  for (const stream of [false, true]) {
    primary.setBehaviour({ kind: 'error', status: 500 });
    secondary.setBehaviour({ kind: 'error', status: 429, retryAfterSeconds: 9 });
    const response = await h.post('/v1/chat/completions', account.key, { model: 'gpt-4o-mini', messages, max_tokens: 50, stream });
    assert.is(response.status, 429);
    assert.is(response.headers.get('retry-after'), '9');
    const row = await usageRow(h, response.headers.get('x-request-id')!);
    assert.equal([row.status, row.charged_mc, row.upstream, row.upstream_attempts], ['upstream_error', 0, 'secondary', 'primary: 500; secondary: 429']);
    const hold = await h.db.selectFrom('holds').select('status').where('request_id', '=', row.request_id).executeTakeFirstOrThrow();
    assert.is(hold.status, 'voided');
  }
  // Through the SDK: the last failure's class; a refused connection then a 500 → 502 upstream_error.
  secondary.setBehaviour({ kind: 'error', status: 500 });
  const error = await rejects(() => account.client.chat.completions.create({ model: 'gpt-4o', messages, max_tokens: 50 }), OpenAI.InternalServerError);
  assert.is((error as InstanceType<typeof OpenAI.APIError>).status, 502);
  assert.is((error as InstanceType<typeof OpenAI.APIError>).code, 'upstream_error');
  assert.equal([primary.requestCount, secondary.requestCount], [2, 3]);
  assert.equal(await usageEntries(h, account.userId), [], 'nothing charged');
  assert.equal(await balanceOf(h, account.userId), { balance_mc: HUNDRED_CREDITS_MC, held_mc: 0 });
});

failover('a model on the rate card that no upstream serves → 400 model_not_found naming model; nothing held or sent', async ({ h, primary, secondary }) => {
  const account = await h.account(HUNDRED_CREDITS_MC);
  const response = await h.post('/v1/embeddings', account.key, { model: 'text-embedding-3-large', input: 'hello' });
  assert.is(response.status, 400);
  const { error } = (await response.json()) as { error: { code: string; param: string; message: string } };
  assert.equal([error.code, error.param], ['model_not_found', 'model']);
  assert.match(error.message, /not served by any upstream/);
  assert.equal([primary.requestCount, secondary.requestCount], [0, 0]);
  assert.equal(await h.db.selectFrom('holds').select('id').where('user_id', '=', account.userId).execute(), []);
});

failover.run();

// The start checks the file against the rate card (the real server process, on a new SQLite file).
const start = suite('the start checks UPSTREAMS_FILE against the rate card');

function serverEnv(upstreams: object): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'tokentab-upstreams-start-'));
  writeFileSync(join(dir, 'upstreams.json'), JSON.stringify(upstreams));
  return { ...DEMO_ENV, PAYMENTS: 'off', DATABASE_URL: `sqlite:${join(dir, 'tokentab.db')}`, UPSTREAMS_FILE: join(dir, 'upstreams.json'), OPENAI_BASE_URL: '' };
}

/** The real server on a free port (PORT=0, so no port is guessed): resolves with its output once it listens, or once it exits. */
function runServer(env: Record<string, string>): { ready: Promise<string>; exited: Promise<number | null>; stop: () => void } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env: { ...process.env, ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const ready = new Promise<string>((resolve) => {
    const read = (chunk: Buffer) => {
      output += chunk;
      if (/listening on/.test(output)) resolve(output);
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    void exited.then(() => resolve(output));
  });
  return { ready, exited, stop: () => child.kill('SIGTERM') };
}

start('a routed model that is not on the rate card stops the start with one line naming it', async () => {
  const server = runServer(serverEnv({ upstreams: [{ name: 'local', base_url: 'http://127.0.0.1:9/v1', models: { 'gpt-4o-mini': 'llama3.1', 'gpt-9': 'gpt-9' } }] }));
  const output = await server.ready;
  assert.is(await server.exited, 1);
  assert.match(output, /UPSTREAMS_FILE \S+: routes gpt-9, not on the rate card: add rates first/);
  assert.not.match(output, /listening/);
});

start('a model on the card that no upstream serves is a warning: the server starts', async () => {
  const server = runServer(serverEnv({ upstreams: [{ name: 'local', base_url: 'http://127.0.0.1:9/v1', models: { 'gpt-4o-mini': 'llama3.1' } }] }));
  const output = await server.ready;
  assert.match(output, /no upstream serves gpt-4o, text-embedding-3-large, text-embedding-3-small: calls for them are refused \(model_not_found\)/);
  assert.match(output, /listening on/);
  server.stop();
  assert.is(await server.exited, 0);
});

start.run();
